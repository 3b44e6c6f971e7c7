"""A real HTTP server on a free loopback port that records webhook POSTs, and can answer the
first ones with an error (to see the sender retry)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Receiver:
    url: str
    fail_first: int = 0
    status: int = 503
    bodies: list[Any] = field(default_factory=list)  # every POST body, failed ones included
    answered: list[int] = field(default_factory=list)


@contextmanager
def webhook_receiver(*, fail_first: int = 0, status: int = 503) -> Iterator[Receiver]:
    receiver = Receiver(url="", fail_first=fail_first, status=status)
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            with lock:
                receiver.bodies.append(body)
                failing = len(receiver.bodies) <= receiver.fail_first
                code = receiver.status if failing else 200
                receiver.answered.append(code)
            self.send_response(code)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/noria"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

"""The model server the quickstart runs in the background: ``noria serve --deployment`` as a
child process on a loopback port, with a short prediction-log roll so that what it answered
is readable a second later, stopped on every way out (SIGTERM, then SIGKILL)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from noria.errors import BackendError, InvalidArgument
from noria.settings import Settings

LOG_MAX_AGE_S = 1.0  # roll prediction-log segments after a second: monitors read them soon
WATCH_INTERVAL_S = 0.5  # pick up the challenger's route quickly
READY_TIMEOUT_S = 90.0
STOP_TIMEOUT_S = 20.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def check_port_free(port: int) -> int:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError as exc:
            raise InvalidArgument(
                f"Port {port} on 127.0.0.1 is taken ({exc.strerror}); pick another with "
                "--port, or leave --port out to use a free one."
            ) from None
    return port


class ModelServer:
    """A running ``noria serve`` process; :func:`serving` starts and stops it."""

    def __init__(self, process: subprocess.Popen[bytes], url: str, log: Path) -> None:
        self.process = process
        self.url = url
        self.log = log

    @property
    def pid(self) -> int:
        return self.process.pid

    def wait_ready(self, timeout: float = READY_TIMEOUT_S) -> None:
        import httpx

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BackendError(
                    f"noria serve exited with code {self.process.returncode} before it was "
                    f"ready; its log ({self.log}) ends with: {self.last_lines()}"
                )
            try:
                if httpx.get(f"{self.url}/health/ready", timeout=1.0).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise BackendError(f"noria serve at {self.url} was not ready after {timeout:g} s.")

    def stop(self) -> None:
        """SIGTERM (the server writes its queued log), then SIGKILL if it hangs."""
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def last_lines(self, count: int = 5) -> str:
        try:
            lines = self.log.read_text("utf-8", errors="replace").strip().splitlines()
        except OSError:
            return "(no log)"
        return " | ".join(lines[-count:]) or "(nothing)"


@contextmanager
def serving(settings: Settings, deployment: str, port: int, log: Path) -> Iterator[ModelServer]:
    """``noria serve --deployment <deployment>`` on ``port``, ready when this yields; stopped
    when the block ends, however it ends (an error, Ctrl-C)."""
    command = [
        sys.executable,
        "-m",
        "noria.cli.main",
        "serve",
        "--deployment",
        deployment,
        "--port",
        str(port),
        "--log-max-age-s",
        str(LOG_MAX_AGE_S),
        "--watch-interval",
        str(WATCH_INTERVAL_S),
        "--log-level",
        "warning",
    ]
    # The child reads the same stores as this process, whatever chose them here.
    env = {**os.environ, "NORIA_HOME": str(settings.home.expanduser().absolute())}
    env["NORIA_STORE_URI"] = settings.resolved_store_uri()
    artifacts = settings.resolved_artifact_uri()
    if artifacts is not None:
        env["NORIA_ARTIFACT_URI"] = artifacts
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as sink:
        process = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT, env=env)
    server = ModelServer(process, f"http://127.0.0.1:{port}", log)
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()

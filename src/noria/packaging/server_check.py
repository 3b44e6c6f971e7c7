"""``--verify``'s last part: serve the package from its fresh environment and ask it once.

The image's own command line (:mod:`noria.packaging.image_commands`) starts ``noria serve`` on
a free loopback port, with ``NORIA_HOME`` in the verification folder; once ``/health/ready``
answers, the image's health check is run, the input example is sent to
``POST /v1/models/<name>/predict``, and the server is stopped with SIGTERM, as ``docker
stop`` would. A failure is a :class:`ServerFailed` carrying the server's last log lines.
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from noria.packaging.build import MODEL
from noria.packaging.image_commands import read_image_commands
from noria.packaging.steps import StepFailed, StepTiming, last_error_line

T = TypeVar("T")
READY_TIMEOUT_S = 120.0  # importing pandas and a model library in a cold environment is slow
STOP_TIMEOUT_S = 30.0
HEALTH_TIMEOUT_S = 10.0
LOG_LINES = 20


class ServerFailed(StepFailed):
    """A step against the packaged server failed; ``log`` holds the server's last lines."""

    def __init__(self, message: str, timing: StepTiming, log: tuple[str, ...]) -> None:
        shown = "".join(f"\n  {line}" for line in log)
        super().__init__(f"{message}; the server's last log lines:{shown}" if log else message,
                         timing)  # fmt: skip
        self.log = log


class _Problem(Exception):
    """What went wrong in one step, before it is told with the step's name and the log."""


def predict_through_server(
    out: Path, bin_dir: Path, folder: Path, body: dict[str, Any], steps: list[StepTiming],
    *, env: Mapping[str, str],
) -> list[Any]:  # fmt: skip
    """Start the package's server from the environment in ``bin_dir``, send it ``body``,
    stop it; returns the predictions it answered. Each step is timed into ``steps``."""
    commands = read_image_commands(out / "Dockerfile")
    port = _free_port()
    server = _Server(
        commands.server_command(bin_dir=bin_dir, model_dir=out / MODEL, port=port),
        port, folder, {**env, "NORIA_HOME": str(folder / "noria-home")},
    )  # fmt: skip
    try:
        model = _step(steps, server, "start noria serve (the image's command)", server.wait_ready)
        health = commands.health_command(bin_dir=bin_dir, port=port)
        _step(steps, server, "run the image's health check", lambda: server.run(health, env))
        predictions = _step(
            steps, server, "predict through the server", lambda: server.predict(model, body)
        )
    except BaseException:
        server.kill()  # without hiding the failure that is on its way up
        raise
    _step(steps, server, "stop the server (SIGTERM)", server.stop)
    return predictions


def _step(steps: list[StepTiming], server: _Server, name: str, action: Callable[[], T]) -> T:
    started = time.perf_counter()
    try:
        result = action()
    except _Problem as problem:
        timing = StepTiming(name, time.perf_counter() - started, ok=False)
        raise ServerFailed(f"{name} failed: {problem}", timing, server.last_lines()) from None
    steps.append(StepTiming(name, time.perf_counter() - started, ok=True))
    return result


class _Server:
    """One ``noria serve`` process writing its output to ``server.log``."""

    def __init__(self, command: list[str], port: int, folder: Path, env: dict[str, str]) -> None:
        self.url = f"http://127.0.0.1:{port}"
        self._log = folder / "server.log"
        with self._log.open("wb") as log:
            self._process = subprocess.Popen(
                command, cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT
            )

    def wait_ready(self) -> str:
        """Poll ``/health/ready``; the name of the one model served."""
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            code = self._process.poll()
            if code is not None:
                raise _Problem(f"the server exited with code {code} before it was ready")
            status, document = self._call("GET", "/health/ready", None, timeout=2)
            if status == 200:
                models = document.get("models", [])
                if len(models) != 1:
                    raise _Problem(f"the server serves {models}, not the one packaged model")
                return str(models[0])
            time.sleep(0.2)
        raise _Problem(f"/health/ready did not answer 200 within {READY_TIMEOUT_S:.0f} s")

    def run(self, command: list[str], env: Mapping[str, str]) -> None:
        try:
            done = subprocess.run(
                command, capture_output=True, text=True, env=dict(env),
                timeout=HEALTH_TIMEOUT_S, check=False,
            )  # fmt: skip
        except subprocess.TimeoutExpired:
            raise _Problem(f"it did not finish within {HEALTH_TIMEOUT_S:.0f} s") from None
        if done.returncode != 0:
            reason = last_error_line(done.stderr) or "no output"
            raise _Problem(f"it exited with code {done.returncode}: {reason}")

    def predict(self, model: str, body: dict[str, Any]) -> list[Any]:
        content = json.dumps(body, allow_nan=False).encode()
        status, document = self._call("POST", f"/v1/models/{model}/predict", content, timeout=60)
        if status != 200:
            raise _Problem(f"the server answered {status}: {document.get('message', document)}")
        predictions: list[Any] = document["predictions"]
        return predictions

    def _call(
        self, method: str, path: str, content: bytes | None, *, timeout: float
    ) -> tuple[int | None, dict[str, Any]]:
        """Status and JSON body; (None, {}) while nothing listens yet."""
        request = urllib.request.Request(
            f"{self.url}{path}", data=content, method=method,
            headers={"Content-Type": "application/json"},
        )  # fmt: skip
        try:
            with urllib.request.urlopen(request, timeout=timeout) as answer:
                return answer.status, _json(answer.read())
        except urllib.error.HTTPError as error:
            return error.code, _json(error.read())
        except (urllib.error.URLError, OSError):
            return None, {}

    def stop(self) -> None:
        self._process.terminate()
        try:
            code = self._process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.kill()
            raise _Problem(f"the server did not stop within {STOP_TIMEOUT_S:.0f} s") from None
        # uvicorn ends a graceful shutdown by re-raising the signal it stopped for.
        if code not in (0, -signal.SIGTERM, 128 + signal.SIGTERM):
            raise _Problem(f"the server exited with code {code}")

    def kill(self) -> None:
        if self._process.poll() is None:
            self._process.kill()
            self._process.wait()

    def last_lines(self) -> tuple[str, ...]:
        try:
            text = self._log.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ()
        return tuple(line for line in text.splitlines() if line.strip())[-LOG_LINES:]


def _json(content: bytes) -> dict[str, Any]:
    try:
        document = json.loads(content)
    except ValueError:
        return {"message": content[:200].decode(errors="replace")}
    return document if isinstance(document, dict) else {"message": document}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port

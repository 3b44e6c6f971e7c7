"""Start `noria server` and `mlflow server` as subprocesses on free loopback ports."""

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

import httpx

# No telemetry (DO_NOT_TRACK must be the word "true"). The other two only spare MLflow
# work that tracking does not need: the GenAI job runner (seven extra processes) and
# the extra get_run set_terminated makes to print the run's URL.
QUIET_MLFLOW = {
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "DO_NOT_TRACK": "true",
    "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
    "MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT": "true",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_healthy(url: str, process: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args!r} exited early with code {process.returncode}")
        try:
            if httpx.get(f"{url}/health", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"server at {url} did not become healthy in {timeout:.0f} s")


def stop_process(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the server's own process group (it may have forked workers), then wait."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=15)
            return
        except subprocess.TimeoutExpired:
            continue


@contextmanager
def _serve(command: list[str], port: int, log: Path, env: dict[str, str]) -> Iterator[str]:
    url = f"http://127.0.0.1:{port}"
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as sink:
        process = subprocess.Popen(
            command, env=env, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            _wait_healthy(url, process, timeout=180)
            yield url
        finally:
            stop_process(process)


def _environment() -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("NORIA_")}
    env.update(QUIET_MLFLOW)
    return env


@contextmanager
def noria_server(home: Path) -> Iterator[str]:
    """`noria server` over ``home`` (SQLite + local artifacts); yields its URL."""
    port = free_port()
    command = [sys.executable, "-m", "noria.cli.main", "--home", str(home), "server"]
    command += ["--port", str(port), "--log-level", "warning"]
    with _serve(command, port, home.parent / "noria-server.log", _environment()) as url:
        yield url


@contextmanager
def mlflow_server(home: Path) -> Iterator[str]:
    """`mlflow server` on SQLite in ``home`` with its default workers; yields its URL."""
    home.mkdir(parents=True)
    port = free_port()
    # `mlflow server` needs the full package; BENCH_MLFLOW_PYTHON may name another
    # virtualenv's python that has it (the dev venv has only mlflow-skinny).
    command = [os.environ.get("BENCH_MLFLOW_PYTHON", sys.executable), "-m", "mlflow", "server"]
    command += ["--backend-store-uri", f"sqlite:///{home / 'mlflow.db'}"]
    command += ["--artifacts-destination", str(home / "artifacts")]
    command += ["--host", "127.0.0.1", "--port", str(port)]
    with _serve(command, port, home.parent / "mlflow-server.log", _environment()) as url:
        yield url

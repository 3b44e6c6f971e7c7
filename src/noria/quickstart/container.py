"""Package the champion as a container build context, and verify it in the background.

The build (Dockerfile, lock, Noria wheel, model) takes seconds and runs here. Verification
(a fresh virtual environment, the lock installed from the package index, the image's own
server started and asked to predict) takes a minute or more, so it runs as a child process
(:mod:`noria.quickstart.package_check`) while the other stages go on; the summary waits for
it. Stopping it sends SIGINT, so it removes its temporary environment and server.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from noria.client import Client
    from noria.packaging.build import PackageInfo

VERIFY_TIMEOUT_S = 600.0


def build(client: Client, uri: str, out: Path) -> PackageInfo:
    """``noria models package <uri> --out <out>`` in code."""
    from noria.fluent_models import model_directory
    from noria.packaging.build import build_package

    return build_package(model_directory(uri, client=client), out, model_uri=uri)


@dataclass(frozen=True)
class Verification:
    ok: bool
    problem: str | None
    seconds: float
    steps: list[dict[str, Any]]


class BackgroundVerify:
    """``verify_package(out)`` in a child process; :meth:`result` waits for its answer."""

    def __init__(self, out: Path, log: Path) -> None:
        self._out = out
        self._log = log
        self._process: subprocess.Popen[bytes] | None = None
        self._started = 0.0

    def start(self) -> None:
        command = [sys.executable, "-m", "noria.quickstart.package_check", str(self._out)]
        self._log.parent.mkdir(parents=True, exist_ok=True)
        with self._log.open("wb") as errors:
            self._process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors)
        self._started = time.monotonic()

    def result(self, timeout: float = VERIFY_TIMEOUT_S) -> Verification:
        process = self._require()
        try:
            output, _ = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            return Verification(False, f"not done after {timeout:g} s", timeout, [])
        seconds = round(time.monotonic() - self._started, 1)
        try:
            found = json.loads(output.decode("utf-8").strip().splitlines()[-1])
        except (ValueError, IndexError):
            problem = f"the verification exited with code {process.returncode}; see {self._log}"
            return Verification(False, problem, seconds, [])
        return Verification(bool(found["ok"]), found.get("problem"), seconds, found["steps"])

    def stop(self) -> None:
        """Interrupt it (it cleans up its environment and server), then kill if it lingers."""
        process = self._process
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def _require(self) -> subprocess.Popen[bytes]:
        if self._process is None:
            raise RuntimeError("BackgroundVerify.start() was not called")
        return self._process

"""Timed subprocess steps (pip, a fresh interpreter) that fail with one readable line."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from noria.errors import BackendError

STEP_TIMEOUT_S = 1800  # installing a large lock from a slow index can take many minutes


@dataclass(frozen=True, slots=True)
class StepTiming:
    name: str
    seconds: float
    ok: bool


class StepFailed(BackendError):
    """A command of the packaging or verification failed; ``timing`` says how long it ran."""

    def __init__(self, message: str, timing: StepTiming) -> None:
        super().__init__(message)
        self.timing = timing


def run_step(
    name: str,
    command: Sequence[str],
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> tuple[subprocess.CompletedProcess[str], StepTiming]:
    """Run ``command``; a non-zero exit raises :class:`StepFailed` naming the step and the
    command's last error line (pip's ``ERROR: …``)."""
    started = time.perf_counter()
    try:
        done = subprocess.run(
            list(command),
            capture_output=True,
            text=True,
            cwd=cwd,
            env=None if env is None else dict(env),
            timeout=STEP_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        timing = StepTiming(name, time.perf_counter() - started, ok=False)
        raise StepFailed(f"{name} failed: {exc}", timing) from None
    timing = StepTiming(name, time.perf_counter() - started, ok=done.returncode == 0)
    if done.returncode != 0:
        reason = last_error_line(done.stderr) or last_error_line(done.stdout) or "no output"
        raise StepFailed(f"{name} failed (exit {done.returncode}): {reason}", timing)
    return done, timing


def last_error_line(output: str) -> str:
    """pip's last ``ERROR:`` line, else the last non-blank line (a traceback's exception)."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("ERROR:")]
    return (errors or lines or [""])[-1]

"""Prove a package works without Docker: install it into a fresh virtual environment, start
the image's server from there and check that it answers as the model predicts here.

The steps mirror the Dockerfile: a new virtual environment of the model's Python minor
version, Noria from ``wheels/`` with no index, then ``requirements.lock`` from the configured
index. The Dockerfile's own ``noria serve`` command then runs from that environment on a free
port (:mod:`noria.packaging.server_check`); once ready, the Dockerfile's health check is run,
the stored input example is sent to ``POST /v1/models/<name>/predict``, and the answer must
equal what :mod:`noria.packaging.probe` predicts in this process (exactly for scikit-learn,
within a stated tolerance for other flavors: see :mod:`noria.packaging.compare`).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from noria.errors import InvalidArgument, NotFound, Unsupported
from noria.models.input_example import read_example
from noria.models.manifest import InputExampleRef, read_manifest
from noria.packaging import probe
from noria.packaging.build import LOCK, MODEL, PACKAGE_MARKER, WHEELS, is_package
from noria.packaging.compare import comparison_for, first_difference
from noria.packaging.dockerfile import python_minor
from noria.packaging.example_request import as_answer_rows, example_body
from noria.packaging.server_check import ServerFailed, predict_through_server
from noria.packaging.steps import StepFailed, StepTiming, run_step
from noria.packaging.wheel import wheel_version


@dataclass(frozen=True, slots=True)
class VerifyResult:
    ok: bool
    steps: tuple[StepTiming, ...]
    comparison: str  # "exact", or the tolerance used
    expected: Any  # {"predict": rows} in this process (JSON values), None if not reached
    actual: Any  # {"predict": rows} the server answered, None if not reached
    problem: str | None  # what failed (a server's failure adds its last log lines)
    warnings: tuple[str, ...]  # warnings while loading here, prefixed with where
    server_log: tuple[str, ...] = ()  # the server's last log lines, when a server step failed


def verify_package(out: Path) -> VerifyResult:
    """Install the package in ``out`` into a fresh virtual environment, serve it from there
    and compare the server's answer to the input example with this process's prediction."""
    model_dir = _check_package(out)
    manifest = read_manifest(model_dir)
    comparison = comparison_for(manifest.flavor)
    python = _interpreter(python_minor(manifest.environment.python))
    started = time.perf_counter()
    probed = probe.predict_example(model_dir)
    expected = {"predict": as_answer_rows(probed["outputs"]["predict"])}
    body = example_body(read_example(model_dir, _example_ref(model_dir)))
    steps = [StepTiming("predict in this process", time.perf_counter() - started, ok=True)]
    warnings = tuple(f"here: {text}" for text in probed.get("warnings", []))
    with tempfile.TemporaryDirectory(prefix="noria-verify-") as folder:
        try:
            bin_dir = _fresh_environment(out, Path(folder), python, steps)
            answer = predict_through_server(
                out, bin_dir, Path(folder), body, steps, env=_clean_environment()
            )
        except StepFailed as failure:
            steps.append(failure.timing)
            log = failure.log if isinstance(failure, ServerFailed) else ()
            return VerifyResult(False, tuple(steps), comparison, expected, None,
                                failure.message, warnings, log)  # fmt: skip
    actual = {"predict": answer}
    difference = first_difference(expected, actual, exact=comparison == "exact")
    problem = None if difference is None else f"predictions differ ({comparison}) at {difference}"
    return VerifyResult(problem is None, tuple(steps), comparison, expected, actual, problem,
                        warnings)  # fmt: skip


def _fresh_environment(out: Path, folder: Path, python: str, steps: list[StepTiming]) -> Path:
    """A new virtual environment holding the package's Noria and lock; its ``bin`` folder."""
    venv = folder / "venv"
    fresh = str(venv / "bin" / "python")
    wheel = next((out / WHEELS).glob("noria-*.whl"))
    pip = [fresh, "-m", "pip", "install", "--no-cache-dir", "--quiet"]
    commands = [
        ("create a fresh virtual environment", [python, "-m", "venv", str(venv)]),
        ("install Noria from wheels/",
         [*pip, "--no-index", "--find-links", str(out / WHEELS), "--no-deps",
          f"noria=={wheel_version(wheel)}"]),
        (f"install {LOCK}", [*pip, "-r", str(out / LOCK)]),
    ]  # fmt: skip
    for name, command in commands:
        steps.append(run_step(name, command, cwd=folder, env=_clean_environment())[1])
    return venv / "bin"


def _check_package(out: Path) -> Path:
    if not is_package(out):
        raise NotFound(
            f"{out} is not a Noria package ({PACKAGE_MARKER} is missing); write one with "
            "`noria models package <uri> --out DIR`"
        )
    if not any((out / WHEELS).glob("noria-*.whl")):
        raise NotFound(f"{out / WHEELS} holds no Noria wheel; package the model again")
    model_dir = out / MODEL
    if read_manifest(model_dir).input_example is None:
        raise InvalidArgument(
            f"the model in {model_dir} has no input example, so there is nothing to predict "
            "on; log the model again with input_example=…"
        )
    return model_dir


def _interpreter(minor: str) -> str:
    """A Python of the model's minor version: this one, or ``python3.X`` on the PATH."""
    if minor == f"{sys.version_info.major}.{sys.version_info.minor}":
        return sys.executable
    found = shutil.which(f"python{minor}")
    if found is None:
        raise Unsupported(
            f"the model was saved with Python {minor}, which is not on the PATH here "
            f"(this is Python {sys.version_info.major}.{sys.version_info.minor}); "
            f"install python{minor} to verify, or build the image"
        )
    return found


def _example_ref(model_dir: Path) -> InputExampleRef:
    ref = read_manifest(model_dir).input_example
    if ref is None:  # checked by _check_package already
        raise InvalidArgument(f"the model in {model_dir} has no input example")
    return ref


def _clean_environment() -> dict[str, str]:
    # Nothing from this environment may leak into the fresh one: not its imports, not its
    # stores (the packaged server's prediction log goes to a NORIA_HOME of its own).
    leaking = {"PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "VIRTUAL_ENV"}
    leaking |= {"PIP_USER", "PIP_TARGET", "PIP_PREFIX", "PIP_ROOT"}  # installs elsewhere
    return {
        key: value
        for key, value in os.environ.items()
        if key not in leaking and not key.startswith("NORIA_")
    }

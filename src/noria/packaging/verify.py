"""Prove a package works without Docker: install it into a fresh virtual environment and
check the model predicts there as it does here.

The steps mirror the Dockerfile: a new virtual environment of the model's Python minor
version, Noria from ``wheels/`` with no index, then ``requirements.lock`` from the configured
index. A small program (:mod:`noria.packaging.probe`) then loads ``model/`` in that
environment, predicts on the stored input example and prints the outputs as JSON, which must
equal what the same program gives in this process (exactly for scikit-learn, within a stated
tolerance for other flavors: see :mod:`noria.packaging.compare`). Once ``noria serve``
exists, this will start the server from that environment and send it the example instead.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from noria.errors import InvalidArgument, NotFound, Unsupported
from noria.models.manifest import read_manifest
from noria.packaging import probe
from noria.packaging.build import LOCK, MODEL, PACKAGE_MARKER, WHEELS, is_package
from noria.packaging.compare import comparison_for, first_difference
from noria.packaging.dockerfile import python_minor
from noria.packaging.steps import StepFailed, StepTiming, run_step
from noria.packaging.wheel import wheel_version

_SHOWN_CHARS = 200


@dataclass(frozen=True, slots=True)
class VerifyResult:
    ok: bool
    steps: tuple[StepTiming, ...]
    comparison: str  # "exact", or the tolerance used
    expected: Any  # the outputs in this process (JSON values), None if not reached
    actual: Any  # the outputs in the fresh environment, None if not reached
    problem: str | None  # one line saying what failed
    warnings: tuple[str, ...]  # warnings while loading, prefixed with where


def verify_package(out: Path) -> VerifyResult:
    """Install the package in ``out`` into a fresh virtual environment and compare the
    model's predictions there with this process's."""
    model_dir = _check_package(out)
    manifest = read_manifest(model_dir)
    comparison = comparison_for(manifest.flavor)
    python = _interpreter(python_minor(manifest.environment.python))
    started = time.perf_counter()
    expected = probe.predict_example(model_dir)
    steps = [StepTiming("predict in this process", time.perf_counter() - started, ok=True)]
    with tempfile.TemporaryDirectory(prefix="noria-verify-") as folder:
        try:
            actual = _predict_in_fresh_environment(out, Path(folder), python, steps)
        except StepFailed as failure:
            steps.append(failure.timing)
            return VerifyResult(False, tuple(steps), comparison, expected["outputs"], None,
                                failure.message, _warnings(expected, None))  # fmt: skip
    difference = first_difference(
        expected["outputs"], actual["outputs"], exact=comparison == "exact"
    )
    problem = None if difference is None else f"predictions differ ({comparison}) at {difference}"
    return VerifyResult(
        problem is None, tuple(steps), comparison, expected["outputs"], actual["outputs"],
        problem, _warnings(expected, actual),
    )  # fmt: skip


def _predict_in_fresh_environment(
    out: Path, folder: Path, python: str, steps: list[StepTiming]
) -> dict[str, Any]:
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
    done, timing = run_step(
        "predict in the fresh environment",
        [fresh, "-I", "-c", Path(probe.__file__).read_text(encoding="utf-8"), str(out / MODEL)],
        cwd=folder,
        env=_clean_environment(),
    )
    try:
        result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise StepFailed(
            f"the fresh environment printed no predictions: {done.stdout[-_SHOWN_CHARS:]!r}",
            StepTiming(timing.name, timing.seconds, ok=False),
        ) from None
    steps.append(timing)
    return result


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


def _clean_environment() -> dict[str, str]:
    # Nothing from this environment may leak into the fresh one's imports.
    leaking = {"PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "VIRTUAL_ENV"}
    leaking |= {"PIP_USER", "PIP_TARGET", "PIP_PREFIX", "PIP_ROOT"}  # installs elsewhere
    return {key: value for key, value in os.environ.items() if key not in leaking}


def _warnings(expected: dict[str, Any], actual: dict[str, Any] | None) -> tuple[str, ...]:
    here = [f"here: {text}" for text in expected.get("warnings", [])]
    there = [f"fresh environment: {text}" for text in (actual or {}).get("warnings", [])]
    return (*here, *there)

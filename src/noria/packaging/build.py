"""Write a model's container build context.

>>> info = build_package(model_dir, Path("out/credit"), model_uri="models:/credit@champion")
>>> sorted(p.name for p in info.out.iterdir())
['.dockerignore', 'Dockerfile', 'README.md', 'model', 'noria-package.json',
 'requirements.lock', 'wheels']

The context is written into a temporary sibling of ``out`` and swapped into place at the
end, so a failure leaves ``out`` as it was. ``out`` must be new, empty, or a package written
before (recognised by its ``noria-package.json``), which is replaced whole.
"""

from __future__ import annotations

import json
import shutil
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from noria.errors import AlreadyExists
from noria.models.manifest import read_manifest
from noria.packaging.dockerfile import ImageSpec, dockerfile_text, dockerignore_text
from noria.packaging.lock import lock_requirements
from noria.packaging.readme import readme_text
from noria.packaging.steps import StepTiming
from noria.packaging.wheel import provide_noria_wheel, wheel_version

PACKAGE_MARKER = "noria-package.json"
MODEL = "model"
WHEELS = "wheels"
LOCK = "requirements.lock"
DOCKERFILE = "Dockerfile"


@dataclass(frozen=True, slots=True)
class PackageInfo:
    out: Path
    model_uri: str
    flavor: str
    base_image: str
    python_version: str  # the model's, e.g. 3.11.7
    noria_version: str
    noria_wheel: Path
    requirements: dict[str, str]  # the lock: distribution → exact version
    notes: tuple[str, ...]  # pins the lock could not make, or where the model's pin won
    replaced_previous: bool
    steps: tuple[StepTiming, ...]


def build_package(
    model_dir: Path, out: Path, *, model_uri: str, noria_wheel: Path | None = None
) -> PackageInfo:
    """Write the build context of the model in ``model_dir`` (logged as ``model_uri``) to
    ``out``. Noria's wheel is built from the source tree Noria runs from, unless
    ``noria_wheel`` is given."""
    manifest = read_manifest(model_dir)
    replaced = _check_target(out)
    started = time.perf_counter()
    staging = out.parent / f".{out.name}.packaging-{uuid.uuid4().hex[:12]}"
    staging.mkdir(parents=True)
    try:
        shutil.copytree(model_dir, staging / MODEL, ignore=shutil.ignore_patterns("__pycache__"))
        wheel, wheel_timing = provide_noria_wheel(staging / WHEELS, given=noria_wheel)
        spec = ImageSpec(
            python_version=manifest.environment.python,
            noria_version=wheel_version(wheel),
            model_uri=model_uri,
            flavor=manifest.flavor,
        )
        lock = lock_requirements(manifest.environment.packages, noria_version=spec.noria_version)
        _write(staging / LOCK, lock.text(model_uri=model_uri))
        _write(staging / DOCKERFILE, dockerfile_text(spec))
        _write(staging / ".dockerignore", dockerignore_text())
        _write(staging / "README.md", readme_text(spec, manifest, staging / MODEL))
        _write(staging / PACKAGE_MARKER, _marker(spec, lock.pins()))
        _swap_into_place(staging, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    total = StepTiming("write the build context", time.perf_counter() - started, ok=True)
    return PackageInfo(
        out=out,
        model_uri=model_uri,
        flavor=manifest.flavor,
        base_image=spec.base_image,
        python_version=spec.python_version,
        noria_version=spec.noria_version,
        noria_wheel=out / WHEELS / wheel.name,
        requirements=lock.pins(),
        notes=lock.notes,
        replaced_previous=replaced,
        steps=(*([wheel_timing] if wheel_timing else []), total),
    )


def is_package(folder: Path) -> bool:
    return (folder / PACKAGE_MARKER).is_file()


def _check_target(out: Path) -> bool:
    """Whether ``out`` holds a previous package (to replace); refuse anything else there."""
    if not out.exists():
        return False
    if not out.is_dir():
        raise AlreadyExists(f"--out {out} is a file; give a new or empty directory")
    if is_package(out):
        return True
    if any(out.iterdir()):
        raise AlreadyExists(
            f"--out {out} is not empty and holds no Noria package ({PACKAGE_MARKER} is "
            "missing), so it is left alone; give a new or empty directory, or a previous "
            "package to replace"
        )
    return False


def _swap_into_place(staging: Path, out: Path) -> None:
    if not out.exists():
        staging.rename(out)
        return
    old = out.parent / f".{out.name}.replaced-{uuid.uuid4().hex[:12]}"
    out.rename(old)  # an empty folder or the previous package, checked above
    try:
        staging.rename(out)
    except OSError:
        old.rename(out)  # put the previous package back
        raise
    shutil.rmtree(old, ignore_errors=True)


def _marker(spec: ImageSpec, pins: dict[str, str]) -> str:
    record = {
        "package_format": 1,
        "model_uri": spec.model_uri,
        "flavor": spec.flavor,
        "python": spec.python_version,
        "base_image": spec.base_image,
        "noria_version": spec.noria_version,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "requirements": pins,
    }
    return json.dumps(record, indent=2) + "\n"


def _write(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")

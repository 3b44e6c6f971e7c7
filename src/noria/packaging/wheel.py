"""The wheel of Noria that a package installs (``wheels/``), built from the running source.

A package must serve the model with the Noria that made it, not whatever release an index
holds under that name. When Noria is installed from a source tree (``pip install -e .`` or
``pip install .``), its wheel is built from that tree with ``pip wheel --no-deps``; otherwise
(an installed release) there is no tree to build from, and the caller passes a wheel.
"""

from __future__ import annotations

import json
import shutil
import sys
import tomllib
from importlib import metadata
from pathlib import Path
from urllib.parse import unquote, urlparse

import noria
from noria.errors import InvalidArgument, Unsupported
from noria.packaging.steps import StepTiming, run_step


def provide_noria_wheel(
    wheels: Path, *, given: Path | None = None
) -> tuple[Path, StepTiming | None]:
    """Put a Noria wheel in ``wheels``: a copy of ``given``, or one built from the source
    tree this Noria runs from (with the step's timing)."""
    wheels.mkdir(parents=True, exist_ok=True)
    if given is not None:
        wheel_version(given)  # refuses a file that is not a Noria wheel
        if not given.is_file():
            raise InvalidArgument(f"--noria-wheel {given} does not exist; give a wheel file")
        return Path(shutil.copy2(given, wheels / given.name)), None
    root = noria_source_tree()
    _, timing = run_step(
        "build the Noria wheel",
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-cache-dir",
         "--quiet", "--wheel-dir", str(wheels), str(root)],
    )  # fmt: skip
    built = sorted(wheels.glob("noria-*.whl"))
    if len(built) != 1:
        raise Unsupported(f"pip wheel {root} left {len(built)} Noria wheels in {wheels}, not 1")
    return built[0], timing


def wheel_version(wheel: Path) -> str:
    """The version in a wheel's file name (``noria-0.1.0-py3-none-any.whl`` → ``0.1.0``)."""
    parts = wheel.name.split("-")
    if wheel.suffix != ".whl" or len(parts) < 5 or parts[0].lower() != "noria":
        raise InvalidArgument(
            f"{wheel} is not a Noria wheel: its name should be like "
            "noria-<version>-py3-none-any.whl"
        )
    return parts[1]


def noria_source_tree() -> Path:
    """The project folder this Noria is installed from: where pip's ``direct_url.json`` points
    (editable or local installs), else the folder above ``src/noria`` when it holds Noria's
    ``pyproject.toml``."""
    # src/noria/__init__.py → the project folder two levels above the package.
    above_src = Path(noria.__file__).resolve().parents[2:3]
    for folder in (_direct_url_folder(), *above_src):
        if folder is not None and _is_noria_project(folder):
            return folder
    raise Unsupported(
        f"Noria is not installed from a source tree (it runs from {Path(noria.__file__).parent}), "
        "so no wheel of it can be built here; pass --noria-wheel PATH with the wheel of "
        f"Noria {noria.__version__}"
    )


def _direct_url_folder() -> Path | None:
    try:
        text = metadata.distribution("noria").read_text("direct_url.json")
    except metadata.PackageNotFoundError:
        return None
    if not text:
        return None  # installed from an index: pip writes no direct_url.json
    try:
        record = json.loads(text)
    except ValueError:
        return None
    url = urlparse(str(record.get("url", "")))
    if url.scheme != "file" or "dir_info" not in record:
        return None  # an archive or a VCS URL: no folder to build from
    return Path(unquote(url.path))


def _is_noria_project(folder: Path) -> bool:
    pyproject = folder / "pyproject.toml"
    if not pyproject.is_file():
        return False
    try:
        project = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {})
    except (tomllib.TOMLDecodeError, UnicodeDecodeError):
        return False
    return isinstance(project, dict) and project.get("name") == "noria"

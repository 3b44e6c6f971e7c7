"""Where a scheduler may import pipelines from: its project folder only.

Schedules live in the metadata store, possibly behind a server; a scheduler that imported
whatever module a schedule names would run code that anyone able to write a schedule
chose. So it only imports pipelines whose file lies inside the folder it was started for.
"""

from __future__ import annotations

import importlib.util
import sys
from importlib.machinery import ModuleSpec, PathFinder
from pathlib import Path

from noria.errors import InvalidArgument


def _spec(top: str) -> ModuleSpec | None:
    """Where ``import top`` would come from (the working directory first, as the pipeline
    loader imports), found without running anything."""
    loaded = sys.modules.get(top)
    if loaded is not None:
        return loaded.__spec__
    found = PathFinder.find_spec(top, [str(Path.cwd()), *sys.path])
    return found if found is not None else importlib.util.find_spec(top)


def _location(ref: str) -> Path | None:
    """The file or package folder ``ref`` would be imported from; ``None`` when there is
    none, so that importing it fails with its own message."""
    target = ref.rpartition(":")[0]
    if target.endswith(".py"):
        return Path(target).resolve()  # the loader opens it from the working directory
    try:
        spec = _spec(target.split(".")[0])
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    folders = list(spec.submodule_search_locations or [])
    place = folders[0] if folders else spec.origin
    if not place or not Path(place).is_absolute():  # built in, frozen: no file of ours
        return Path(f"/<{place or 'no file'}>")
    return Path(place).resolve()


def check_in_root(ref: str, root: Path) -> None:
    """Refuse a pipeline reference whose code lies outside ``root``."""
    found = _location(ref)
    if found is not None and not found.is_relative_to(root.resolve()):
        raise InvalidArgument(
            f"Pipeline {ref} is in {found}, outside the scheduler's project folder "
            f"{root.resolve()}: a scheduler only imports pipelines from its folder. Start it "
            "in the folder that holds the pipelines (or pass --root)."
        )

"""Pipeline modules written to a folder and imported fresh, so tests can edit code."""

from __future__ import annotations

import importlib
import shutil
import sys
import textwrap
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType


class Workspace:
    """A folder on ``sys.path`` whose modules get names unique to one test."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.suffix = uuid.uuid4().hex[:8]
        self._names: set[str] = set()

    def name(self, stem: str) -> str:
        return f"{stem}_{self.suffix}"

    def write(self, stem: str, source: str) -> Path:
        """Write ``<stem>_<suffix>.py``; ``{suffix}`` in the source names sibling modules."""
        path = self.folder / f"{self.name(stem)}.py"
        path.write_text(textwrap.dedent(source).replace("{suffix}", self.suffix))
        self._names.add(self.name(stem))
        return path

    def load(self, stem: str) -> ModuleType:
        """Import the module again from its file, after any edit (and its siblings too)."""
        shutil.rmtree(self.folder / "__pycache__", ignore_errors=True)
        for name in self._names:
            sys.modules.pop(name, None)
        importlib.invalidate_caches()
        return importlib.import_module(self.name(stem))

    def line_of(self, stem: str, marker: str) -> int:
        """The 1-based line holding ``marker`` in a written module."""
        lines = (self.folder / f"{self.name(stem)}.py").read_text().splitlines()
        return next(number for number, line in enumerate(lines, 1) if marker in line)

    def cleanup(self) -> None:
        for name in self._names:
            sys.modules.pop(name, None)


@contextmanager
def workspace(folder: Path) -> Iterator[Workspace]:
    folder.mkdir(parents=True, exist_ok=True)
    sys.path.insert(0, str(folder))
    space = Workspace(folder)
    try:
        yield space
    finally:
        space.cleanup()
        sys.path.remove(str(folder))

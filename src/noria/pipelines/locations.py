"""Where things are in the user's code, and problems reported there (``file:line: …``)."""

from __future__ import annotations

import inspect
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True, slots=True)
class SourceLocation:
    file: str
    line: int

    def __str__(self) -> str:
        return f"{_shown(self.file)}:{self.line}"


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a pipeline, found before anything runs."""

    location: SourceLocation
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"


def _shown(file: str) -> str:
    """Paths under the working directory are shown relative to it, as compilers do."""
    try:
        relative = Path(file).resolve().relative_to(Path.cwd().resolve())
    except (ValueError, OSError):
        return file
    return str(relative) if not str(relative).startswith("..") else file


def definition_location(function: Callable[..., Any]) -> SourceLocation:
    """Where ``function`` is defined (the line of its first decorator, or of its ``def``)."""
    code = getattr(inspect.unwrap(function), "__code__", None)
    if code is None:
        return SourceLocation("<unknown>", 0)
    return SourceLocation(code.co_filename, code.co_firstlineno)


def caller_location(depth: int) -> SourceLocation:
    """The file and line ``depth`` frames above the caller of this function."""
    frame = sys._getframe(depth + 1)
    return SourceLocation(os.fspath(frame.f_code.co_filename), frame.f_lineno)

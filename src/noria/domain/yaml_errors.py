"""One wording for YAML syntax errors in the files users edit (schemas, gate policies)."""

from __future__ import annotations

from typing import Any

from noria.errors import InvalidArgument


def yaml_syntax_error(exc: Any, source: str) -> InvalidArgument:
    """``<source> line N: not valid YAML: <problem>`` from a ``yaml.YAMLError``."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    if mark is None:
        return InvalidArgument(f"{source}: not valid YAML: {exc}")
    parts = (getattr(exc, "context", None), getattr(exc, "problem", None))
    problem = ": ".join(part for part in parts if part)
    return InvalidArgument(f"{source} line {mark.line + 1}: not valid YAML: {problem}")

"""Small literal values (parameters): their JSON form, used in records and cache keys.

A value is a parameter when it is made of JSON's types (tuples count as lists) or of a
few well-known value types (paths, dates, enums). Anything else passed to a step in the
pipeline body is stored as an artifact instead, and its digest goes into the cache key.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import math
from collections.abc import Mapping
from pathlib import PurePath
from typing import Any


class NotALiteral(ValueError):
    """The value is not a parameter (it becomes an artifact instead)."""


def literal_form(value: Any) -> Any:
    """The value as JSON; raises ``NotALiteral`` for anything else.

    Non-JSON scalars are tagged so they never collide with a string of the same text:
    ``Path("a")`` → ``{"$path": "a"}``.
    """
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float | enum.Enum | PurePath | dt.datetime | dt.date | dt.time):
        return _tagged_scalar(value)
    if isinstance(value, list | tuple):
        return [literal_form(item) for item in value]
    if isinstance(value, Mapping):
        if not all(isinstance(key, str) for key in value):
            raise NotALiteral("a mapping with non-string keys")
        return {key: literal_form(item) for key, item in value.items()}
    raise NotALiteral(f"a {type(value).__qualname__}")


def _tagged_scalar(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else {"$float": repr(value)}
    if isinstance(value, enum.Enum):
        kind = type(value)
        return {
            "$enum": f"{kind.__module__}.{kind.__qualname__}",
            "value": literal_form(value.value),
        }
    if isinstance(value, PurePath):
        return {"$path": str(value)}
    return {"$" + type(value).__name__: value.isoformat()}  # datetime, date, time


def is_literal(value: Any) -> bool:
    try:
        literal_form(value)
    except NotALiteral:
        return False
    return True


def canonical_json(value: Any) -> str:
    """One spelling per value (sorted keys, no spaces): what digests are taken over."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)

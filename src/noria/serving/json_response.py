"""JSON answers encoded with orjson: NumPy arrays and scalars as they are, NaN as null."""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

import orjson
from fastapi.responses import Response

_OPTIONS = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS


class JsonResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=_OPTIONS, default=_plain)


def _plain(value: Any) -> Any:
    """What orjson cannot encode itself: bytes (as base64), NumPy objects and timestamps."""
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if hasattr(value, "tolist"):  # NumPy scalars and object arrays
        return value.tolist()
    if isinstance(value, dt.date | dt.time) or hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")

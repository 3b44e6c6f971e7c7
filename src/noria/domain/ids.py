"""Identifiers: 32 lowercase hex characters, ordered by creation time.

The first 12 hex digits are the Unix time in milliseconds, the rest random, so
new ids sort after old ones and B-tree indexes stay compact (like UUIDv7).
"""

from __future__ import annotations

import re
import secrets
import time

_ID_PATTERN = re.compile(r"[0-9a-f]{32}")


def new_id() -> str:
    """A fresh time-ordered id, e.g. ``'0193a5c1f2e07d3c9b1e4a6f8d2c0b7e'``."""
    millis = time.time_ns() // 1_000_000
    return f"{millis:012x}{secrets.token_hex(10)}"


def is_id(text: str) -> bool:
    return _ID_PATTERN.fullmatch(text) is not None

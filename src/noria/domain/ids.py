"""Identifiers: 32 lowercase hex characters, ordered by creation time.

The first 12 hex digits are the Unix time in milliseconds, the rest random, so
new ids sort after old ones and B-tree indexes stay compact (like UUIDv7). Within
one process ids are strictly increasing, even several in one millisecond (as
ULID's monotonic mode does): "newest first" never depends on chance.
"""

from __future__ import annotations

import re
import secrets
import threading
import time

_ID_PATTERN = re.compile(r"[0-9a-f]{32}")
_RANDOM_BITS = 80


class _Sequence:
    """The previous id's (millis, random part), so the next one sorts after it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._millis = 0
        self._random = 0

    def next(self, millis: int) -> tuple[int, int]:
        with self._lock:
            if millis <= self._millis and self._random + 1 < 1 << _RANDOM_BITS:
                millis, random = self._millis, self._random + 1  # same ms, or clock stepped back
            else:
                random = secrets.randbits(_RANDOM_BITS - 1)  # room to count up within a ms
            self._millis, self._random = millis, random
            return millis, random


_sequence = _Sequence()


def new_id() -> str:
    """A fresh time-ordered id, e.g. ``'0193a5c1f2e07d3c9b1e4a6f8d2c0b7e'``."""
    millis, random = _sequence.next(time.time_ns() // 1_000_000)
    return f"{millis:012x}{random:020x}"


def is_id(text: str) -> bool:
    return _ID_PATTERN.fullmatch(text) is not None

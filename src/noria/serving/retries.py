"""When to try again to load a version that could not be served.

A version that failed to load (missing files, a broken manifest, a model that fails on its
own input example) is tried again after a pause that doubles with each failure, from the
watch interval up to five minutes: a passing failure heals itself, a lasting one is not
reloaded every few seconds.
"""

from __future__ import annotations

import time
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
MAX_RETRY_PAUSE_S = 300.0


@dataclass(slots=True)
class _Failed:
    version: int
    failures: int
    retry_at: float  # time.monotonic()


class RetryBook(Generic[K]):
    """The versions that failed to load, by what they were meant to serve (a model name, a
    deployment's route), with when each may be tried again."""

    def __init__(self, interval_s: float) -> None:
        self._interval_s = interval_s
        self._failed: dict[K, _Failed] = {}

    def waiting(self, key: K, version: int) -> bool:
        """Whether ``version`` failed for ``key`` and its pause is not over yet."""
        failed = self._failed.get(key)
        return (
            failed is not None and failed.version == version and time.monotonic() < failed.retry_at
        )

    def failed(self, key: K, version: int) -> float:
        """Note one more failure of ``version`` for ``key``; returns the pause before the next
        try (it starts over when another version fails)."""
        previous = self._failed.get(key)
        failures = previous.failures + 1 if previous and previous.version == version else 1
        pause = min(self._interval_s * 2.0**failures, MAX_RETRY_PAUSE_S)
        self._failed[key] = _Failed(version, failures, time.monotonic() + pause)
        return pause

    def clear(self, key: K) -> None:
        """Nothing is pending for ``key`` any more (it serves what it should, or is gone)."""
        self._failed.pop(key, None)

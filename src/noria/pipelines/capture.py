"""Capture what a step prints, per thread, while other steps print in parallel.

``contextlib.redirect_stdout`` swaps ``sys.stdout`` for the whole process, so two steps
running in threads would steal each other's lines. Instead, while any capture is active,
``sys.stdout`` and ``sys.stderr`` are routers that send each thread's writes to that
thread's buffer, and everything else to the streams they replaced. Output written to the
file descriptors directly (by C code or subprocesses) is not captured.
"""

from __future__ import annotations

import io
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TextIO

MAX_LOG_CHARS = 8 * 1024 * 1024  # a runaway printer keeps its start and its end

_state = threading.local()


class _Router(io.TextIOBase):
    def __init__(self, fallback: TextIO) -> None:
        self._fallback = fallback

    def write(self, text: str) -> int:
        buffer: _Buffer | None = getattr(_state, "buffer", None)
        if buffer is None:
            return self._fallback.write(text)
        buffer.append(text)
        return len(text)

    def flush(self) -> None:
        if getattr(_state, "buffer", None) is None:
            self._fallback.flush()

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:
        return self._fallback.fileno()

    # Read-only properties on the C base class: overriding them is how a subclass answers.
    @property
    def encoding(self) -> str:  # type: ignore[override]
        return self._fallback.encoding

    @property
    def errors(self) -> str | None:  # type: ignore[override]
        return self._fallback.errors

    def __getattr__(self, name: str) -> Any:
        return getattr(self._fallback, name)  # buffer, mode, …


class _Buffer:
    def __init__(self) -> None:
        self._parts: list[str] = []
        self._size = 0
        self._dropped = 0

    def append(self, text: str) -> None:
        self._parts.append(text)
        self._size += len(text)
        while self._size > MAX_LOG_CHARS and len(self._parts) > 1:
            removed = self._parts.pop(len(self._parts) // 2)  # keep the start and the end
            self._size -= len(removed)
            self._dropped += len(removed)

    def text(self) -> str:
        if not self._dropped:
            return "".join(self._parts)
        middle = len(self._parts) // 2
        marker = f"\n[… {self._dropped} characters cut …]\n"
        return "".join([*self._parts[:middle], marker, *self._parts[middle:]])


class _Routing:
    """Counts active captures; the routers are in place while the count is above zero."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._active = 0
        self._replaced: tuple[TextIO, TextIO] | None = None

    def install(self) -> None:
        with self._lock:
            if self._active == 0 or not isinstance(sys.stdout, _Router):
                self._replaced = (sys.stdout, sys.stderr)
                sys.stdout = _Router(sys.stdout)
                sys.stderr = _Router(sys.stderr)
            self._active += 1

    def uninstall(self) -> None:
        with self._lock:
            self._active -= 1
            if self._active == 0 and self._replaced is not None:
                # Only put back what we replaced if nobody swapped the streams meanwhile.
                if isinstance(sys.stdout, _Router):
                    sys.stdout = self._replaced[0]
                if isinstance(sys.stderr, _Router):
                    sys.stderr = self._replaced[1]
                self._replaced = None


_routing = _Routing()


class CapturedOutput:
    def __init__(self, buffer: _Buffer) -> None:
        self._buffer = buffer

    @property
    def text(self) -> str:
        return self._buffer.text()


@contextmanager
def captured_output() -> Iterator[CapturedOutput]:
    """Everything this thread prints to stdout or stderr inside the block, interleaved."""
    buffer = _Buffer()
    previous = getattr(_state, "buffer", None)
    _routing.install()
    _state.buffer = buffer
    try:
        yield CapturedOutput(buffer)
    finally:
        _state.buffer = previous
        _routing.uninstall()

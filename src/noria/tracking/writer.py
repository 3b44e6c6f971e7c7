"""Metric points are buffered in memory and written in batches by one background thread.

``add`` never touches the store: it appends to a list. The flusher wakes every
``flush_interval`` seconds, or as soon as ``max_batch`` points wait, and writes
each run's points with one ``log_batch`` call (one multi-row INSERT, or one HTTP
request). ``flush`` drains synchronously, so after it returns every point is durable.
A failed write is kept and raised by the next call for that run, never dropped silently.
"""

from __future__ import annotations

import atexit
import threading
import weakref
from collections.abc import Iterable

from noria.domain.tracking import Metric
from noria.errors import BackendError, NoriaError
from noria.ports.tracking import RunRepo

# Past this many waiting points, add() waits for the flusher instead of growing memory.
MAX_PENDING = 1_000_000

_open_writers: weakref.WeakSet[MetricWriter] = weakref.WeakSet()


@atexit.register
def _flush_at_exit() -> None:
    for writer in list(_open_writers):
        writer.close(raise_errors=False)


class MetricWriter:
    def __init__(
        self, runs: RunRepo, *, max_batch: int = 20_000, flush_interval: float = 1.0
    ) -> None:
        self._runs = runs
        self._max_batch = max_batch
        self._interval = flush_interval
        self._pending: dict[str, list[Metric]] = {}
        self._count = 0
        self._errors: dict[str, NoriaError] = {}
        self._lock = threading.Lock()  # guards the buffer: held for microseconds
        self._write_lock = threading.Lock()  # one writer at a time: flusher or flush()
        self._wake = threading.Event()
        self._room = threading.Condition(self._lock)
        self._thread: threading.Thread | None = None
        self._closed = False

    def add(self, run_id: str, points: Iterable[Metric]) -> None:
        """Queue points for ``run_id``; raises a previous failed write for that run."""
        self.raise_pending(run_id)
        with self._lock:
            if self._closed:
                raise BackendError("This Noria client is closed; open a new one to log.")
            while self._count >= MAX_PENDING:
                self._wake.set()
                self._room.wait(timeout=1.0)
            queue = self._pending.setdefault(run_id, [])
            before = len(queue)
            queue.extend(points)
            self._count += len(queue) - before
            full = self._count >= self._max_batch
            if self._thread is None:
                self._start()
        if full:
            self._wake.set()

    def flush(self, run_id: str | None = None) -> None:
        """Write what is waiting (for one run, or all) before returning; raise its errors."""
        self._write(run_id)
        if run_id is not None:
            self.raise_pending(run_id)
        else:
            for pending_run in list(self._errors):
                self.raise_pending(pending_run)

    def take(self, run_id: str) -> tuple[list[Metric], NoriaError | None]:
        """The points waiting for ``run_id``, once no write of its points is in flight, and
        the error of an earlier failed write for it; the caller now owns both."""
        with self._write_lock:
            points = self._drain(run_id).get(run_id, [])
        return points, self._errors.pop(run_id, None)

    def raise_pending(self, run_id: str) -> None:
        error = self._errors.pop(run_id, None)
        if error is not None:
            raise error

    def close(self, *, raise_errors: bool = True) -> None:
        with self._lock:
            self._closed = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=60)
        self._write(None)
        _open_writers.discard(self)
        if raise_errors and self._errors:
            run_id = next(iter(self._errors))
            self.raise_pending(run_id)

    def _start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="noria-metric-writer", daemon=True)
        self._thread.start()
        _open_writers.add(self)

    def _loop(self) -> None:
        while True:
            self._wake.wait(self._interval)
            self._wake.clear()
            self._write(None)
            with self._lock:
                if self._closed:
                    return

    def _drain(self, run_id: str | None) -> dict[str, list[Metric]]:
        with self._lock:
            if run_id is None:
                taken, self._pending = self._pending, {}
            else:
                taken = {run_id: self._pending.pop(run_id, [])}
            self._count -= sum(len(points) for points in taken.values())
            self._room.notify_all()
        return {run: points for run, points in taken.items() if points}

    def _write(self, run_id: str | None) -> None:
        with self._write_lock:
            for run, points in self._drain(run_id).items():
                try:
                    self._runs.log_batch(run, metrics=points)
                except NoriaError as exc:
                    self._errors.setdefault(run, lost_points(run, len(points), exc))
                except Exception as exc:  # noqa: BLE001 - a flusher must not die; the caller sees it
                    self._errors.setdefault(run, lost_points(run, len(points), exc))


def lost_points(run_id: str, count: int, exc: Exception) -> NoriaError:
    """The same kind of error, saying how many points it cost."""
    reason = exc.message if isinstance(exc, NoriaError) else f"{type(exc).__name__}: {exc}"
    kind = type(exc) if isinstance(exc, NoriaError) else BackendError
    return kind(f"{count} metric points for run {run_id} were not stored: {reason}")

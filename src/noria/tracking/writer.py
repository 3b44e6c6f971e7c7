"""A run's writes are buffered in memory and sent in batches by one background thread.

``add`` and ``gather`` never touch the store: they append to the run's pending
write. The flusher wakes every ``flush_interval`` seconds, or as soon as
``max_batch`` points wait, and sends each run's pending write with one
``write_run`` call (one transaction, or one HTTP request). Metric points always go
this way; against a server the tracker also gathers a run's creation, params, tags
and artifact entries here, so that a short run costs one request. ``flush`` drains
synchronously, so after it returns everything is durable. A failed write is kept
and raised by the next call for that run, never dropped silently.
"""

from __future__ import annotations

import atexit
import threading
import weakref
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from noria.domain.tracking import Metric, NewRun, Param, RunArtifact, RunTag, RunWrite
from noria.errors import BackendError, NoriaError
from noria.ports.tracking import RunRepo

# Past this many waiting points, add() waits for the flusher instead of growing memory.
MAX_PENDING = 1_000_000

_open_writers: weakref.WeakSet[MetricWriter] = weakref.WeakSet()


@atexit.register
def _flush_at_exit() -> None:
    for writer in list(_open_writers):
        writer.close(raise_errors=False)


@dataclass(slots=True)
class _Pending:
    """What waits for one run, in the order ``write_run`` applies it."""

    create: NewRun | None = None
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    metrics: list[Metric] = field(default_factory=list)
    artifacts: list[RunArtifact] = field(default_factory=list)

    def write(self, run_id: str) -> RunWrite:
        return RunWrite(
            run_id,
            create=self.create,
            params=[Param(key, value) for key, value in self.params.items()],
            tags=[RunTag(key, value) for key, value in self.tags.items()],
            metrics=self.metrics,
            artifacts=self.artifacts,
        )


class MetricWriter:
    def __init__(
        self, runs: RunRepo, *, max_batch: int = 20_000, flush_interval: float = 1.0
    ) -> None:
        self._runs = runs
        self._max_batch = max_batch
        self._interval = flush_interval
        self._pending: dict[str, _Pending] = {}
        self._count = 0  # metric points waiting, all runs together
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
            self._check_open()
            while self._count >= MAX_PENDING:
                self._wake.set()
                self._room.wait(timeout=1.0)
            queue = self._pending_for(run_id).metrics
            before = len(queue)
            queue.extend(points)
            self._count += len(queue) - before
            full = self._count >= self._max_batch
        if full:
            self._wake.set()

    def gather(
        self,
        run_id: str,
        *,
        create: NewRun | None = None,
        params: Mapping[str, str] | None = None,
        tags: Mapping[str, str] | None = None,
        artifacts: Iterable[RunArtifact] = (),
    ) -> None:
        """Queue checked writes for ``run_id`` to go with its next batch; raises a
        previous failed write for that run. A tag set twice keeps its last value."""
        self.raise_pending(run_id)
        with self._lock:
            self._check_open()
            pending = self._pending_for(run_id)
            if create is not None:
                pending.create = create
            pending.params.update(params or {})
            pending.tags.update(tags or {})
            pending.artifacts.extend(artifacts)

    def flush(self, run_id: str | None = None) -> None:
        """Write what is waiting (for one run, or all) before returning; raise its errors."""
        self._write(run_id)
        if run_id is not None:
            self.raise_pending(run_id)
        else:
            for pending_run in list(self._errors):
                self.raise_pending(pending_run)

    def take(self, run_id: str) -> tuple[RunWrite, NoriaError | None]:
        """The write waiting for ``run_id``, once no write for it is in flight, and the
        error of an earlier failed write for it; the caller now owns both."""
        with self._write_lock:
            pending = self._drain(run_id).get(run_id, _Pending())
        return pending.write(run_id), self._errors.pop(run_id, None)

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

    def _check_open(self) -> None:
        if self._closed:
            raise BackendError("This Noria client is closed; open a new one to log.")

    def _pending_for(self, run_id: str) -> _Pending:
        """The run's pending write (under the lock); starts the flusher on first use."""
        pending = self._pending.get(run_id)
        if pending is None:
            pending = self._pending[run_id] = _Pending()
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._loop, name="noria-metric-writer", daemon=True
            )
            self._thread.start()
            _open_writers.add(self)
        return pending

    def _loop(self) -> None:
        while True:
            self._wake.wait(self._interval)
            self._wake.clear()
            self._write(None)
            with self._lock:
                if self._closed:
                    return

    def _drain(self, run_id: str | None) -> dict[str, _Pending]:
        with self._lock:
            if run_id is None:
                taken, self._pending = self._pending, {}
            else:
                found = self._pending.pop(run_id, None)
                taken = {} if found is None else {run_id: found}
            self._count -= sum(len(pending.metrics) for pending in taken.values())
            self._room.notify_all()
        return taken

    def _write(self, run_id: str | None) -> None:
        with self._write_lock:
            for run, pending in self._drain(run_id).items():
                write = pending.write(run)
                try:
                    self._runs.write_run(write)
                except Exception as exc:  # noqa: BLE001 - a flusher must not die; the caller sees it
                    self._errors.setdefault(run, lost_writes(write, exc))


def has_data(write: RunWrite) -> bool:
    """Whether ``write`` carries anything besides an end."""
    return bool(write.create or write.params or write.tags or write.metrics or write.artifacts)


def lost_writes(write: RunWrite, exc: Exception) -> NoriaError:
    """The same kind of error, saying what of the run it cost."""
    reason = exc.message if isinstance(exc, NoriaError) else f"{type(exc).__name__}: {exc}"
    kind = type(exc) if isinstance(exc, NoriaError) else BackendError
    parts = ["the run's creation"] if write.create is not None else []
    for count, what in (
        (len(write.params), "param"),
        (len(write.tags), "tag"),
        (len(write.metrics), "metric point"),
        (len(write.artifacts), "artifact entry"),
    ):
        if count:
            plural = "artifact entries" if what == "artifact entry" else f"{what}s"
            parts.append(f"{count} {what if count == 1 else plural}")
    lost = " and ".join([", ".join(parts[:-1]), parts[-1]] if len(parts) > 1 else parts)
    return kind(f"{lost or 'A write'} for run {write.run_id} were not stored: {reason}")

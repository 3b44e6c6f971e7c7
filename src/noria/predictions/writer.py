"""A bounded queue and one background thread that turn items into rolled Parquet segments.

``offer`` only puts on the queue (a full queue drops the item and counts it), so callers on a
request path never wait for storage. The thread drains the queue in bursts, converts each
burst to Arrow once, and appends it to an open segment per stream and UTC day. A segment is
written when it reaches ``max_rows`` rows or about ``max_bytes`` bytes (Arrow's in-memory size),
or ``max_age_s`` seconds after its first row arrived. One item's rows always land in one segment,
so the counters are exact: every item offered is in ``written``, ``dropped`` or still queued.
"""

from __future__ import annotations

import atexit
import logging
import queue
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from noria.errors import InvalidArgument
from noria.predictions.segments import SegmentStore, utc_day
from noria.predictions.tables import RowGroup, rows_to_table

if TYPE_CHECKING:
    import pyarrow as pa

T = TypeVar("T")
log = logging.getLogger(__name__)

_BURST = 4096  # items taken off the queue per conversion
_WRITE_ATTEMPTS = 3
_RETRY_PAUSE_S = 0.2

_open_writers: weakref.WeakSet[SegmentWriter[Any]] = weakref.WeakSet()


@atexit.register
def _close_at_exit() -> None:
    for writer in list(_open_writers):
        writer.close(timeout=10)


@dataclass(frozen=True, slots=True)
class RollPolicy:
    """When an open segment is written: whichever limit it reaches first."""

    max_rows: int = 100_000
    max_bytes: int = 32 * 1024 * 1024
    max_age_s: float = 60.0

    def __post_init__(self) -> None:
        for name in ("max_rows", "max_bytes", "max_age_s"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                raise InvalidArgument(f"{name} must be a positive number; got {value!r}.")


@dataclass(frozen=True, slots=True)
class _Flush:
    done: threading.Event = field(default_factory=threading.Event)
    stop: bool = False


class _OpenSegment:
    """Rows waiting to be written as one segment."""

    def __init__(self, opened: float) -> None:
        self.opened = opened
        self.tables: list[pa.Table] = []
        self.schema: pa.Schema | None = None
        self.rows = 0
        self.nbytes = 0
        self.items = 0
        self.first_ms: int | None = None
        self.last_ms: int | None = None

    def extend_times(self, times: Iterable[int]) -> None:
        for ms in times:
            self.first_ms = ms if self.first_ms is None else min(self.first_ms, ms)
            self.last_ms = ms if self.last_ms is None else max(self.last_ms, ms)


class SegmentWriter(Generic[T]):
    """Items → rows (``explode``) → Parquet segments in a :class:`SegmentStore`.

    ``fixed_types`` gives the Arrow types of columns every row has; the rest are inferred.
    The thread starts on the first item; ``close`` writes what is waiting, then stops it.
    """

    def __init__(
        self,
        store: SegmentStore,
        explode: Callable[[T], RowGroup],
        fixed_types: Callable[[], Mapping[str, pa.DataType]],
        *,
        policy: RollPolicy,
        queue_size: int,
        name: str,
    ) -> None:
        if isinstance(queue_size, bool) or not isinstance(queue_size, int) or queue_size < 1:
            raise InvalidArgument(f"queue_size must be a positive integer; got {queue_size!r}.")
        self._store = store
        self._explode = explode
        self._fixed_types = fixed_types
        self._policy = policy
        self._name = name
        self._queue: queue.Queue[T | _Flush] = queue.Queue(maxsize=queue_size)
        self._open: dict[tuple[str, str], _OpenSegment] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closed = False
        self.written = 0  # items stored in a segment
        self.segments = 0  # segments stored
        self.write_errors = 0  # segment writes that failed after retries
        self.last_error: str | None = None
        self._dropped = 0

    @property
    def dropped(self) -> int:
        """Items lost: the queue was full, the writer was closed, or storage failed."""
        return self._dropped

    @property
    def queue_depth(self) -> int:
        return self._queue.qsize()

    def offer(self, item: T) -> bool:
        """Queue ``item`` without waiting; False (and counted in ``dropped``) when full."""
        return self.put(item, timeout=None)

    def put(self, item: T, *, timeout: float | None) -> bool:
        """Queue ``item``, waiting up to ``timeout`` seconds for room (None: not at all)."""
        if self._closed:
            self._count_dropped(1)
            return False
        if self._thread is None:
            self._start()
        try:
            if timeout is None:
                self._queue.put_nowait(item)
            else:
                self._queue.put(item, timeout=timeout)
        except queue.Full:
            self._count_dropped(1)
            return False
        return True

    def flush(self, timeout: float | None = None) -> bool:
        """Write every item queued before this call; False if that took over ``timeout`` s."""
        if self._thread is None or self._closed:
            return True
        request = _Flush()
        self._queue.put(request, timeout=timeout)
        return request.done.wait(timeout)

    def close(self, timeout: float | None = 60) -> None:
        """Write what is queued and open, then stop the thread. Later offers are dropped."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        _open_writers.discard(self)
        if self._thread is None:
            return
        request = _Flush(stop=True)
        try:
            self._queue.put(request, timeout=timeout)  # waits while full: the thread drains it
        except queue.Full:
            log.error("%s: storage is stuck; %d queued items are not written", self._name,
                      self._queue.qsize())  # fmt: skip
            return
        request.done.wait(timeout)
        self._thread.join(timeout)
        self._count_dropped(self._discard_queued())

    def _discard_queued(self) -> int:
        """Items offered while ``close`` ran, after the thread's last burst: lost, so counted."""
        count = 0
        while True:
            try:
                entry = self._queue.get_nowait()
            except queue.Empty:
                return count
            if isinstance(entry, _Flush):
                entry.done.set()
            else:
                count += 1

    # -- the writer thread ------------------------------------------------------------

    def _start(self) -> None:
        with self._lock:
            if self._thread is not None or self._closed:
                return
            thread = threading.Thread(target=self._run, name=self._name, daemon=True)
            thread.start()
            self._thread = thread
        _open_writers.add(self)

    def _run(self) -> None:
        while True:
            items, requests = self._take_burst()
            try:
                self._add(items)
                self._roll(due_only=not requests)
            except Exception as exc:  # the writer must outlive any one burst
                log.exception("%s: a burst of %d items was lost", self._name, len(items))
                self._count_dropped(len(items))
                self.last_error = f"{type(exc).__name__}: {exc}"
            for request in requests:
                request.done.set()
            if any(request.stop for request in requests):
                return

    def _take_burst(self) -> tuple[list[T], list[_Flush]]:
        """Wait for the first item (or the next age deadline), then take what else is queued."""
        items: list[T] = []
        requests: list[_Flush] = []
        try:
            first = self._queue.get(timeout=self._until_next_deadline())
        except queue.Empty:
            return items, requests
        for entry in self._more(first):
            if isinstance(entry, _Flush):
                requests.append(entry)
            else:
                items.append(entry)
        return items, requests

    def _more(self, first: T | _Flush) -> Iterable[T | _Flush]:
        yield first
        for _ in range(_BURST - 1):
            try:
                yield self._queue.get_nowait()
            except queue.Empty:
                return

    def _until_next_deadline(self) -> float:
        if not self._open:
            return self._policy.max_age_s
        oldest = min(segment.opened for segment in self._open.values())
        return max(0.0, oldest + self._policy.max_age_s - time.monotonic())

    def _add(self, items: list[T]) -> None:
        by_segment: dict[tuple[str, str], list[RowGroup]] = {}
        for item in items:
            try:
                group = self._explode(item)
            except Exception as exc:  # noqa: BLE001 - one malformed item must not stop the log
                log.warning("%s: dropped an item that has no rows: %s", self._name, exc)
                self._count_dropped(1)
                continue
            key = (group.stream, utc_day(group.time_ms))
            by_segment.setdefault(key, []).append(group)
        for key, groups in by_segment.items():
            for table, members in self._tables(groups):
                self._append(key, table, members)

    def _tables(self, groups: list[RowGroup]) -> list[tuple[pa.Table, list[RowGroup]]]:
        """One table for the burst; one per item when their columns' types disagree."""
        import pyarrow as pa

        try:
            return [(rows_to_table(groups, self._fixed_types()), groups)]
        except pa.ArrowException:
            pass  # some item disagrees with the others: convert them one by one
        tables = []
        for group in groups:
            try:
                table = rows_to_table([group], self._fixed_types(), text_fallback=True)
            except pa.ArrowException as exc:  # a fixed column of the wrong type
                log.warning("%s: dropped an item whose rows do not convert: %s", self._name, exc)
                self._count_dropped(1)
                continue
            tables.append((table, [group]))
        return tables

    def _append(self, key: tuple[str, str], table: pa.Table, groups: list[RowGroup]) -> None:
        """Add ``table`` (the rows of ``groups``, in order) to open segments, rolling when full."""
        row_bytes = table.nbytes / max(table.num_rows, 1)
        offset = 0
        while groups:
            segment = self._open_segment(key, table.schema)
            count, rows = self._fitting(segment, groups, row_bytes)
            if count == 0:
                self._write(key)
                continue
            taken, groups = groups[:count], groups[count:]
            segment.tables.append(table.slice(offset, rows))
            offset += rows
            segment.rows += rows
            segment.nbytes += int(rows * row_bytes)
            segment.items += count
            segment.extend_times(group.time_ms for group in taken)
            if segment.rows >= self._policy.max_rows or segment.nbytes >= self._policy.max_bytes:
                self._write(key)

    def _open_segment(self, key: tuple[str, str], schema: pa.Schema) -> _OpenSegment:
        """The open segment for ``key`` that can take ``schema``'s columns (a new one if none)."""
        import pyarrow as pa

        segment = self._open.get(key)
        if segment is not None and segment.schema is not None:
            try:
                segment.schema = pa.unify_schemas(
                    [segment.schema, schema], promote_options="permissive"
                )
            except pa.ArrowException:
                self._write(key)  # a column changed type: start a new segment
                segment = None
        if segment is None:
            segment = self._open[key] = _OpenSegment(time.monotonic())
            segment.schema = schema
        return segment

    def _fitting(
        self, segment: _OpenSegment, groups: list[RowGroup], row_bytes: float
    ) -> tuple[int, int]:
        """How many whole items (and their rows) fit in ``segment``; at least one if it is empty."""
        count = rows = 0
        for group in groups:
            after = segment.rows + rows + len(group.rows)
            fits = after <= self._policy.max_rows and after * row_bytes <= self._policy.max_bytes
            if not fits and (count or segment.rows):
                break
            count, rows = count + 1, rows + len(group.rows)
        return count, rows

    def _roll(self, *, due_only: bool) -> None:
        now = time.monotonic()
        for key, segment in list(self._open.items()):
            if not due_only or now - segment.opened >= self._policy.max_age_s:
                self._write(key)

    def _write(self, key: tuple[str, str]) -> None:
        import pyarrow as pa

        segment = self._open.pop(key, None)
        if segment is None or segment.first_ms is None or segment.last_ms is None:
            return
        table = pa.concat_tables(segment.tables, promote_options="permissive")
        first_ms, last_ms = segment.first_ms, segment.last_ms
        for attempt in range(1, _WRITE_ATTEMPTS + 1):
            try:
                self._store.write(key[0], table, first_ms=first_ms, last_ms=last_ms)
            except Exception as exc:  # noqa: BLE001 - storage may fail in any way; count it
                self.last_error = f"{type(exc).__name__}: {exc}"
                if attempt < _WRITE_ATTEMPTS:
                    time.sleep(_RETRY_PAUSE_S * attempt)
                    continue
                log.error("%s: lost a segment of %d items: %s", self._name, segment.items, exc)
                self.write_errors += 1
                self._count_dropped(segment.items)
                return
            self.written += segment.items
            self.segments += 1
            return

    def _count_dropped(self, count: int) -> None:
        with self._lock:
            self._dropped += count

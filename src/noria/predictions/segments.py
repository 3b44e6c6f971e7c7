"""Parquet segments in the artifact store, found by time window without reading their bytes.

A segment's Parquet bytes are an ordinary content-addressed artifact (verified on read). Its
index entry is a small JSON blob whose *key* says everything a window query needs::

    <stream>/<YYYY-MM-DD>/<first ms>-<last ms>-<rows>-<sha256 hex>.json

``<stream>`` is the log's prefix (plus the model name for predictions) and the day is the UTC
day of every row in the segment (writers never mix days), so a window lists one folder per day
and keeps the keys whose range overlaps it. The JSON body repeats the facts for people and tools.
"""

from __future__ import annotations

import io
import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from noria.artifacts import ArtifactStore
from noria.domain.artifacts import Digest
from noria.errors import InvalidArgument

if TYPE_CHECKING:
    import pyarrow as pa

SEGMENT_FORMAT = "noria.segment/1"
PARQUET_MEDIA_TYPE = "application/vnd.apache.parquet"
TIME_COLUMN = "time"
# Past this many days, listing the whole stream once is cheaper than one listing per day.
_MAX_DAY_LISTINGS = 62
_ENTRY = re.compile(r"(\d+)-(\d+)-(\d+)-([0-9a-f]{64})\.json")
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True, slots=True)
class SegmentRef:
    """One stored segment, as its index key describes it."""

    key: str
    first_ms: int  # time of its earliest row
    last_ms: int  # time of its latest row
    rows: int
    digest: Digest

    def overlaps(self, start_ms: int | None, end_ms: int | None) -> bool:
        """Whether any row may fall in ``[start_ms, end_ms)`` (None: unbounded)."""
        after_start = start_ms is None or self.last_ms >= start_ms
        before_end = end_ms is None or self.first_ms < end_ms
        return after_start and before_end


def utc_day(ms: int) -> str:
    """The UTC day of a time in ms since the epoch, as ``YYYY-MM-DD``."""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d")


class SegmentStore:
    """Writes and finds the segments of streams under one artifact store."""

    def __init__(self, artifacts: ArtifactStore) -> None:
        self._artifacts = artifacts

    def write(self, stream: str, table: pa.Table, *, first_ms: int, last_ms: int) -> SegmentRef:
        """Store ``table`` as one zstd Parquet segment, then its index entry.

        The data goes first, so an index entry never points at missing bytes.
        """
        import pyarrow.parquet as pq

        if utc_day(first_ms) != utc_day(last_ms):
            raise InvalidArgument(
                f"A segment holds one UTC day; {first_ms} and {last_ms} ms fall on different days."
            )
        sink = io.BytesIO()
        pq.write_table(table, sink, compression="zstd")
        data = self._artifacts.put_bytes(sink.getvalue(), media_type=PARQUET_MEDIA_TYPE)
        name = f"{first_ms:013d}-{last_ms:013d}-{table.num_rows}-{data.digest.hex}.json"
        ref = SegmentRef(
            key=f"{stream}/{utc_day(first_ms)}/{name}",
            first_ms=first_ms,
            last_ms=last_ms,
            rows=table.num_rows,
            digest=data.digest,
        )
        entry = {
            "format": SEGMENT_FORMAT,
            "data": str(data.digest),
            "bytes": data.size,
            "rows": table.num_rows,
            "first_ms": first_ms,
            "last_ms": last_ms,
            "columns": table.column_names,
            "written_ms": int(time.time() * 1000),
        }
        self._artifacts.blobs.put(ref.key, io.BytesIO(json.dumps(entry, indent=1).encode()))
        return ref

    def find(self, stream: str, start_ms: int | None, end_ms: int | None) -> list[SegmentRef]:
        """The segments of ``stream`` that may hold rows in ``[start_ms, end_ms)``, oldest first."""
        found = [
            ref for ref in self._list(stream, start_ms, end_ms) if ref.overlaps(start_ms, end_ms)
        ]
        return sorted(found, key=lambda ref: (ref.first_ms, ref.last_ms, ref.key))

    def read(self, ref: SegmentRef, start_ms: int | None, end_ms: int | None) -> pa.Table:
        """A segment's rows in ``[start_ms, end_ms)`` (all of them when it lies inside)."""
        import pyarrow as pa
        import pyarrow.compute as pc
        import pyarrow.parquet as pq

        table = pq.read_table(io.BytesIO(self._artifacts.get_bytes(ref.digest)))
        inside = (start_ms is None or ref.first_ms >= start_ms) and (
            end_ms is None or ref.last_ms < end_ms
        )
        if inside:
            return table
        times = pc.cast(table[TIME_COLUMN], pa.int64())
        keep = pc.and_(
            pc.greater_equal(times, start_ms if start_ms is not None else ref.first_ms),
            pc.less(times, end_ms if end_ms is not None else ref.last_ms + 1),
        )
        return table.filter(keep)

    def _list(self, stream: str, start_ms: int | None, end_ms: int | None) -> Iterator[SegmentRef]:
        days = _days(start_ms, end_ms)
        prefixes = [f"{stream}/"] if days is None else [f"{stream}/{day}/" for day in days]
        for prefix in prefixes:
            for key in self._artifacts.blobs.list(prefix):
                ref = _parse_key(key, stream)
                if ref is not None:
                    yield ref


def _days(start_ms: int | None, end_ms: int | None) -> list[str] | None:
    """Each UTC day the window touches, or None to list the whole stream."""
    if start_ms is None or end_ms is None or end_ms <= start_ms:
        return None
    first = datetime.fromtimestamp(start_ms / 1000, UTC).date()
    last = datetime.fromtimestamp((end_ms - 1) / 1000, UTC).date()
    count = (last - first).days + 1
    if count > _MAX_DAY_LISTINGS:
        return None
    return [(first + timedelta(days=offset)).isoformat() for offset in range(count)]


def _parse_key(key: str, stream: str) -> SegmentRef | None:
    """The segment an index key names; None for anything else under the prefix."""
    day, _, name = key.removeprefix(f"{stream}/").partition("/")
    match = _ENTRY.fullmatch(name)
    if not _DAY.fullmatch(day) or match is None:
        return None
    first_ms, last_ms, rows = int(match[1]), int(match[2]), int(match[3])
    if last_ms < first_ms or utc_day(first_ms) != day:
        return None
    return SegmentRef(key, first_ms, last_ms, rows, Digest(match[4]))


def window_ms(value: datetime | int | None, *, name: str) -> int | None:
    """A window bound as ms since the epoch: an int already is one; a naive datetime is UTC."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | datetime):
        raise InvalidArgument(
            f"{name}={value!r} is not a time: pass a datetime or ms since the epoch (int)."
        )
    if isinstance(value, int):
        return value
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return int(aware.timestamp() * 1000)


def check_window(start_ms: int | None, end_ms: int | None) -> None:
    if start_ms is not None and end_ms is not None and end_ms <= start_ms:
        raise InvalidArgument(
            f"The window is empty: end ({end_ms} ms) is not after start ({start_ms} ms); "
            "the window is [start, end)."
        )


def check_prefix(prefix: str, *, example: str) -> str:
    """A log's key prefix without outer slashes, or InvalidArgument for one that could escape."""
    cleaned = prefix.strip("/")
    if not cleaned or any(part in ("", ".", "..") for part in cleaned.split("/")):
        raise InvalidArgument(
            f"Invalid log prefix {prefix!r}: use a relative key prefix such as {example!r}."
        )
    return cleaned


def shown_bound(bound: datetime | int | None) -> str:
    """A window bound for messages: an ISO time in UTC, or 'open'."""
    ms = window_ms(bound, name="bound")
    if ms is None:
        return "open"
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds")

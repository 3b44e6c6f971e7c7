"""Ground-truth labels that arrive after the prediction, stored by request id.

The body ``POST /v1/feedback`` takes (``row`` is optional)::

    {"labels": [{"request_id": "3f2a…", "row": 0, "label": 1},
                {"request_id": "9c1b…", "label": "fraud"}]}

A label without ``row`` applies to every row of its request. Labels are appended, like
predictions, to Parquet segments (``request_id``, ``row``, ``label``, ``time`` = arrival time);
when one (request, row) gets several labels, the latest wins in
:func:`noria.predictions.join.join_feedback`.

>>> feedback = FeedbackLog(client.artifacts)
>>> feedback.append([{"request_id": rid, "label": 1}])
>>> labels = read_feedback(client, start=a_week_ago)
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from noria.artifacts import ArtifactStore
from noria.errors import BackendError, InvalidArgument
from noria.predictions.segments import (
    SegmentStore,
    check_prefix,
    check_window,
    window_ms,
)
from noria.predictions.tables import RowGroup, concat_segments
from noria.predictions.writer import RollPolicy, SegmentWriter

if TYPE_CHECKING:
    import pyarrow as pa

    from noria.client import Client

FEEDBACK_PREFIX = "prediction-log/feedback"
MAX_REQUEST_ID_LENGTH = 200
_FIELDS = frozenset({"request_id", "row", "label"})


@dataclass(frozen=True, slots=True)
class Label:
    """The true outcome for one request (every row of it, when ``row`` is None)."""

    request_id: str
    label: str | int | float | bool
    row: int | None = None


@dataclass(frozen=True, slots=True)
class _LabelBatch:
    time_ms: int
    labels: tuple[Label, ...]


def feedback_columns() -> dict[str, pa.DataType]:
    """The typed columns of every feedback row (``label`` is typed by its values)."""
    import pyarrow as pa

    return {"request_id": pa.string(), "row": pa.int32(), "time": pa.timestamp("ms", tz="UTC")}


def labels_from_body(body: Any) -> list[Label]:
    """The labels of a ``POST /v1/feedback`` body, or InvalidArgument naming what is wrong."""
    if not isinstance(body, Mapping) or set(body) != {"labels"}:
        raise InvalidArgument(
            'The feedback body must be {"labels": [{"request_id": ..., "row": 0, "label": ...}]}; '
            f"got {_brief(body)}."
        )
    labels = body["labels"]
    if not isinstance(labels, list) or not labels:
        raise InvalidArgument(f'"labels" must be a non-empty list; got {_brief(labels)}.')
    return [to_label(entry, index) for index, entry in enumerate(labels)]


def to_label(entry: Label | Mapping[str, Any], index: int = 0) -> Label:
    """One label, checked: a request id, an optional row index ≥ 0, a text/number/bool label."""
    if isinstance(entry, Label):
        return _checked(entry.request_id, entry.row, entry.label, index)
    if not isinstance(entry, Mapping):
        raise InvalidArgument(
            f'labels[{index}] must be an object like {{"request_id": ..., "label": ...}}; '
            f"got {_brief(entry)}."
        )
    unknown = sorted(set(entry) - _FIELDS)
    if unknown:
        raise InvalidArgument(
            f"labels[{index}] has unknown field(s) {unknown}; the fields are request_id, row "
            "(optional) and label."
        )
    if "label" not in entry:
        raise InvalidArgument(f'labels[{index}] has no label; add "label": <the true value>.')
    return _checked(entry.get("request_id"), entry.get("row"), entry["label"], index)


def _checked(request_id: Any, row: Any, label: Any, index: int) -> Label:
    where = f"labels[{index}]"
    if not isinstance(request_id, str) or not 0 < len(request_id) <= MAX_REQUEST_ID_LENGTH:
        raise InvalidArgument(
            f"{where}.request_id must be the request id the prediction answered with (text of "
            f"1 to {MAX_REQUEST_ID_LENGTH} characters); got {_brief(request_id)}."
        )
    if row is not None and (isinstance(row, bool) or not isinstance(row, int) or row < 0):
        raise InvalidArgument(
            f"{where}.row must be a row index (an integer ≥ 0) or left out; got {_brief(row)}."
        )
    if isinstance(label, float) and math.isnan(label):  # no truth to compare with
        raise InvalidArgument(f"{where}.label is NaN; send the true value.")
    if not isinstance(label, str | int | float | bool):
        raise InvalidArgument(
            f"{where}.label must be text, a number or a boolean; got {_brief(label)}."
        )
    return Label(request_id=request_id, label=label, row=row)


def _brief(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else f"{text[:77]}..."


class FeedbackLog:
    """Labels appended to Parquet segments by a background writer.

    ``append`` waits up to ``put_timeout_s`` for room in the queue and raises BackendError
    (HTTP 503) rather than drop a label: labels are rare and each one counts.
    """

    def __init__(
        self,
        artifacts: ArtifactStore,
        *,
        prefix: str = FEEDBACK_PREFIX,
        max_rows: int = 100_000,
        max_bytes: int = 32 * 1024 * 1024,
        max_age_s: float = 60.0,
        queue_size: int = 1_000,
        put_timeout_s: float = 1.0,
    ) -> None:
        self.prefix = check_prefix(prefix, example=FEEDBACK_PREFIX)
        self._put_timeout_s = put_timeout_s
        self._writer: SegmentWriter[_LabelBatch] = SegmentWriter(
            SegmentStore(artifacts),
            self._rows,
            feedback_columns,
            policy=RollPolicy(max_rows=max_rows, max_bytes=max_bytes, max_age_s=max_age_s),
            queue_size=queue_size,
            name="noria-feedback-log",
        )

    @property
    def written(self) -> int:
        """``append`` calls whose labels are stored."""
        return self._writer.written

    @property
    def dropped(self) -> int:
        """``append`` calls not stored: refused (queue full, log closed; the caller was told)
        or lost to a failed write."""
        return self._writer.dropped

    @property
    def segments(self) -> int:
        return self._writer.segments

    def append(self, records: Sequence[Label | Mapping[str, Any]]) -> int:
        """Queue labels (checked first: one bad entry refuses them all); returns how many."""
        if isinstance(records, str | bytes | Mapping) or not isinstance(records, Sequence):
            raise InvalidArgument(
                f"append takes a list of labels; got {type(records).__name__}. For a request "
                "body, use labels_from_body(body)."
            )
        labels = tuple(to_label(entry, index) for index, entry in enumerate(records))
        if not labels:
            return 0
        batch = _LabelBatch(time_ms=int(time.time() * 1000), labels=labels)
        if not self._writer.put(batch, timeout=self._put_timeout_s):
            raise BackendError(
                f"The feedback log could not take {len(labels)} label(s): its queue stayed full "
                f"for {self._put_timeout_s} s (or it is closed). Nothing was stored; retry shortly."
            )
        return len(labels)

    def flush(self, timeout: float | None = None) -> bool:
        return self._writer.flush(timeout)

    def close(self) -> None:
        self._writer.close()

    def _rows(self, batch: _LabelBatch) -> RowGroup:
        rows = [
            {"request_id": label.request_id, "row": label.row, "label": label.label,
             "time": batch.time_ms}
            for label in batch.labels
        ]  # fmt: skip
        return RowGroup(self.prefix, batch.time_ms, rows)


def read_feedback(
    source: Client | ArtifactStore,
    *,
    start: datetime | int | None = None,
    end: datetime | int | None = None,
    prefix: str = FEEDBACK_PREFIX,
) -> pa.Table:
    """Labels that arrived with ``start <= time < end`` (datetimes or ms; None: open)."""
    import pyarrow as pa

    start_ms, end_ms = window_ms(start, name="start"), window_ms(end, name="end")
    check_window(start_ms, end_ms)
    artifacts = source if isinstance(source, ArtifactStore) else source.artifacts
    store = SegmentStore(artifacts)
    stream = check_prefix(prefix, example=FEEDBACK_PREFIX)
    tables = [store.read(ref, start_ms, end_ms) for ref in store.find(stream, start_ms, end_ms)]
    empty = pa.schema([*feedback_columns().items(), ("label", pa.null())])
    table = concat_segments(tables, empty)
    return table.sort_by([("time", "ascending")]) if table.num_rows else table

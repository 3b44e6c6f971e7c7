"""The prediction log: every answered request, appended to Parquet segments in the artifact store.

>>> log = ParquetPredictionLog(client.artifacts)
>>> log.offer(record)          # from the request path: never waits
>>> log.close()                # at shutdown: writes what is queued
>>> read_predictions(client, model="credit-risk", start=an_hour_ago)   # a pyarrow.Table

One row per predicted row: ``request_id``, ``row`` (its index in the request), ``time``,
``model``, ``version``, ``deployment``, ``role`` (the deployment route that answered:
``primary``, ``canary`` or ``shadow``), ``latency_ms``, the inputs as ``input.<name>`` columns,
and the answer as ``prediction`` (plus ``proba`` and ``output.<name>`` when the model answers
with named outputs). Segments are per model and UTC day; see :mod:`noria.predictions.segments`.
A shadow's answers go to its model's segments with the live request's id, so the two pair up.

``offer`` only appends to a list; every ``batch_interval_s`` a feeder thread hands what
gathered to the writer in one go, so the writer converts one burst per interval instead of
one per request (a burst of one record costs as much as a burst of a hundred), and neither
thread wakes up per request to compete with the predictions for the GIL.
"""

from __future__ import annotations

import atexit
import json
import threading
import weakref
from collections.abc import Mapping
from datetime import datetime
from itertools import zip_longest
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from noria.artifacts import ArtifactStore
from noria.domain.datasets import DatasetVersion
from noria.errors import InvalidArgument, NotFound
from noria.predictions.records import FAILED_STATUS, PredictionRecord
from noria.predictions.segments import (
    SegmentStore,
    check_prefix,
    check_window,
    shown_bound,
    window_ms,
)
from noria.predictions.tables import RowGroup, concat_segments
from noria.predictions.writer import RollPolicy, SegmentWriter

if TYPE_CHECKING:
    import pyarrow as pa

    from noria.client import Client

PREDICTIONS_PREFIX = "prediction-log/predictions"
INPUT_PREFIX = "input."
OUTPUT_PREFIX = "output."
# Named outputs with these names get their own columns; others become output.<name>.
_OUTPUT_COLUMNS = {"prediction": "prediction", "proba": "proba"}

_open_logs: weakref.WeakSet[ParquetPredictionLog] = weakref.WeakSet()


@atexit.register
def _close_at_exit() -> None:
    # Registered after the writer's own handler, so it runs first: gathered records are
    # handed over before the writers close.
    for log in list(_open_logs):
        log.close()


def prediction_columns() -> dict[str, pa.DataType]:
    """The columns every prediction-log row has, with their Arrow types."""
    import pyarrow as pa

    return {
        "request_id": pa.string(),
        "row": pa.int32(),
        "time": pa.timestamp("ms", tz="UTC"),
        "model": pa.string(),
        "version": pa.int64(),
        "deployment": pa.string(),
        "role": pa.string(),
        "latency_ms": pa.float64(),
        "status": pa.int32(),  # the HTTP status answered; null in segments older than it
        "error": pa.string(),  # a failed request's error code
    }


class ParquetPredictionLog:
    """A :class:`~noria.predictions.records.PredictionSink` writing Parquet segments in the
    background.

    Segments roll at ``max_rows`` rows, about ``max_bytes`` bytes, or ``max_age_s`` seconds
    after their first record. ``queue_size`` records may wait (gathered or queued for the
    writer); past that, ``offer`` drops. Gathered records go to the writer every
    ``batch_interval_s`` seconds, and at ``flush`` and ``close``.
    Counters: ``written`` and ``dropped`` (records), ``segments``, ``write_errors``.
    """

    def __init__(
        self,
        artifacts: ArtifactStore,
        *,
        prefix: str = PREDICTIONS_PREFIX,
        max_rows: int = 100_000,
        max_bytes: int = 32 * 1024 * 1024,
        max_age_s: float = 60.0,
        queue_size: int = 10_000,
        batch_interval_s: float = 0.5,
    ) -> None:
        self.prefix = check_prefix(prefix, example=PREDICTIONS_PREFIX)
        interval = batch_interval_s
        if isinstance(interval, bool) or not isinstance(interval, int | float) or interval <= 0:
            raise InvalidArgument(
                f"batch_interval_s must be a positive number; got {batch_interval_s!r}."
            )
        self._writer: SegmentWriter[PredictionRecord] = SegmentWriter(
            SegmentStore(artifacts),
            self._rows,
            prediction_columns,
            policy=RollPolicy(max_rows=max_rows, max_bytes=max_bytes, max_age_s=max_age_s),
            queue_size=queue_size,
            name="noria-prediction-log",
        )
        self._queue_size = queue_size
        self._interval_s = float(batch_interval_s)
        self._gathered: list[PredictionRecord] = []
        self._lock = threading.Lock()  # guards _gathered, _refused and _closed
        self._refused = 0  # offers turned away here (full, or closed)
        self._closed = False
        self._hurry = threading.Event()  # wakes the feeder early: close
        self._feeder: threading.Thread | None = None

    @property
    def written(self) -> int:
        return self._writer.written

    @property
    def dropped(self) -> int:
        return self._writer.dropped + self._refused

    @property
    def segments(self) -> int:
        return self._writer.segments

    @property
    def write_errors(self) -> int:
        return self._writer.write_errors

    @property
    def queue_depth(self) -> int:
        return len(self._gathered) + self._writer.queue_depth

    @property
    def last_error(self) -> str | None:
        return self._writer.last_error

    def offer(self, record: PredictionRecord) -> bool:
        """Queue ``record`` without waiting; False when the queue is full (counted as dropped)."""
        with self._lock:
            full = len(self._gathered) + self._writer.queue_depth >= self._queue_size
            if self._closed or full:
                self._refused += 1
                return False
            self._gathered.append(record)
            if self._feeder is None:
                self._start_feeder()
        return True

    def flush(self, timeout: float | None = None) -> bool:
        """Write every record offered so far; False if that took longer than ``timeout`` s."""
        self._hand_over()
        return self._writer.flush(timeout)

    def close(self) -> None:
        """Write what is queued, then stop the writer; later records are dropped."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            feeder = self._feeder
        _open_logs.discard(self)
        if feeder is not None:
            self._hurry.set()
            feeder.join()
        self._hand_over()
        self._writer.close()

    def _start_feeder(self) -> None:
        feeder = threading.Thread(target=self._feed, name="noria-prediction-log-feed", daemon=True)
        feeder.start()
        self._feeder = feeder
        _open_logs.add(self)

    def _feed(self) -> None:
        while not self._hurry.wait(self._interval_s):
            self._hand_over()

    def _hand_over(self) -> None:
        """Move the gathered records to the writer's queue. Under the lock, so ``offer``
        always sees them counted in one place or the other (the capacity holds)."""
        with self._lock:
            for record in self._gathered:
                # Room was kept by offer; only a flush marker taking a slot can fill the
                # queue, and then the writer counts the record as dropped.
                self._writer.offer(record)
            self._gathered.clear()

    def _rows(self, record: PredictionRecord) -> RowGroup:
        return RowGroup(
            model_stream(self.prefix, record.model), record.time_ms, record_rows(record)
        )


def model_stream(prefix: str, model: str) -> str:
    """Where one model's segments live: its name is escaped so any name is one key segment."""
    if not model:
        raise InvalidArgument("A prediction record needs a model name; got an empty one.")
    return f"{prefix}/{quote(model, safe='')}"


def record_rows(record: PredictionRecord) -> list[dict[str, Any]]:
    """One log row per predicted row of ``record``."""
    common = {
        "request_id": record.request_id,
        "time": record.time_ms,
        "model": record.model,
        "version": record.version,
        "deployment": record.deployment,
        "role": record.role,
        "latency_ms": record.latency_ms,
        "status": record.status,
        "error": record.error,
    }
    if record.failed and not record.inputs:  # refused before its rows could be read
        return [{**common, "row": 0}]
    rows = []
    pairs = zip_longest(record.inputs, record.outputs)
    for index, (inputs, output) in enumerate(pairs):
        row: dict[str, Any] = {**common, "row": index}
        for name, value in (inputs or {}).items():
            row[INPUT_PREFIX + str(name)] = value
        row.update(_output_columns(output))
        rows.append(row)
    if not rows:
        raise InvalidArgument(f"Prediction record {record.request_id!r} has no rows to log.")
    return rows


def _output_columns(output: Any) -> dict[str, Any]:
    if not isinstance(output, Mapping):
        return {"prediction": output}
    return {
        _OUTPUT_COLUMNS.get(str(name), OUTPUT_PREFIX + str(name)): value
        for name, value in output.items()
    }


def read_predictions(
    source: Client | ArtifactStore,
    *,
    model: str,
    start: datetime | int | None = None,
    end: datetime | int | None = None,
    prefix: str = PREDICTIONS_PREFIX,
    include_errors: bool = False,
) -> pa.Table:
    """``model``'s logged rows with ``start <= time < end``, oldest first.

    Bounds are datetimes (naive ones are UTC) or ms since the epoch; None leaves that side
    open. Only the segments whose time range overlaps the window are fetched. Failed
    requests (``status`` 400 or more, no prediction) are left out unless ``include_errors``.
    """
    start_ms, end_ms = window_ms(start, name="start"), window_ms(end, name="end")
    check_window(start_ms, end_ms)
    store = SegmentStore(_artifacts(source))
    stream = model_stream(check_prefix(prefix, example=PREDICTIONS_PREFIX), model)
    tables = [store.read(ref, start_ms, end_ms) for ref in store.find(stream, start_ms, end_ms)]
    table = _in_order(concat_segments(tables, _empty_schema()))
    return table if include_errors else answered_rows(table)


def answered_rows(table: pa.Table) -> pa.Table:
    """The rows of requests that were answered (a null status: logged before statuses were)."""
    import pyarrow.compute as pc

    if "status" not in table.column_names or table.num_rows == 0:
        return table
    failed = pc.fill_null(pc.greater_equal(table["status"], FAILED_STATUS), False)
    return table.filter(pc.invert(failed))


def predictions_to_dataset(
    client: Client,
    *,
    model: str,
    name: str,
    start: datetime | int | None = None,
    end: datetime | int | None = None,
    description: str = "",
    prefix: str = PREDICTIONS_PREFIX,
) -> tuple[DatasetVersion, bool]:
    """Snapshot a window of ``model``'s log as a version of dataset ``name``.

    Returns the version and whether it is new (the same rows give the same version).
    """
    table = read_predictions(client, model=model, start=start, end=end, prefix=prefix)
    if table.num_rows == 0:
        raise NotFound(
            f"No predictions of model {model!r} were logged in the window "
            f"{shown_bound(start)} to {shown_bound(end)}; widen the window or check the model name."
        )
    note = description or f"prediction log of {model}, {shown_bound(start)} to {shown_bound(end)}"
    return client.datasets.ingest(flat_columns(table), name=name, description=note)


def flat_columns(table: pa.Table) -> pa.Table:
    """``table`` with only flat columns, as datasets take them: a struct's fields become
    ``<name>.<field>``, equal-length lists (class probabilities) ``<name>.<i>``, and other
    lists JSON text."""
    import pyarrow as pa

    while any(pa.types.is_struct(field.type) for field in table.schema):
        table = table.flatten()
    columns: dict[str, pa.ChunkedArray | pa.Array] = {}
    for name, values in zip(table.column_names, table.columns, strict=True):
        kind = values.type
        if (
            pa.types.is_list(kind)
            or pa.types.is_large_list(kind)
            or pa.types.is_fixed_size_list(kind)
        ):
            columns.update(_split_list(name, values))
        else:
            columns[name] = values
    return pa.table(columns)


def _split_list(name: str, values: pa.ChunkedArray) -> dict[str, pa.Array]:
    import pyarrow as pa

    items = values.to_pylist()
    lengths = {len(item) for item in items if item is not None}
    if len(lengths) == 1 and all(
        not isinstance(v, list | dict) for item in items if item is not None for v in item
    ):
        width = lengths.pop()
        return {
            f"{name}.{i}": pa.array([None if item is None else item[i] for item in items])
            for i in range(width)
        }
    return {name: pa.array([None if item is None else json.dumps(item) for item in items])}


def _in_order(table: pa.Table) -> pa.Table:
    if table.num_rows == 0:
        return table
    return table.sort_by([("time", "ascending"), ("request_id", "ascending"), ("row", "ascending")])


def _empty_schema() -> pa.Schema:
    import pyarrow as pa

    return pa.schema(list(prediction_columns().items()))


def _artifacts(source: Client | ArtifactStore) -> ArtifactStore:
    return source if isinstance(source, ArtifactStore) else source.artifacts

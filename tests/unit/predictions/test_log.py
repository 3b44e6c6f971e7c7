"""The prediction log over a real local artifact store: nothing lost, drops counted, segments
rolled by rows, bytes and age, and windows read from the index without scanning bytes."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, BinaryIO

import pyarrow.compute as pc
import pytest

from noria.artifacts import ArtifactStore
from noria.client import Client, connect
from noria.errors import BackendError, InvalidArgument, NotFound
from noria.ports.blobs import BlobStore
from noria.predictions.log import (
    PREDICTIONS_PREFIX,
    ParquetPredictionLog,
    model_stream,
    predictions_to_dataset,
    read_predictions,
    record_rows,
)
from noria.predictions.records import PredictionRecord
from noria.predictions.segments import SegmentRef, SegmentStore
from noria.settings import Settings

NOW_MS = int(time.time() * 1000)


class GatedBlobs:
    """A real blob store whose writes wait for ``gate`` (a slow backend) or fail (a broken one)."""

    def __init__(self, inner: BlobStore, *, fail: bool = False) -> None:
        self.inner = inner
        self.gate = threading.Event()
        self.entered = threading.Event()  # a write has started (and waits for the gate)
        self.fail = fail

    @property
    def uri(self) -> str:
        return self.inner.uri

    def put(self, key: str, source: BinaryIO) -> int:
        self.entered.set()
        self.gate.wait(30)
        if self.fail:
            raise BackendError(f"the disk is full (writing {key})")
        return self.inner.put(key, source)

    def open(self, key: str) -> BinaryIO:
        return self.inner.open(key)

    def exists(self, key: str) -> bool:
        return self.inner.exists(key)

    def list(self, prefix: str = "") -> Iterator[str]:
        return self.inner.list(prefix)

    def delete(self, key: str) -> None:
        self.inner.delete(key)


@pytest.fixture
def client(settings: Settings) -> Iterator[Client]:
    with connect(settings) as opened:
        yield opened


def record(
    index: int, *, rows: int = 1, model: str = "iris", time_ms: int = NOW_MS
) -> PredictionRecord:
    return PredictionRecord(
        request_id=f"req-{index:05d}",
        model=model,
        version=3,
        deployment="prod",
        inputs=[{"sepal": float(index), "kind": f"k{row}"} for row in range(rows)],
        outputs=[{"prediction": row % 3, "proba": [0.25, 0.75]} for row in range(rows)],
        latency_ms=1.5,
        time_ms=time_ms,
    )


def segments(client: Client, model: str = "iris") -> list[SegmentRef]:
    return SegmentStore(client.artifacts).find(model_stream(PREDICTIONS_PREFIX, model), None, None)


def test_no_record_is_lost_at_1000_records_from_many_threads(client: Client) -> None:
    log = ParquetPredictionLog(client.artifacts, max_rows=700)

    def offer_range(start: int) -> None:
        for index in range(start, start + 125):
            assert log.offer(record(index, rows=1 + index % 3))

    threads = [threading.Thread(target=offer_range, args=(n * 125,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    log.close()

    assert (log.written, log.dropped, log.write_errors) == (1000, 0, 0)
    table = read_predictions(client, model="iris")
    expected_rows = sum(1 + index % 3 for index in range(1000))
    assert table.num_rows == expected_rows
    assert len(pc.unique(table["request_id"])) == 1000
    assert log.segments == len(segments(client)) >= 3  # 2,000 rows at 700 per segment
    assert table.column_names[:8] == [
        "request_id", "row", "time", "model", "version", "deployment", "role", "latency_ms",
    ]  # fmt: skip
    third = table.filter(pc.equal(table["request_id"], "req-00002")).to_pylist()
    assert [(r["row"], r["input.kind"], r["prediction"]) for r in third] == [
        (0, "k0", 0), (1, "k1", 1), (2, "k2", 2),
    ]  # fmt: skip
    assert third[0]["input.sepal"] == 2.0 and third[0]["proba"] == [0.25, 0.75]
    assert round(third[0]["time"].timestamp() * 1000) == NOW_MS


def test_a_full_queue_drops_counts_and_never_blocks(client: Client) -> None:
    blobs = GatedBlobs(client.blobs)
    log = ParquetPredictionLog(ArtifactStore(blobs), queue_size=5, max_rows=1)
    assert log.offer(record(0))
    assert blobs.entered.wait(10)  # the writer is now stuck writing record 0's segment
    slowest = 0.0
    accepted = 0
    for index in range(1, 201):
        began = time.perf_counter()
        accepted += log.offer(record(index))
        slowest = max(slowest, time.perf_counter() - began)
    assert slowest < 0.5  # storage is stuck; offer must not wait for it
    assert (accepted, log.dropped, log.queue_depth) == (5, 195, 5)
    blobs.gate.set()
    assert log.flush(timeout=30)
    assert log.offer(record(999))  # once the queue drains, it serves again
    log.close()
    assert (log.written, log.dropped) == (7, 195)
    assert read_predictions(client, model="iris").num_rows == 7


def test_segments_roll_at_max_rows_without_splitting_a_record(client: Client) -> None:
    log = ParquetPredictionLog(client.artifacts, max_rows=100)
    for index in range(350):
        log.offer(record(index))
    log.offer(record(350, rows=40))  # fits in the open segment's 50 free rows
    log.offer(record(351, rows=40))  # does not fit in the 10 left: starts the next segment
    log.close()
    assert sorted(ref.rows for ref in segments(client)) == [40, 90, 100, 100, 100]
    assert log.segments == 5 and log.written == 352


def test_segments_roll_at_about_max_bytes(client: Client) -> None:
    log = ParquetPredictionLog(client.artifacts, max_bytes=20_000)
    wide = [
        PredictionRecord(f"r{i}", "iris", 1, None, [{"text": "x" * 1000}], [1], 1.0, NOW_MS)
        for i in range(100)
    ]
    for item in wide:
        log.offer(item)
    log.close()
    found = segments(client)
    assert len(found) >= 5 and sum(ref.rows for ref in found) == 100
    assert all(ref.rows * 1000 <= 20_000 for ref in found)  # each row holds 1,000+ bytes


def test_segments_roll_when_they_get_old(client: Client) -> None:
    log = ParquetPredictionLog(client.artifacts, max_age_s=0.2)
    log.offer(record(1))
    _wait_for(lambda: log.segments == 1)
    log.offer(record(2))
    _wait_for(lambda: log.segments == 2)
    assert [ref.rows for ref in segments(client)] == [1, 1]
    log.close()


def test_gathered_records_reach_storage_every_interval_without_a_flush(client: Client) -> None:
    log = ParquetPredictionLog(client.artifacts, batch_interval_s=0.05, max_age_s=0.05)
    for index in range(20):
        assert log.offer(record(index))
    _wait_for(lambda: log.written == 20)
    assert (log.dropped, log.queue_depth) == (0, 0)
    assert read_predictions(client, model="iris").num_rows == 20
    log.close()


def _wait_for(condition: object, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "the writer never rolled the segment"
        time.sleep(0.02)


def test_a_window_reads_only_overlapping_segments_across_days(client: Client) -> None:
    midnight = int(datetime(2024, 3, 2, tzinfo=UTC).timestamp() * 1000)
    start = midnight - 1000  # records every 100 ms from 1 s before midnight
    log = ParquetPredictionLog(client.artifacts, max_rows=5)
    for index in range(30):
        log.offer(record(index, time_ms=start + index * 100))
    log.close()
    days = {ref.key.split("/")[-2] for ref in segments(client)}
    assert days == {"2024-03-01", "2024-03-02"}

    window = (start + 500, start + 1500)  # records 5..14, end excluded
    found = SegmentStore(client.artifacts).find(model_stream(PREDICTIONS_PREFIX, "iris"), *window)
    assert [(ref.first_ms - start) // 100 for ref in found] == [5, 10]  # not the other four
    table = read_predictions(client, model="iris", start=window[0], end=window[1])
    assert table["request_id"].to_pylist() == [f"req-{i:05d}" for i in range(5, 15)]
    as_datetimes = read_predictions(
        client,
        model="iris",
        start=datetime.fromtimestamp(window[0] / 1000, UTC),
        end=datetime.fromtimestamp(window[1] / 1000, UTC).replace(tzinfo=None),  # naive: UTC
    )
    assert as_datetimes.equals(table)
    assert read_predictions(client, model="iris", start=start + 3000).num_rows == 0
    with pytest.raises(InvalidArgument, match="window is empty"):
        read_predictions(client, model="iris", start=start, end=start)


def test_models_are_kept_apart_and_any_name_works(client: Client) -> None:
    log = ParquetPredictionLog(client.artifacts)
    log.offer(record(1, model="a"))
    log.offer(record(2, model="a/b c"))
    log.offer(record(3, model="ab"))
    log.close()
    assert read_predictions(client, model="a")["request_id"].to_pylist() == ["req-00001"]
    assert read_predictions(client, model="a/b c")["model"].to_pylist() == ["a/b c"]
    assert read_predictions(client, model="nobody").num_rows == 0


def test_the_route_role_is_logged_and_older_segments_read_as_null(client: Client) -> None:
    live = replace(record(1), role="canary")
    shadow = replace(record(1), version=4, role="shadow")
    log = ParquetPredictionLog(client.artifacts)
    for entry in (live, shadow):
        assert log.offer(entry)
    log.close()
    # A segment written before the role column existed: same stream, no "role" column.
    table = read_predictions(client, model="iris").drop_columns(["role"])
    SegmentStore(client.artifacts).write(
        model_stream(PREDICTIONS_PREFIX, "iris"), table, first_ms=NOW_MS, last_ms=NOW_MS
    )

    rows = read_predictions(client, model="iris").to_pylist()
    assert sorted((r["version"], r["role"] or "-", r["deployment"]) for r in rows) == [
        (3, "-", "prod"), (3, "canary", "prod"), (4, "-", "prod"), (4, "shadow", "prod"),
    ]  # fmt: skip


def test_failed_requests_are_logged_apart_and_read_only_when_asked(client: Client) -> None:
    failed = replace(record(2), inputs=[], outputs=[], status=500, error="MODEL_ERROR")
    log = ParquetPredictionLog(client.artifacts)
    for entry in (record(1), failed):
        assert log.offer(entry)
    log.close()
    answered = read_predictions(client, model="iris").to_pylist()
    assert [(r["request_id"], r["status"], r["error"]) for r in answered] == [
        ("req-00001", 200, None)
    ]
    every = read_predictions(client, model="iris", include_errors=True).to_pylist()
    shown = [(r["request_id"], r["row"], r["status"], r["error"], r["prediction"]) for r in every]
    assert shown == [
        ("req-00001", 0, 200, None, 0), ("req-00002", 0, 500, "MODEL_ERROR", None),
    ]  # fmt: skip
    with pytest.raises(InvalidArgument, match="no rows to log"):
        record_rows(replace(record(3), inputs=[], outputs=[]))  # an answer must have rows


def test_columns_that_change_type_or_appear_later_are_kept(client: Client) -> None:
    log = ParquetPredictionLog(client.artifacts)
    cases: list[tuple[str, dict[str, Any], Any]] = [
        ("a", {"x": 1}, 0.5),
        ("b", {"x": "one", "y": True}, 1.5),
        ("c", {"x": 2}, {"score": 3}),
    ]
    for request_id, inputs, output in cases:
        log.offer(PredictionRecord(request_id, "iris", None, None, [inputs], [output], 1.0, NOW_MS))
    log.close()
    assert (log.written, log.dropped) == (3, 0)
    rows = {row["request_id"]: row for row in read_predictions(client, model="iris").to_pylist()}
    assert [rows[key]["input.x"] for key in "abc"] == ["1", "one", "2"]  # text where types clash
    assert rows["a"]["input.y"] is None and rows["b"]["input.y"] is True
    assert rows["c"]["output.score"] == 3 and rows["c"]["prediction"] is None


def test_a_window_becomes_a_dataset_version(client: Client) -> None:
    log = ParquetPredictionLog(client.artifacts)
    for index in range(20):
        log.offer(record(index, time_ms=NOW_MS + index))
    log.close()
    version, created = predictions_to_dataset(
        client, model="iris", name="iris-predictions", start=NOW_MS, end=NOW_MS + 10
    )
    assert created and version.row_count == 10
    assert {"proba.0", "proba.1", "input.sepal", "prediction"} <= set(version.column_names)
    again, created_again = predictions_to_dataset(
        client, model="iris", name="iris-predictions", start=NOW_MS, end=NOW_MS + 10
    )
    assert again.version == version.version and not created_again
    with pytest.raises(NotFound, match="No predictions of model 'iris'"):
        predictions_to_dataset(client, model="iris", name="x", start=NOW_MS + 100)


def test_storage_failures_are_counted_never_silent(client: Client) -> None:
    blobs = GatedBlobs(client.blobs, fail=True)
    blobs.gate.set()
    log = ParquetPredictionLog(ArtifactStore(blobs))
    for index in range(3):
        log.offer(record(index))
    log.close()
    assert (log.written, log.dropped, log.write_errors) == (0, 3, 1)
    assert log.last_error is not None and "disk is full" in log.last_error
    assert not log.offer(record(4)) and log.dropped == 4  # closed: dropped, and counted


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"queue_size": 0}, "queue_size must be a positive integer"),
        ({"max_rows": 0}, "max_rows must be a positive number"),
        ({"max_age_s": -1.0}, "max_age_s must be a positive number"),
        ({"prefix": "../up"}, "Invalid log prefix"),
        ({"batch_interval_s": 0}, "batch_interval_s must be a positive number"),
    ],
)
def test_bad_settings_are_refused(client: Client, options: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        ParquetPredictionLog(client.artifacts, **options)  # type: ignore[arg-type]

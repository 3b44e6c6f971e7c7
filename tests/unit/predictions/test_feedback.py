"""Ground-truth labels: checked, appended to segments, read by window, joined to predictions."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pyarrow as pa
import pytest

from noria.artifacts import ArtifactStore
from noria.client import Client, connect
from noria.errors import BackendError, InvalidArgument
from noria.predictions.feedback import FeedbackLog, Label, labels_from_body, read_feedback
from noria.predictions.join import join_feedback
from noria.predictions.log import ParquetPredictionLog, read_predictions
from noria.predictions.records import PredictionRecord
from noria.settings import Settings
from tests.unit.predictions.test_log import GatedBlobs

NOW_MS = int(time.time() * 1000)


@pytest.fixture
def client(settings: Settings) -> Iterator[Client]:
    with connect(settings) as opened:
        yield opened


@pytest.fixture
def predictions(client: Client) -> pa.Table:
    """r0 has two rows, r1..r3 one each."""
    log = ParquetPredictionLog(client.artifacts)
    for index, rows in enumerate([2, 1, 1, 1]):
        inputs = [{"x": index * 10 + row} for row in range(rows)]
        log.offer(PredictionRecord(f"r{index}", "churn", 1, None, inputs, [0] * rows, 2.0, NOW_MS))
    log.close()
    return read_predictions(client, model="churn")


def labelled(table: pa.Table) -> list[tuple[str, int, Any]]:
    return [(row["request_id"], row["row"], row["label"]) for row in table.to_pylist()]


def test_labels_join_by_request_and_row_latest_wins(client: Client, predictions: pa.Table) -> None:
    feedback = FeedbackLog(client.artifacts)
    body = {
        "labels": [
            {"request_id": "r0", "row": 1, "label": 1},  # one row of a two-row request
            {"request_id": "r1", "label": 0},  # the whole request
            {"request_id": "r2", "label": 0},
            {"request_id": "r9", "label": 1},  # a request the log does not have
        ]
    }
    assert feedback.append(labels_from_body(body)) == 4
    assert feedback.flush(timeout=30)
    feedback.append([{"request_id": "r2", "label": 1}])  # a correction: the latest wins
    feedback.append([Label(request_id="r0", label=0)])  # the row label stays more specific
    feedback.close()
    assert (feedback.written, feedback.dropped) == (3, 0)

    labels = read_feedback(client)
    assert labels.num_rows == 6 and labels.column_names == ["request_id", "row", "time", "label"]
    inner = join_feedback(predictions, labels)
    assert labelled(inner) == [("r0", 0, 0), ("r0", 1, 1), ("r1", 0, 0), ("r2", 0, 1)]
    assert inner.column_names[-2:] == ["label", "label_time"]
    assert inner["input.x"].to_pylist() == [0, 1, 10, 20]  # predictions' columns come along
    left = join_feedback(predictions, labels, how="left")
    assert labelled(left)[-1] == ("r3", 0, None) and left.num_rows == predictions.num_rows


def test_feedback_is_read_by_arrival_window(client: Client) -> None:
    feedback = FeedbackLog(client.artifacts)
    feedback.append([{"request_id": "early", "label": "spam"}])
    feedback.flush(timeout=30)
    between = int(time.time() * 1000) + 1
    time.sleep(0.01)
    feedback.append([{"request_id": "late", "label": "ham"}])
    feedback.close()
    assert read_feedback(client, end=between)["request_id"].to_pylist() == ["early"]
    assert read_feedback(client, start=between)["label"].to_pylist() == ["ham"]


def test_no_feedback_joins_to_nothing_or_to_nulls(client: Client, predictions: pa.Table) -> None:
    empty = read_feedback(client)
    assert empty.num_rows == 0
    assert join_feedback(predictions, empty).num_rows == 0
    left = join_feedback(predictions, empty, how="left")
    assert left["label"].null_count == predictions.num_rows


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([{"request_id": "a", "label": 1}], "must be"),
        ({"labels": []}, "non-empty list"),
        ({"labels": [{"request_id": "a"}]}, r"labels\[0\] has no label"),
        ({"labels": [{"request_id": "a", "lable": 1}]}, r"unknown field\(s\) \['lable'\]"),
        ({"labels": [{"request_id": "", "label": 1}]}, r"labels\[0\]\.request_id"),
        ({"labels": [{"request_id": "a", "row": -1, "label": 1}]}, r"row must be a row index"),
        ({"labels": [{"request_id": "a", "row": True, "label": 1}]}, r"row must be a row index"),
        ({"labels": [{"request_id": "a", "label": {"y": 1}}]}, r"label must be text, a number"),
        ({"labels": [{"request_id": "a", "label": float("nan")}]}, r"label is NaN"),
        ({"labels": [{"request_id": "a", "label": 1}, 5]}, r"labels\[1\] must be an object"),
    ],
)
def test_bad_feedback_bodies_are_refused_whole(body: object, message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        labels_from_body(body)


def test_a_full_feedback_queue_refuses_instead_of_dropping(client: Client) -> None:
    blobs = GatedBlobs(client.blobs)
    feedback = FeedbackLog(ArtifactStore(blobs), queue_size=1, max_rows=1, put_timeout_s=0.05)
    feedback.append([{"request_id": "r0", "label": 0}])
    assert blobs.entered.wait(10)  # the writer is stuck storing r0
    feedback.append([{"request_id": "r1", "label": 1}])  # waits in the queue
    for index in range(2, 5):
        with pytest.raises(BackendError, match="Nothing was stored; retry shortly"):
            feedback.append([{"request_id": f"r{index}", "label": index}])
    assert feedback.dropped == 3
    blobs.gate.set()
    feedback.close()
    assert feedback.written == 2
    assert read_feedback(client)["request_id"].to_pylist() == ["r0", "r1"]


def test_append_takes_a_list_not_a_body(client: Client) -> None:
    feedback = FeedbackLog(client.artifacts)
    with pytest.raises(InvalidArgument, match="labels_from_body"):
        feedback.append({"labels": []})  # type: ignore[arg-type]
    assert feedback.append([]) == 0
    feedback.close()

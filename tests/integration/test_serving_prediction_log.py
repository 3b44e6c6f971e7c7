"""The prediction log and feedback in a real server: every answer logged to Parquet in the
artifact store and read back after shutdown, labels posted to ``/v1/feedback`` joined to them,
and a full queue (a real store made slow) counting drops while serving goes on."""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

import httpx
import pandas as pd
import pytest

import noria
from noria.artifacts import ArtifactStore
from noria.client import Client, connect
from noria.models.flavors.python import PythonModel
from noria.ports.blobs import BlobStore
from noria.predictions.feedback import FeedbackLog, read_feedback
from noria.predictions.join import join_feedback
from noria.predictions.log import ParquetPredictionLog, read_predictions
from noria.serving import ServedModelConfig, ServingConfig, create_serving_app
from noria.serving.config import PredictionLogConfig
from noria.settings import Settings
from tests.integration.test_serving import serving

pytestmark = pytest.mark.slow
REQUESTS = 1_000


class Tripled(PythonModel):
    def predict(self, data: Any) -> Any:
        return data["x"] * 3


class SlowBlobs:
    """A real blob store whose writes wait until :attr:`gate` opens: a stuck storage.
    :attr:`stuck` is set once a writer waits on it."""

    def __init__(self, inner: BlobStore, gate: threading.Event) -> None:
        self._inner = inner
        self.gate = gate
        self.stuck = threading.Event()

    @property
    def uri(self) -> str:
        return self._inner.uri

    def put(self, key: str, source: BinaryIO) -> int:
        self.stuck.set()
        self.gate.wait(timeout=60)
        return self._inner.put(key, source)

    def open(self, key: str) -> BinaryIO:
        return self._inner.open(key)

    def exists(self, key: str) -> bool:
        return self._inner.exists(key)

    def list(self, prefix: str = "") -> Iterator[str]:
        return self._inner.list(prefix)

    def delete(self, key: str) -> None:
        self._inner.delete(key)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[tuple[Settings, Client]]:
    settings = Settings(home=tmp_path / "home", user="tester")
    with connect(settings) as client:
        previous = noria.set_default_client(client)
        try:
            with noria.start_run(experiment="logged"):
                noria.log_model(Tripled(), "model", input_example=pd.DataFrame({"x": [1.0]}),
                                registered_model_name="tripled")  # fmt: skip
        finally:
            noria.set_default_client(previous)
        yield settings, client


def config(**log: Any) -> ServingConfig:
    return ServingConfig(
        models=(ServedModelConfig(uri="models:/tripled/1"),),
        prediction_log=PredictionLogConfig(**log),
    )


def metric(text: str, series: str) -> float:
    match = re.search(rf"^{re.escape(series)} (\S+)$", text, re.M)
    assert match, f"no {series} in the metrics"
    return float(match.group(1))


async def predict_all(url: str, count: int) -> list[httpx.Response]:
    limit = asyncio.Semaphore(16)

    async def one(client: httpx.AsyncClient, index: int) -> httpx.Response:
        async with limit:
            return await client.post(
                "/v1/models/tripled/predict",
                json={"records": [{"x": float(index)}]},
                headers={"X-Request-ID": f"req-{index:04d}"},
            )

    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        return list(await asyncio.gather(*(one(client, i) for i in range(count))))


def test_every_answer_is_logged_and_joins_its_feedback(store: tuple[Settings, Client]) -> None:
    settings, client = store
    with serving(create_serving_app(config(max_age_s=0.2), settings=settings)) as url:
        answers = asyncio.run(predict_all(url, REQUESTS))
        assert {answer.status_code for answer in answers} == {200}
        labels = [{"request_id": f"req-{i:04d}", "label": i % 2} for i in range(0, REQUESTS, 10)]
        labels.append({"request_id": "req-0001", "row": 0, "label": 1})
        posted = httpx.post(f"{url}/v1/feedback", json={"labels": labels})
        assert (posted.status_code, posted.json()) == (202, {"accepted": 101})

        bad = httpx.post(f"{url}/v1/feedback", json={"labels": [
            {"request_id": "req-0002", "label": 1},
            {"request_id": "req-0003", "row": -1, "label": 1},
            {"request_id": "req-0004", "lable": 1},
        ]})  # fmt: skip
        assert bad.status_code == 422 and bad.json()["error_code"] == "INVALID_FEEDBACK"
        problems = bad.json()["problems"]
        assert [problem["field"] for problem in problems] == ["labels[1]", "labels[2]"]
        assert "row must be a row index" in problems[0]["got"]
        assert "unknown field(s) ['lable']" in problems[1]["got"]
        assert httpx.post(f"{url}/v1/feedback", content=b"{").status_code == 400
        assert httpx.post(f"{url}/v1/feedback", json={"rows": []}).status_code == 422

        # A refused request is logged as a failure (status, code, no prediction) for the
        # monitors' error rates, and left out of what predictions are read for.
        refused = httpx.post(
            f"{url}/v1/models/tripled/predict",
            json={"records": [{"x": "not a number"}]},
            headers={"X-Request-ID": "req-refused"},
        )
        assert refused.status_code == 422

        text = httpx.get(f"{url}/metrics").text
        assert metric(text, "noria_serving_feedback_labels_total") == 101
        assert metric(text, "noria_serving_prediction_log_dropped_total") == 0

    predictions = read_predictions(client, model="tripled")
    assert predictions.num_rows == REQUESTS
    assert sorted(predictions["request_id"].to_pylist()) == [
        f"req-{i:04d}" for i in range(REQUESTS)
    ]
    rows = predictions.to_pandas().set_index("request_id")
    assert rows.loc["req-0123", "input.x"] == 123.0 and rows.loc["req-0123", "prediction"] == 369.0
    assert set(rows["version"]) == {1} and set(rows["model"]) == {"tripled"}
    assert (rows["latency_ms"] > 0).all()

    assert set(rows["status"]) == {200}
    everything = read_predictions(client, model="tripled", include_errors=True)
    [failed] = [row for row in everything.to_pylist() if row["request_id"] == "req-refused"]
    assert (failed["status"], failed["error"], failed["prediction"]) == (
        422, "INVALID_INPUT", None,
    )  # fmt: skip
    assert failed["latency_ms"] > 0 and failed["input.x"] is None

    joined = join_feedback(predictions, read_feedback(client)).to_pandas().set_index("request_id")
    assert len(joined) == 101
    assert joined.loc["req-0010", "label"] == 0 and joined.loc["req-0990", "label"] == 0
    assert joined.loc["req-0001", "label"] == 1


def test_a_full_queue_counts_drops_and_keeps_serving(store: tuple[Settings, Client]) -> None:
    settings, client = store
    gate = threading.Event()
    log_blobs, feedback_blobs = SlowBlobs(client.blobs, gate), SlowBlobs(client.blobs, gate)
    log = ParquetPredictionLog(ArtifactStore(log_blobs), max_age_s=0.01, queue_size=2)
    feedback = FeedbackLog(
        ArtifactStore(feedback_blobs), max_age_s=0.01, queue_size=1, put_timeout_s=0.2
    )
    app = create_serving_app(config(), settings=settings, sink=log, feedback=feedback)
    with serving(app) as url:
        try:
            assert asyncio.run(predict_all(url, 1))[0].status_code == 200
            assert log_blobs.stuck.wait(timeout=10)  # the writer holds one record, stuck
            answers = asyncio.run(predict_all(url, 40))  # 2 fit in the queue, 38 do not
            assert {answer.status_code for answer in answers} == {200}
            text = httpx.get(f"{url}/metrics").text
            assert metric(text, 'noria_serving_predictions_dropped_total{model="tripled"}') == 38
            assert metric(text, "noria_serving_prediction_log_dropped_total") == 38
            assert metric(text, "noria_serving_prediction_log_queue_depth") == 2
            assert metric(text, "noria_serving_prediction_log_written_total") == 0

            label = {"labels": [{"request_id": "req-0001", "label": 1}]}
            first = httpx.post(f"{url}/v1/feedback", json=label)
            assert first.status_code == 202 and feedback_blobs.stuck.wait(timeout=10)
            assert httpx.post(f"{url}/v1/feedback", json=label).status_code == 202  # queued
            full = httpx.post(f"{url}/v1/feedback", json=label)
            assert full.status_code == 503 and full.json()["error_code"] == "BACKEND_ERROR"
            assert "retry" in full.json()["message"]
        finally:
            gate.set()  # storage comes back; what is queued is written at shutdown
    assert (log.written, log.dropped) == (3, 38)
    assert read_predictions(client, model="tripled").num_rows == 3
    assert read_feedback(client).num_rows == 2

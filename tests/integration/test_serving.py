"""The model server end to end: real models logged and registered through Noria, served by a
real uvicorn on a free port, called over HTTP by httpx, tritonclient and the CLI."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest
import uvicorn
from fastapi import FastAPI
from sklearn.compose import make_column_transformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder

import noria
from noria.client import connect
from noria.models.flavors.python import PythonModel
from noria.serving import (
    BatchingConfig,
    PredictionRecord,
    ServedModelConfig,
    ServingConfig,
    create_serving_app,
)
from noria.settings import Settings
from tests.conftest import free_port

pytestmark = pytest.mark.slow
BODY_LIMIT = 64 * 1024


class Fragile(PythonModel):
    """Doubles ``x``, and fails on a negative one (a model error, not a bad request)."""

    def predict(self, data: Any) -> Any:
        if (data["x"] < 0).any():
            raise ValueError("x must not be negative")
        return data["x"] * 2


class RecordingSink:
    def __init__(self) -> None:
        self.records: list[PredictionRecord] = []
        self.closed = False
        self._lock = threading.Lock()

    def offer(self, record: PredictionRecord) -> bool:
        with self._lock:
            self.records.append(record)
        return True

    def close(self) -> None:
        self.closed = True


@dataclass(frozen=True)
class Served:
    url: str
    home: Path
    credit: Any  # the fitted pipeline, to compare answers with
    matrix: LogisticRegression
    sink: RecordingSink


def credit_frame(rows: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "age": rng.integers(18, 80, rows),
            "income": rng.normal(50.0, 10.0, rows),
            "city": rng.choice(["Oslo", "Rome", "Lima"], rows),
        }
    )


def log_models(settings: Settings) -> tuple[Any, LogisticRegression, str]:
    frame = credit_frame(300)
    credit = make_pipeline(
        make_column_transformer(
            (OneHotEncoder(handle_unknown="ignore"), ["city"]), remainder="passthrough"
        ),
        LogisticRegression(max_iter=1000),
    ).fit(frame, (frame["age"] > 45).astype(int))
    features = np.random.default_rng(1).normal(size=(200, 4))
    matrix = LogisticRegression().fit(features, (features[:, 0] > 0).astype(int))
    with connect(settings) as client:
        previous = noria.set_default_client(client)
        try:
            with noria.start_run(experiment="serving"):
                noria.log_model(
                    credit, "credit", input_example=frame.head(5), registered_model_name="credit"
                )
                noria.log_model(
                    matrix, "matrix", input_example=features[:5], registered_model_name="matrix"
                )
                fragile = noria.log_model(
                    Fragile(), "fragile", input_example=pd.DataFrame({"x": [1.0, 2.0]})
                )
            noria.set_alias("credit", "champion", 1)
        finally:
            noria.set_default_client(previous)
    return credit, matrix, fragile


@contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    """``app`` under a real uvicorn on a free loopback port, in a thread; yields its URL."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", ws="none")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the serving app did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        assert not thread.is_alive(), "the serving app did not stop"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    home = tmp_path_factory.mktemp("serving") / "home"
    settings = Settings(home=home, user="tester")
    credit, matrix, fragile_uri = log_models(settings)
    config = ServingConfig(
        models=(
            ServedModelConfig(
                uri="models:/credit@champion", batching=BatchingConfig(max_batch_size=16)
            ),
            ServedModelConfig(uri="models:/matrix/1", batching=BatchingConfig(enabled=False)),
            ServedModelConfig(uri=fragile_uri, name="fragile"),
        ),
        max_body_bytes=BODY_LIMIT,
    )
    sink = RecordingSink()
    with serving(create_serving_app(config, settings=settings, sink=sink)) as url:
        yield Served(url, home, credit, matrix, sink)
    assert sink.closed


@pytest.fixture
def http(served: Served) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=served.url, timeout=30) as client:
        yield client


def expected(served: Served, frame: pd.DataFrame) -> list[int]:
    return [int(value) for value in served.credit.predict(frame)]


def test_health_and_the_models_served(http: httpx.Client) -> None:
    assert http.get("/health/live").json() == {"status": "live"}
    assert http.get("/health/ready").json() == {
        "status": "ready",
        "models": ["credit", "fragile", "matrix"],
        "deployments": [],
    }
    models = {model["name"]: model for model in http.get("/v1/models").json()["models"]}
    assert (models["credit"]["version"], models["credit"]["registered_model"]) == (1, "credit")
    assert models["credit"]["uri"] == "models:/credit@champion"
    assert models["credit"]["batching"] == {
        "enabled": True,
        "max_batch_size": 16,
        "max_wait_ms": 5.0,
        "inline_max_ms": 2.0,
    }
    assert models["fragile"]["version"] is None and models["fragile"]["flavor"] == "python"
    columns = models["credit"]["signature"]["inputs"]["columns"]
    assert [column["name"] for column in columns] == ["age", "income", "city"]
    assert "/v1/models/{name}/predict" in http.get("/openapi.json").json()["paths"]


def test_native_records_and_columns(served: Served, http: httpx.Client) -> None:
    frame = credit_frame(5, seed=7)
    records = http.post("/v1/models/credit/predict", json={"records": frame.to_dict("records")})
    assert records.status_code == 200, records.text
    body = records.json()
    assert body["predictions"] == expected(served, frame)
    assert (body["model"], body["version"]) == ("credit", 1)
    assert records.headers["x-request-id"] == body["request_id"] and len(body["request_id"]) == 32
    columns = http.post(
        "/v1/models/credit/predict",
        json={"columns": frame.to_dict("list")},
        headers={"X-Request-ID": "client-chosen-7"},
    )
    assert columns.json()["predictions"] == expected(served, frame)
    assert columns.json()["request_id"] == columns.headers["x-request-id"] == "client-chosen-7"


def test_mlflow_invocations_in_its_four_formats(served: Served, http: httpx.Client) -> None:
    frame = credit_frame(3, seed=8)
    split = frame.to_dict("split")
    documents = [
        {"dataframe_split": {"columns": split["columns"], "data": split["data"]}},
        {"dataframe_records": frame.to_dict("records")},
        {"instances": frame.to_dict("records")},
        {"inputs": frame.to_dict("list")},
    ]
    for document in documents:
        answer = http.post("/invocations", params={"model": "credit"}, json=document)
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"predictions": expected(served, frame)}
    rows = np.random.default_rng(3).normal(size=(4, 4))
    for document in ({"instances": rows.tolist()}, {"inputs": rows.tolist()}):
        answer = http.post("/invocations?model=matrix", json=document)
        assert answer.json()["predictions"] == served.matrix.predict(rows).tolist()
    several = http.post("/invocations", json=documents[0])
    assert several.status_code == 400 and "?model=" in several.json()["message"]


def test_open_inference_with_a_real_v2_client(served: Served) -> None:
    import tritonclient.http as triton

    frame = credit_frame(6, seed=9)
    client = triton.InferenceServerClient(url=served.url.removeprefix("http://"))
    try:
        assert client.is_server_live() and client.is_server_ready()
        assert client.is_model_ready("credit")
        assert client.get_server_metadata()["name"] == "noria"
        metadata = client.get_model_metadata("credit")
        assert [item["name"] for item in metadata["inputs"]] == ["age", "income", "city"]
        for binary in (True, False):
            inputs = [
                triton.InferInput("age", [6], "INT64"),
                triton.InferInput("income", [6], "FP64"),
                triton.InferInput("city", [6], "BYTES"),
            ]
            inputs[0].set_data_from_numpy(frame["age"].to_numpy("int64"), binary_data=binary)
            inputs[1].set_data_from_numpy(frame["income"].to_numpy(), binary_data=binary)
            inputs[2].set_data_from_numpy(frame["city"].to_numpy(object), binary_data=binary)
            result = client.infer("credit", inputs, model_version="1", request_id="v2-call")
            assert result.as_numpy("predictions").tolist() == expected(served, frame)
            assert result.get_response()["id"] == "v2-call"
        rows = np.random.default_rng(4).normal(size=(3, 4))
        tensor = triton.InferInput("input", [3, 4], "FP64")
        tensor.set_data_from_numpy(rows)
        answer = client.infer(
            "matrix", [tensor], outputs=[triton.InferRequestedOutput("predictions")]
        )
        assert answer.as_numpy("predictions").tolist() == served.matrix.predict(rows).tolist()
        with pytest.raises(triton.InferenceServerException, match="not served"):
            client.infer("credit", inputs, model_version="2")
    finally:
        client.close()


def test_a_bad_request_lists_every_problem_and_never_reaches_the_model(http: httpx.Client) -> None:
    bad = {"records": [{"age": "old", "income": None}, {"age": 30, "income": 1.0, "city": 5}]}
    answer = http.post("/v1/models/credit/predict", json=bad)
    assert answer.status_code == 422
    body = answer.json()
    assert body["error_code"] == "INVALID_INPUT" and answer.headers["x-request-id"]
    assert [(p["field"], p["got"]) for p in body["problems"]] == [
        ("age", "string 'old' in row 0"),
        ("income", "null in rows [0]"),
        ("city", "missing in rows [0]"),
    ]
    v2 = http.post(
        "/v2/models/credit/infer",
        json={"inputs": [{"name": "age", "shape": [1], "datatype": "FP32", "data": [1.5]}]},
    )
    assert v2.status_code == 422 and "error" in v2.json()
    assert {p["field"] for p in v2.json()["problems"]} == {"age", "income", "city"}
    assert http.post("/v1/models/credit/predict", content=b"{not json").status_code == 400
    assert (
        http.post(
            "/v1/models/credit/predict", content=b"a,b", headers={"content-type": "text/csv"}
        ).status_code
        == 415
    )
    refused = http.post(
        "/v1/models/credit/predict", json=bad, headers={"X-Request-ID": "has space"}
    )
    assert refused.status_code == 400


def test_oversized_bodies_get_413(http: httpx.Client) -> None:
    big = {"columns": {"age": [1] * BODY_LIMIT, "income": [1.0], "city": ["x"]}}
    assert http.post("/v1/models/credit/predict", json=big).status_code == 413

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit holds while streaming
        yield b'{"records": ['
        for _ in range(BODY_LIMIT // 16):
            yield b'{"age": 1.0}, ' * 2
        yield b"{}]}"

    answer = http.post("/invocations?model=credit", content=chunks())
    assert answer.status_code == 413 and answer.json()["error_code"] == "PAYLOAD_TOO_LARGE"


def test_unknown_models_get_404(http: httpx.Client) -> None:
    for method, path in [
        ("POST", "/v1/models/nope/predict"),
        ("POST", "/v2/models/nope/infer"),
        ("POST", "/invocations?model=nope"),
        ("GET", "/v2/models/nope"),
        ("GET", "/v2/models/nope/ready"),
        ("GET", "/v2/models/credit/versions/9"),
    ]:
        answer = http.request(method, path, json={"records": [{"x": 1}]})
        assert answer.status_code == 404, (path, answer.text)
        assert answer.json()["error_code"] == "NOT_FOUND"
        assert method == "GET" or answer.headers["x-request-id"]


def test_a_model_failure_is_a_500_with_its_message(http: httpx.Client) -> None:
    failed = http.post("/v1/models/fragile/predict", json={"records": [{"x": -1.0}]})
    assert failed.status_code == 500
    assert failed.json()["error_code"] == "MODEL_ERROR"
    assert "ValueError: x must not be negative" in failed.json()["message"]
    fine = http.post("/v1/models/fragile/predict", json={"records": [{"x": 2.0}]})
    assert fine.json()["predictions"] == [4.0]


def test_concurrent_callers_get_their_own_rows(served: Served) -> None:
    frames = [credit_frame(1 + index % 4, seed=100 + index) for index in range(40)]

    async def call_all() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=served.url, timeout=30) as client:
            calls = [
                client.post("/v1/models/credit/predict", json={"records": frame.to_dict("records")})
                for frame in frames
            ]
            return list(await asyncio.gather(*calls))

    for frame, answer in zip(frames, asyncio.run(call_all()), strict=True):
        assert answer.status_code == 200
        assert answer.json()["predictions"] == expected(served, frame)


def test_each_answer_is_offered_to_the_sink(served: Served, http: httpx.Client) -> None:
    frame = credit_frame(2, seed=11)
    http.post("/v1/models/credit/predict", json={"records": frame.to_dict("records")},
              headers={"X-Request-ID": "logged-1"})  # fmt: skip
    deadline = time.monotonic() + 10  # the record is offered after the answer is sent
    while not any(r.request_id == "logged-1" for r in served.sink.records):
        assert time.monotonic() < deadline, "no record reached the sink"
        time.sleep(0.02)
    record = next(r for r in served.sink.records if r.request_id == "logged-1")
    assert (record.model, record.version, record.deployment) == ("credit", 1, None)
    assert [row["city"] for row in record.inputs] == frame["city"].tolist()
    assert record.outputs == expected(served, frame) and record.latency_ms > 0
    assert abs(record.time_ms - time.time() * 1000) < 60_000


def test_metrics_expose_every_series(http: httpx.Client) -> None:
    http.post("/v1/models/credit/predict", json={"records": credit_frame(2).to_dict("records")})
    http.post("/v1/models/credit/predict", json={"records": [{"age": "x"}]})
    text = http.get("/metrics").text
    for series in (
        'noria_serving_requests_total{code="200",model="credit",protocol="native",version="1"}',
        'noria_serving_requests_total{code="422",model="credit",protocol="native",version="1"}',
        'noria_serving_errors_total{code="422",error_code="INVALID_INPUT",model="credit",version="1"}',
        'noria_serving_request_duration_seconds_bucket{le="0.005",model="credit",version="1"}',
        'noria_serving_batch_size_rows_bucket{le="16.0",model="credit",version="1"}',
        'noria_serving_queue_wait_seconds_count{model="credit",version="1"}',
        'noria_serving_batches_total{model="credit",reason="idle",version="1"}',
        'noria_serving_queue_depth_rows{model="credit",version="1"}',
        'noria_serving_predict_duration_seconds_count{model="credit",version="1"}',
        'noria_serving_model_info{flavor="sklearn",model="credit",'
        'uri="models:/credit@champion",version="1"} 1.0',
        "process_cpu_seconds_total",
        "process_resident_memory_bytes",
    ):
        assert series in text, series


def test_noria_serve_starts_workers_and_answers(served: Served, tmp_path: Path) -> None:
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("NORIA_")}
    command = [sys.executable, "-m", "noria.cli.main", "--home", str(served.home), "serve",
               "models:/credit@champion", "--port", str(port), "--workers", "2",
               "--log-level", "warning"]  # fmt: skip
    log = tmp_path / "serve.log"
    with log.open("w") as output:
        process = subprocess.Popen(command, env=env, stderr=output)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "noria serve did not become ready"
            try:
                if httpx.get(f"{url}/health/ready", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        frame = credit_frame(2, seed=12)
        answer = httpx.post(
            f"{url}/v1/models/credit/predict", json={"records": frame.to_dict("records")}
        )
        assert answer.json()["predictions"] == expected(served, frame)
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_noria_serve_refuses_a_bad_uri_in_one_line(served: Served) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("NORIA_")}
    command = [sys.executable, "-m", "noria.cli.main", "--home", str(served.home)]
    result = subprocess.run(
        [*command, "serve", "models:/nope/1"],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stderr.startswith("Error:") and len(result.stderr.strip().splitlines()) == 1

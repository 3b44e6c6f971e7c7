"""Hot swap under load: a real uvicorn serves ``models:/scaled@champion`` while load generator
threads call it over HTTP and the alias moves forward, back (a rollback) and to a version
that cannot be loaded. No request may fail, and every answer must come whole from the version
it names."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest

import noria
from noria.client import Client, connect
from noria.models.flavors.python import PythonModel
from noria.predictions.log import read_predictions
from noria.serving import BatchingConfig, ServedModelConfig, ServingConfig, create_serving_app
from noria.serving.config import PredictionLogConfig
from noria.settings import Settings
from tests.conftest import running_server
from tests.integration.test_serving import serving

pytestmark = pytest.mark.slow
FACTORS = {1: 2.0, 2: 3.0}  # version -> what it multiplies x by
BROKEN = 3


class Scaled(PythonModel):
    """Multiplies ``x`` by a factor, so every answered row tells which version computed it."""

    def __init__(self, factor: float) -> None:
        self.factor = factor

    def predict(self, data: Any) -> Any:
        return data["x"] * self.factor


def register_versions(client: Client) -> None:
    """``scaled`` versions 1 (times 2) and 2 (times 3), 3 whose files are no model; champion
    points at 1."""
    previous = noria.set_default_client(client)
    try:
        with noria.start_run(experiment="hot-swap") as run:
            for version, factor in FACTORS.items():
                noria.log_model(
                    Scaled(factor),
                    f"model-{version}",
                    input_example=pd.DataFrame({"x": [1.0, 2.0]}),
                    registered_model_name="scaled",
                )
            noria.log_text("flavor: [not yaml", "broken/noria-model.yaml")
        client.registry.register(f"runs:/{run.id}/broken", "scaled")
        noria.set_alias("scaled", "champion", 1)
    finally:
        noria.set_default_client(previous)


@dataclass(frozen=True)
class Answer:
    status: int
    version: int | None
    header: str | None
    xs: list[float]
    predictions: list[float] | None


def slowly(body: bytes) -> Iterator[bytes]:
    """The body in two parts a few ms apart: the request is still being received when the
    alias moves, which is when closing the old version too early would refuse it."""
    yield body[:5]
    time.sleep(0.005)
    yield body[5:]


class LoadGenerator:
    """Threads posting 1 to 3 rows each, as fast as answers come, until stopped; half of
    them send their bodies :func:`slowly`."""

    def __init__(self, url: str, threads: int = 4) -> None:
        self._url = url
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self.answers: list[Answer] = []
        self._threads = [threading.Thread(target=self._run, args=(i,)) for i in range(threads)]

    def __enter__(self) -> LoadGenerator:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)

    def _run(self, seed: int) -> None:
        path = "/v1/models/scaled/predict"
        with httpx.Client(base_url=self._url, timeout=30) as http:
            call = 0
            while not self._stop.is_set():
                call += 1
                xs = [float(seed * 1000 + call + row) for row in range(1 + call % 3)]
                body = json.dumps({"columns": {"x": xs}}).encode()
                content = slowly(body) if seed % 2 else body
                response = http.post(path, content=content)
                body = response.json()
                with self._lock:
                    self.answers.append(
                        Answer(response.status_code, body.get("version"),
                               response.headers.get("x-model-version"), xs,
                               body.get("predictions"))
                    )  # fmt: skip

    def wait_for(self, version: int, count: int = 20, timeout: float = 30) -> None:
        """Until ``count`` answers from ``version`` have arrived since the call."""
        start = len(self.answers)
        deadline = time.monotonic() + timeout
        while sum(a.version == version for a in self.answers[start:]) < count:
            assert time.monotonic() < deadline, f"no answers from version {version}"
            time.sleep(0.02)


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 90) -> None:
    """Poll ``condition``; generous, since a swap loads a model and CI machines are busy."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.05)


def served_model(url: str) -> dict[str, Any]:
    found: dict[str, Any] = httpx.get(f"{url}/v1/models/scaled").json()
    return found


def metric(url: str, series: str) -> float:
    match = re.search(rf"^{re.escape(series)} (\S+)$", httpx.get(f"{url}/metrics").text, re.M)
    return float(match.group(1)) if match else 0.0


def config(*, log: bool = False) -> ServingConfig:
    return ServingConfig(
        models=(
            ServedModelConfig(
                uri="models:/scaled@champion",
                batching=BatchingConfig(max_batch_size=4, max_wait_ms=2),
            ),
        ),
        watch_interval_s=0.1,
        prediction_log=PredictionLogConfig(enabled=log),
    )


@pytest.fixture
def store(tmp_path: Path) -> Iterator[tuple[Settings, Client]]:
    settings = Settings(home=tmp_path / "home", user="tester")
    with connect(settings) as client:
        register_versions(client)
        yield settings, client


def test_alias_moves_under_load_without_a_failed_or_mixed_answer(
    store: tuple[Settings, Client],
) -> None:
    settings, client = store
    with serving(create_serving_app(config(), settings=settings)) as url:
        assert served_model(url)["watched"] is True
        with LoadGenerator(url) as load:
            load.wait_for(1)
            client.registry.set_alias("scaled", "champion", 2)
            load.wait_for(2)
            client.registry.set_alias("scaled", "champion", 1)  # the rollback
            load.wait_for(1)
            client.registry.set_alias("scaled", "champion", BROKEN)
            wait_until(lambda: served_model(url)["last_swap_error"] is not None, "the swap fails")
            load.wait_for(1)
        failure = served_model(url)
        assert failure["version"] == 1
        assert failure["last_swap_error"]["version"] == BROKEN
        assert "noria-model.yaml" in failure["last_swap_error"]["message"]
        text = 'noria_serving_{}_total{{model="scaled",version="{}"}}'
        assert metric(url, text.format("swaps", 2)) == 1
        assert metric(url, text.format("swaps", 1)) == 1
        assert metric(url, text.format("swap_failures", BROKEN)) >= 1  # retried, backing off
        info = httpx.get(f"{url}/metrics").text
        assert 'noria_serving_model_info{flavor="python",model="scaled",' in info
        assert re.findall(r'noria_serving_model_info\{.*version="(\d+)"\} 1.0', info) == ["1"]

        client.registry.set_alias("scaled", "champion", 1)  # the broken version rolled back
        wait_until(lambda: served_model(url)["last_swap_error"] is None, "the error clears")

    answers = load.answers
    assert len(answers) > 100
    assert [a for a in answers if a.status != 200] == []
    assert {a.version for a in answers} == {1, 2}
    for answer in answers:
        assert answer.header == str(answer.version)
        factor = FACTORS[answer.version or 0]
        assert answer.predictions == [x * factor for x in answer.xs], answer


def test_a_remote_store_is_watched_and_logged_to(tmp_path: Path) -> None:
    home = tmp_path / "server-home"
    with running_server(home) as server:
        settings = Settings(home=tmp_path / "serving-home", store_uri=server.url, user="tester")
        with connect(settings) as client:
            register_versions(client)
            with serving(create_serving_app(config(log=True), settings=settings)) as url:
                answer = httpx.post(f"{url}/v1/models/scaled/predict", json={"records": [{"x": 1}]})
                assert (answer.json()["version"], answer.json()["predictions"]) == (1, [2.0])
                client.registry.set_alias("scaled", "champion", 2)
                wait_until(lambda: served_model(url)["version"] == 2, "version 2 is served")
                answer = httpx.post(f"{url}/v1/models/scaled/predict", json={"records": [{"x": 1}]})
                assert (answer.json()["version"], answer.json()["predictions"]) == (2, [3.0])
            # The log went through the Noria server into its artifact store.
            logged = read_predictions(client, model="scaled").to_pydict()
            assert (logged["version"], logged["prediction"]) == ([1, 2], [2.0, 3.0])

"""Deployments in the model server, end to end: scikit-learn models logged and registered
through Noria, deployments created through the client, served by a real uvicorn (in a thread,
or as a `noria serve --deployment` process), called over HTTP; the prediction log it wrote is
read back after shutdown and compared by `noria deploy show`."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.client import HTTPConnection
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

import noria
from noria.client import Client, connect
from noria.deployments.routing import choose_route
from noria.domain.deployments import DeploymentStatus
from noria.models.flavors.python import PythonModel
from noria.predictions.log import read_predictions
from noria.serving import ServedDeploymentConfig, ServingConfig, create_serving_app
from noria.settings import Settings
from tests.conftest import free_port
from tests.integration.test_cli import noria as noria_cli
from tests.integration.test_serving import serving
from tests.integration.test_serving_hot_swap import wait_until

pytestmark = pytest.mark.slow
FEATURES = ["x0", "x1", "x2", "x3"]
WATCH_S = 0.2


class Gated(PythonModel):
    """Answers its input example at once; live rows wait until the ``gate`` file exists."""

    def __init__(self, gate: str) -> None:
        self.gate = gate

    def predict(self, data: Any) -> Any:
        deadline = time.monotonic() + 20
        while (data["x0"] != 0).any() and not Path(self.gate).exists():
            if time.monotonic() > deadline:
                raise TimeoutError("the gate never opened")
            time.sleep(0.01)
        return np.zeros(len(data), dtype=int)


class Flaky(PythonModel):
    """Answers its input example (so it loads and warms up) and raises on anything else."""

    def predict(self, data: Any) -> Any:
        if (data["x0"] != 0).any():
            raise ValueError("flaky fails on live traffic")
        return np.zeros(len(data), dtype=int)


def frame(rows: int, seed: int) -> pd.DataFrame:
    values = np.random.default_rng(seed).normal(size=(rows, len(FEATURES)))
    return pd.DataFrame(values, columns=FEATURES)


def fitted(column: str, seed: int) -> LogisticRegression:
    data = frame(300, seed)
    return LogisticRegression().fit(data, (data[column] > 0).astype(int))


def register(settings: Settings, *, others: bool = True) -> dict[int, LogisticRegression]:
    """``credit`` versions 1 to 3 (@champion on 1, @challenger on 2); with ``others``, also
    ``churn`` 1 to 3 the same way plus a version 4 whose files are no model, and ``flaky`` 1.
    Returns credit's fitted versions, to check answers with."""
    credit = {1: fitted("x0", 1), 2: fitted("x1", 2), 3: fitted("x0", 3)}
    example = frame(3, 0)
    with connect(settings) as client:
        previous = noria.set_default_client(client)
        try:
            with noria.start_run(experiment="deployments") as run:
                for name in ("credit", "churn") if others else ("credit",):
                    for version, model in credit.items():
                        noria.log_model(
                            model,
                            f"{name}-{version}",
                            input_example=example,
                            registered_model_name=name,
                        )
                    noria.set_alias(name, "champion", 1)
                    noria.set_alias(name, "challenger", 2)
                if others:
                    zeros = pd.DataFrame(np.zeros((2, 4)), columns=FEATURES)
                    noria.log_model(
                        Flaky(), "flaky", input_example=zeros, registered_model_name="flaky"
                    )
                    noria.log_text("flavor: [not yaml", "broken/noria-model.yaml")
            if others:
                client.registry.register(f"runs:/{run.id}/broken", "churn")
        finally:
            noria.set_default_client(previous)
    return credit


def rows(seed: int, count: int = 1) -> list[dict[str, float]]:
    records: list[dict[str, float]] = frame(count, seed).to_dict("records")
    return records


def predict(http: httpx.Client, name: str, body: dict[str, Any], **headers: str) -> Any:
    answer = http.post(f"/v1/models/{name}/predict", json=body, headers=headers)
    assert answer.status_code == 200, answer.text
    found = answer.json()
    assert answer.headers["x-model-version"] == str(found["version"])
    assert answer.headers["x-deployment-route"] == found["route"]
    return found


def metric(text: str, name: str, **labels: str) -> float:
    """The sum of the series of ``name`` whose labels include ``labels``."""
    total = 0.0
    for line in text.splitlines():
        match = re.fullmatch(rf"{name}\{{(.*)\}} (\S+)", line)
        if match and all(f'{key}="{value}"' in match[1] for key, value in labels.items()):
            total += float(match[2])
    return total


# -- one server in a thread: sticky keys, a failing shadow, changes while serving ----------


@dataclass(frozen=True)
class Live:
    url: str
    settings: Settings
    credit: dict[int, LogisticRegression]
    gate: Path  # the gated shadow answers once this file exists


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    folder = tmp_path_factory.mktemp("deployments")
    settings = Settings(home=folder / "home", user="tester")
    credit = register(settings)
    gate = folder / "gate"
    with connect(settings) as client:
        previous = noria.set_default_client(client)
        try:
            with noria.start_run(experiment="deployments"):
                zeros = pd.DataFrame(np.zeros((2, 4)), columns=FEATURES)
                noria.log_model(
                    Gated(str(gate)), "gated", input_example=zeros, registered_model_name="gated"
                )
        finally:
            noria.set_default_client(previous)
        deployments = client.deployments
        deployments.create(
            "sticky",
            model="models:/credit@champion",
            canaries={"models:/credit@challenger": 50},
            sticky_key="customer_id",
        )
        deployments.create("flaky", model="models:/credit@champion", shadows=["models:/flaky/1"])
        deployments.create(
            "churn-api", model="models:/churn@champion", canaries={"models:/churn@challenger": 10}
        )
        deployments.create("gated", model="models:/credit@champion", shadows=["models:/gated/1"])
    config = ServingConfig(
        deployments=(
            *(ServedDeploymentConfig(name=name) for name in ("sticky", "flaky", "churn-api")),
            ServedDeploymentConfig(name="gated", shadow_queue=2),
        ),
        watch_interval_s=WATCH_S,
    )
    try:
        with serving(create_serving_app(config, settings=settings)) as url:
            yield Live(url, settings, credit, gate)
    finally:
        gate.touch()  # never leave a shadow waiting at shutdown


@pytest.fixture
def http(live: Live) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live.url, timeout=30) as client:
        yield client


@pytest.fixture
def client(live: Live) -> Iterator[Client]:
    with connect(live.settings) as opened:
        yield opened


def test_a_sticky_key_meets_the_same_route_every_time(
    live: Live, http: httpx.Client, client: Client
) -> None:
    deployment = client.deployments.get("sticky")
    chosen = {}
    for index in range(30):
        key = f"customer-{index}"
        by_header = [
            predict(http, "sticky", {"records": rows(index)}, customer_id=key) for _ in range(3)
        ]
        in_record = [
            predict(http, "sticky", {"records": [{**rows(index)[0], "customer_id": key}]})
            for _ in range(3)
        ]
        answers = {(a["route"], a["version"]) for a in by_header + in_record}
        expected = choose_route(deployment, key, 0.0)
        assert answers == {(expected.role.value, 1 if expected.role.value == "primary" else 2)}
        chosen[key] = expected.role
    assert set(chosen.values()) == {"primary", "canary"}  # 30 callers meet both at 50 %
    # Without a key, the draw decides: both routes answer.
    routes = {predict(http, "sticky", {"records": rows(99)})["route"] for _ in range(40)}
    assert routes == {"primary", "canary"}


def test_a_failing_shadow_never_touches_the_answers(live: Live, http: httpx.Client) -> None:
    for seed in range(20):
        data = rows(seed, count=2)
        answer = predict(http, "flaky", {"records": data})
        assert (answer["route"], answer["version"], answer["model"]) == ("primary", 1, "credit")
        expected = live.credit[1].predict(pd.DataFrame(data)).tolist()
        assert answer["predictions"] == expected

    def failures() -> float:
        text = http.get("/metrics").text
        return metric(
            text, "noria_serving_shadow_predictions_total", deployment="flaky", outcome="failed"
        )

    wait_until(lambda: failures() == 20, "the 20 shadow failures are counted")
    text = http.get("/metrics").text
    assert metric(text, "noria_serving_deployment_requests_total", deployment="flaky") >= 20
    assert metric(text, "noria_serving_shadow_predictions_total", outcome="answered") == 0


def test_answers_never_wait_for_a_shadow_and_a_full_shadow_queue_drops(
    live: Live, http: httpx.Client
) -> None:
    answers = [predict(http, "gated", {"records": rows(seed)}) for seed in range(10)]
    # All ten answered while the shadow has not answered one copy: nothing waited for it.
    assert {(a["route"], a["version"]) for a in answers} == {("primary", 1)}

    def shadow(outcome: str) -> float:
        text = http.get("/metrics").text
        return metric(
            text, "noria_serving_shadow_predictions_total", deployment="gated", outcome=outcome
        )

    # Two copies wait (one being predicted, one queued: shadow_queue=2); the rest are dropped.
    wait_until(lambda: shadow("dropped") == 8, "eight copies are dropped")
    assert shadow("answered") == 0
    live.gate.touch()
    wait_until(lambda: shadow("answered") == 2, "the two waiting copies are answered")


def test_traffic_pause_alias_moves_and_promotion_apply_while_serving(
    http: httpx.Client, client: Client
) -> None:
    def answer() -> httpx.Response:
        return http.post("/v1/models/churn-api/predict", json={"records": rows(5)})

    def served(route: str, version: int) -> Callable[[], bool]:
        def check() -> bool:
            found = answer().json()
            return (found.get("route"), found.get("version")) == (route, version)

        return check

    deployments = client.deployments
    deployments.set_traffic("churn-api", {"models:/churn@challenger": 100})
    # Ten canary answers in a row: under the old 10 % split one could come by chance.
    wait_until(
        lambda: all(served("canary", 2)() for _ in range(10)), "the canary takes all the traffic"
    )
    assert {(a.json()["route"], a.json()["version"]) for a in (answer() for _ in range(20))} == {
        ("canary", 2)
    }

    deployments.set_status("churn-api", DeploymentStatus.PAUSED)
    wait_until(lambda: answer().status_code == 503, "the pause is picked up")
    refused = answer().json()
    assert refused["error_code"] == "DEPLOYMENT_PAUSED"
    assert "noria deploy resume churn-api" in refused["message"]
    assert http.get("/v2/models/churn-api/ready").status_code == 503
    deployments.set_status("churn-api", DeploymentStatus.ACTIVE)
    wait_until(lambda: answer().status_code == 200, "the deployment resumes")

    noria.set_alias("churn", "challenger", 3, client=client)  # the canary's alias moves
    wait_until(served("canary", 3), "the canary route swaps to version 3")
    shown = http.get("/v1/deployments/churn-api").json()
    assert [(r["role"], r["version"], r["percent"]) for r in shown["routes"]] == [
        ("primary", 1, 0.0),
        ("canary", 3, 100.0),
    ]

    deployments.promote("churn-api")  # @champion moves to 3; the canary route goes
    wait_until(served("primary", 3), "the promoted version answers as the primary")
    shown = http.get("/v1/deployments/churn-api").json()
    assert [(r["role"], r["version"]) for r in shown["routes"]] == [("primary", 3)]
    assert shown["revision"] == deployments.get("churn-api").revision

    # A version that cannot be loaded: the route keeps serving what it served, and says why.
    noria.set_alias("churn", "champion", 4, client=client)

    def swap_error() -> Any:
        return http.get("/v1/deployments/churn-api").json()["routes"][0]["last_swap_error"]

    wait_until(lambda: swap_error() is not None, "the failed swap is reported")
    assert swap_error()["version"] == 4
    assert {answer().json()["version"] for _ in range(10)} == {3}
    noria.set_alias("churn", "champion", 3, client=client)  # rolled back: the error clears
    wait_until(lambda: swap_error() is None, "the swap error clears")


def test_deployments_answer_every_protocol_and_describe_themselves(http: httpx.Client) -> None:
    record = rows(7)[0]
    mlflow = http.post("/invocations?model=flaky", json={"dataframe_records": [record]})
    assert mlflow.status_code == 200 and mlflow.headers["x-deployment-route"] == "primary"
    v2_body = {
        "inputs": [
            {"name": name, "shape": [1], "datatype": "FP64", "data": [record[name]]}
            for name in FEATURES
        ]
    }
    v2 = http.post("/v2/models/flaky/infer", json=v2_body)
    assert v2.status_code == 200, v2.text
    assert (v2.json()["model_name"], v2.json()["model_version"]) == ("flaky", "1")
    assert http.post("/v2/models/flaky/versions/9/infer", json=v2_body).status_code == 404
    assert http.get("/v2/models/flaky").json()["name"] == "flaky"
    ready = http.get("/health/ready").json()
    assert ready["deployments"] == ["churn-api", "flaky", "gated", "sticky"]
    assert ready["models"] == []
    listed = {d["name"]: d for d in http.get("/v1/deployments").json()["deployments"]}
    assert [(r["role"], r["uri"]) for r in listed["flaky"]["routes"]] == [
        ("primary", "models:/credit@champion"),
        ("shadow", "models:/flaky/1"),
    ]
    missing = http.post("/v1/models/nope/predict", json={"records": [record]})
    assert missing.status_code == 404 and "GET /v1/deployments" in missing.json()["message"]
    invalid = http.post("/v1/models/flaky/predict", json={"records": [{"x0": "text"}]})
    assert invalid.status_code == 422


# -- `noria serve --deployment` as a process: canary split, shadows, the log, deploy show ---


def serve(home: Path, log: Path, *args: str) -> subprocess.Popen[bytes]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("NORIA_")}
    command = [sys.executable, "-m", "noria.cli.main", "--home", str(home), "serve", *args]
    with log.open("w") as output:
        return subprocess.Popen(command, env=env, stderr=output)


def wait_ready(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 90
    while True:
        if process.poll() is not None:
            pytest.fail(f"noria serve exited: {log.read_text()}")
        assert time.monotonic() < deadline, "noria serve did not become ready"
        try:
            if httpx.get(f"{url}/health/ready", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)


def send_all(port: int, bodies: list[dict[str, Any]], concurrency: int = 8) -> list[Any]:
    """Each body posted to the ``split`` deployment from ``concurrency`` threads, each on a
    keep-alive connection (the standard library's client: the load generator must not be
    the bottleneck on a small machine); the answers in order."""
    answers: list[Any] = [None] * len(bodies)
    indexes = iter(range(len(bodies)))
    lock = threading.Lock()

    def worker() -> None:
        connection = HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            while True:
                with lock:
                    index = next(indexes, None)
                if index is None:
                    return
                connection.request(
                    "POST", "/v1/models/split/predict", json.dumps(bodies[index]),
                    {"Content-Type": "application/json"},
                )  # fmt: skip
                response = connection.getresponse()
                body = response.read()
                assert response.status == 200, body
                answers[index] = json.loads(body)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(answer is not None for answer in answers), "a load thread failed"
    return answers


def test_canary_split_shadow_log_and_deploy_show(tmp_path: Path) -> None:
    home = tmp_path / "home"
    settings = Settings(home=home, user="tester")
    credit = register(settings, others=False)
    with connect(settings) as client:
        client.deployments.create(
            "split",
            model="models:/credit@champion",
            canaries={"models:/credit@challenger": 10},
            shadows=["models:/credit/3"],
        )
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / "serve.log"
    process = serve(home, log, "--deployment", "split", "--port", str(port))
    try:
        wait_ready(url, process, log)
        inputs = frame(2000, seed=11)
        bodies = [{"records": [row]} for row in inputs.to_dict("records")]
        answers = send_all(port, bodies)
        wait_until(
            lambda: (
                metric(
                    httpx.get(f"{url}/metrics").text,
                    "noria_serving_shadow_predictions_total",
                    outcome="answered",
                )
                == 2000
            ),
            "every shadow copy is answered",
        )
        text = httpx.get(f"{url}/metrics").text
    finally:
        process.terminate()  # SIGTERM: uvicorn shuts down gracefully, then re-raises it
        assert process.wait(timeout=60) in (0, -15), log.read_text()
    assert "Application shutdown complete" in log.read_text()
    assert "split ← deployment: primary models:/credit@champion (version 1, 90%)" in (
        log.read_text()
    )

    # Answers come from the primary or the canary only, each naming its version.
    assert {(a["route"], a["version"]) for a in answers} == {("primary", 1), ("canary", 2)}
    canary_share = sum(a["route"] == "canary" for a in answers) / len(answers)
    assert abs(canary_share - 0.10) <= 0.03
    for role in ("primary", "canary"):
        served = sum(a["route"] == role for a in answers)
        assert metric(text, "noria_serving_deployment_requests_total", role=role) == served
    for answer, row in zip(answers, inputs.to_numpy(), strict=True):
        expected = credit[answer["version"]].predict(pd.DataFrame([row], columns=FEATURES))
        assert answer["predictions"] == expected.tolist()

    # The log, read back after shutdown: every answer, and a shadow copy of each request.
    with connect(settings) as client:
        logged = read_predictions(client, model="credit").to_pylist()
    by_role = Counter(row["role"] for row in logged)
    assert by_role == {
        "primary": 2000 - round(canary_share * 2000),
        "canary": round(canary_share * 2000),
        "shadow": 2000,
    }
    ids = {a["request_id"] for a in answers}
    shadows = [row for row in logged if row["role"] == "shadow"]
    assert {row["request_id"] for row in shadows} == ids
    assert {(row["version"], row["deployment"]) for row in shadows} == {(3, "split")}
    live_roles = {row["request_id"]: row["role"] for row in logged if row["role"] != "shadow"}
    assert live_roles == {a["request_id"]: a["route"] for a in answers}

    # `noria deploy show` compares the shadow with the primary on the same requests.
    shown = noria_cli(home, "deploy", "show", "split", "--json")
    assert shown.code == 0, shown.err
    candidates = {c["role"]: c for c in json.loads(shown.out)["comparison"]["candidates"]}
    primary_rows = inputs[[a["route"] == "primary" for a in answers]]
    agreement = np.mean(credit[1].predict(primary_rows) == credit[3].predict(primary_rows))
    assert candidates["shadow"]["version"] == 3
    assert candidates["shadow"]["paired"] == len(primary_rows)
    assert candidates["shadow"]["agreement"] == pytest.approx(agreement)
    assert 0 < agreement < 1  # the versions disagree on some rows: the figure means something
    assert (candidates["canary"]["rows"], candidates["canary"]["paired"]) == (
        round(canary_share * 2000),
        0,
    )


def test_noria_serve_refuses_a_missing_deployment_in_one_line(tmp_path: Path) -> None:
    home = tmp_path / "home"
    missing = noria_cli(home, "serve", "--deployment", "nope")
    assert missing.code == 1 and "Traceback" not in missing.err
    assert missing.err.startswith("Error:") and len(missing.err.strip().splitlines()) == 1
    assert "nope" in missing.err
    nothing = noria_cli(home, "serve")
    assert nothing.code == 1 and "nothing to serve" in nothing.err

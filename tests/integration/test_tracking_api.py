"""The tracking REST API route by route: shapes, status codes and error bodies."""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from noria.backends.http.tracking import segment
from noria.client import Client, connect
from noria.domain.tracking import MAX_KEY_LENGTH, Metric, RunTag
from noria.settings import Settings
from tests.conftest import RunningServer

pytestmark = pytest.mark.slow

T = 1_700_000_000_000


@pytest.fixture
def http(noria_server: RunningServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=noria_server.url, timeout=30) as client:
        yield client


@pytest.fixture
def remote(noria_server: RunningServer) -> Iterator[Client]:
    with connect(Settings(store_uri=noria_server.url, user="api-tester")) as client:
        yield client


def assert_error(response: httpx.Response, status: int, code: str, *fragments: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error_code", "message"}
    assert body["error_code"] == code
    for fragment in fragments:
        assert fragment in body["message"], body["message"]


def new_experiment(http: httpx.Client, **fields: Any) -> dict[str, Any]:
    body = {"name": f"exp-{uuid.uuid4().hex[:10]}", **fields}
    response = http.post("/api/v1/experiments", json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def new_run(http: httpx.Client) -> str:
    experiment = new_experiment(http)
    body = {"experiment_id": experiment["id"], "name": "r", "user": "ana", "start_time": T}
    response = http.post("/api/v1/runs", json=body)
    assert response.status_code == 201, response.text
    run_id: str = response.json()["info"]["id"]
    return run_id


def batch(run_id: str, http: httpx.Client, **body: Any) -> httpx.Response:
    return http.post(f"/api/v1/runs/{run_id}/batch", json=body)


def columns(*points: tuple[str, Any, int]) -> dict[str, list[Any]]:
    """(key, value, step) points as the batch's metric columns."""
    return {
        "keys": [key for key, _, _ in points],
        "values": [value for _, value, _ in points],
        "timestamps": [T + step for _, _, step in points],
        "steps": [step for _, _, step in points],
    }


def test_openapi_documents_the_tracking_routes(http: httpx.Client) -> None:
    paths = http.get("/openapi.json").json()["paths"]
    for path in (
        "/api/v1/experiments",
        "/api/v1/experiments/{experiment_id}",
        "/api/v1/runs/{run_id}",
        "/api/v1/runs/search",
        "/api/v1/runs/{run_id}/metrics/{key}/history",
    ):
        assert path in paths
    for route in ("batch", "end"):
        body = paths[f"/api/v1/runs/{{run_id}}/{route}"]["post"]["requestBody"]
        schema = body["content"]["application/json"]["schema"]
        values = schema["properties"]["metrics"]["properties"]["values"]
        assert {"enum": ["NaN", "Infinity", "-Infinity"]} in values["items"]["anyOf"]
    # Routes answering pre-written JSON still document what they answer.
    for path, method, status, model in (
        ("/api/v1/runs", "post", "201", "RunBody"),
        ("/api/v1/runs/search", "post", "200", "RunPage"),
        ("/api/v1/runs/{run_id}", "get", "200", "RunBody"),
        ("/api/v1/runs/{run_id}/end", "post", "200", "RunInfoBody"),
    ):
        answer = paths[path][method]["responses"][status]["content"]["application/json"]
        assert answer["schema"] == {"$ref": f"#/components/schemas/{model}"}


def test_non_finite_values_round_trip_as_strings(http: httpx.Client) -> None:
    run_id = new_run(http)
    sent = columns(("m", "NaN", 0), ("m", "Infinity", 1), ("m", "-Infinity", 2), ("m", 0.5, 3))
    assert batch(run_id, http, metrics=sent).status_code == 204
    history = http.get(f"/api/v1/runs/{run_id}/metrics/m/history").json()
    assert history == {"key": "m", **{k: sent[k] for k in ("steps", "timestamps", "values")}}
    latest = http.get(f"/api/v1/runs/{run_id}").json()["metrics"]
    assert latest == [{"key": "m", "value": 0.5, "timestamp": T + 3, "step": 3}]


def test_unknown_ids_answer_404(http: httpx.Client) -> None:
    missing = uuid.uuid4().hex
    assert_error(http.get(f"/api/v1/runs/{missing}"), 404, "NOT_FOUND", missing)
    response = batch(missing, http, metrics=columns(("m", 1.0, 0)))
    assert_error(response, 404, "NOT_FOUND", missing)
    assert_error(http.patch(f"/api/v1/runs/{missing}", json={"name": "x"}), 404, "NOT_FOUND")
    assert_error(http.get(f"/api/v1/experiments/{missing}"), 404, "NOT_FOUND", missing)
    assert_error(http.get("/api/v1/experiments/by-name/no%2Fsuch"), 404, "NOT_FOUND", "no/such")


def test_malformed_filter_is_a_400_naming_the_position(http: httpx.Client) -> None:
    experiment = new_experiment(http)
    search = {"experiment_ids": [experiment["id"]], "filter": "metrics.loss < < 1"}
    response = http.post("/api/v1/runs/search", json=search)
    assert_error(response, 400, "INVALID_ARGUMENT", "position 16")


@pytest.mark.parametrize("value", ["abc", "1.5", "nan", True, None])
def test_non_numeric_metric_values_are_refused(http: httpx.Client, value: Any) -> None:
    run_id = new_run(http)
    response = batch(run_id, http, metrics=columns(("m", 1.0, 0), ("m", value, 1)))
    assert_error(response, 400, "INVALID_ARGUMENT", "metrics.values.1", repr(value))
    assert http.get(f"/api/v1/runs/{run_id}/metrics/m/history").json()["steps"] == []


def test_malformed_batches_are_refused(http: httpx.Client) -> None:
    run_id = new_run(http)
    uneven = {"keys": ["a", "b"], "values": [1.0], "timestamps": [T, T], "steps": [0, 0]}
    assert_error(batch(run_id, http, metrics=uneven), 400, "INVALID_ARGUMENT", "got 2, 1, 2, 2")
    response = http.post(f"/api/v1/runs/{run_id}/batch", content=b"{not json")
    assert_error(response, 400, "INVALID_ARGUMENT", "body")


@pytest.mark.parametrize("field", ["metrics", "params", "tags"])
def test_too_long_keys_are_refused(http: httpx.Client, field: str) -> None:
    run_id = new_run(http)
    key = "k" * (MAX_KEY_LENGTH + 1)
    body: dict[str, Any] = {"metrics": columns((key, 1.0, 0))}
    if field != "metrics":
        body = {field: [{"key": key, "value": "v"}]}
    assert_error(batch(run_id, http, **body), 400, "INVALID_ARGUMENT", str(MAX_KEY_LENGTH))


def test_a_param_overwrite_is_a_conflict_and_stores_nothing(http: httpx.Client) -> None:
    run_id = new_run(http)
    first = {"params": [{"key": "lr", "value": "0.1"}]}
    assert batch(run_id, http, **first).status_code == 204
    clash = {
        "metrics": columns(("loss", 1.0, 0)),
        "params": [{"key": "new", "value": "1"}, {"key": "lr", "value": "0.2"}],
        "tags": [{"key": "t", "value": "v"}],
    }
    assert_error(batch(run_id, http, **clash), 409, "CONFLICT", "lr")
    run = http.get(f"/api/v1/runs/{run_id}").json()
    assert (run["params"], run["metrics"], run["tags"]) == ({"lr": "0.1"}, [], {})


@pytest.mark.parametrize("key", ["eval/val loss:top.1", ".", "a/./b c", "9/ :-_"])
def test_keys_with_slashes_spaces_and_colons_in_paths(remote: Client, key: str) -> None:
    http_runs = remote.metadata.runs
    experiment = remote.metadata.experiments.create_experiment(f"team/{uuid.uuid4().hex} {key}")
    found = remote.metadata.experiments.find_experiment_by_name(experiment.name)
    assert found is not None and found.id == experiment.id
    run = http_runs.create_run(experiment.id, name="r", user="ana", start_time=T)
    tags = [RunTag(key, "v"), RunTag("keep", "v")]
    http_runs.log_batch(run.id, metrics=[Metric(key, math.inf, T, 4)], tags=tags)
    history = http_runs.metric_history(run.id, key)
    assert (history.steps, history.values) == ([4], [math.inf])
    http_runs.delete_tag(run.id, key)
    assert http_runs.get_run(run.id).tags == {"keep": "v"}
    remote.metadata.experiments.set_experiment_tag(experiment.id, key, "x")
    assert remote.metadata.experiments.get_experiment(experiment.id).tags == {key: "x"}


def test_experiment_lifecycle(http: httpx.Client) -> None:
    experiment = new_experiment(http, tags={"team": "risk"})
    name, path = experiment["name"], f"/api/v1/experiments/{experiment['id']}"
    assert_error(http.post("/api/v1/experiments", json={"name": name}), 409, "ALREADY_EXISTS")
    assert http.put(f"{path}/tags/{segment('a/b')}", json={"value": "1"}).status_code == 204
    renamed = http.patch(path, json={"name": f"{name}-2"}).json()
    assert (renamed["name"], renamed["tags"]) == (f"{name}-2", {"team": "risk", "a/b": "1"})
    deleted = http.patch(path, json={"lifecycle_stage": "deleted"}).json()
    assert deleted["lifecycle_stage"] == "deleted"
    listed = http.get("/api/v1/experiments", params={"name_like": f"{name}%"}).json()
    assert listed["experiments"] == []
    params = {"name_like": f"{name}%", "view": "deleted_only"}
    listed = http.get("/api/v1/experiments", params=params).json()
    assert [item["id"] for item in listed["experiments"]] == [experiment["id"]]
    assert (
        http.patch(path, json={"lifecycle_stage": "active"}).json()["lifecycle_stage"] == "active"
    )
    response = http.patch(path, json={"lifecycle_stage": "gone"})
    assert_error(response, 400, "INVALID_ARGUMENT", "lifecycle_stage", "'gone'")


def test_run_updates_and_search(http: httpx.Client) -> None:
    run_id = new_run(http)
    experiment_id = http.get(f"/api/v1/runs/{run_id}").json()["info"]["experiment_id"]
    info = http.patch(f"/api/v1/runs/{run_id}", json={"status": "FINISHED", "end_time": T + 9})
    assert (info.json()["status"], info.json()["end_time"]) == ("FINISHED", T + 9)
    search = {"experiment_ids": [experiment_id], "filter": "attributes.status = 'FINISHED'"}
    page = http.post("/api/v1/runs/search", json=search).json()
    assert [run["info"]["id"] for run in page["runs"]] == [run_id]
    assert (
        http.patch(f"/api/v1/runs/{run_id}", json={"lifecycle_stage": "deleted"}).status_code == 200
    )
    assert http.post("/api/v1/runs/search", json=search).json()["runs"] == []
    assert_error(
        http.post("/api/v1/runs/search", json={"experiment_ids": []}), 400, "INVALID_ARGUMENT"
    )


def test_ending_a_run_stores_its_last_points_with_the_status(http: httpx.Client) -> None:
    run_id = new_run(http)
    body = {"status": "FAILED", "end_time": T + 9, "metrics": columns(("m", "NaN", 0))}
    ended = http.post(f"/api/v1/runs/{run_id}/end", json=body)
    assert ended.status_code == 200, ended.text
    assert (ended.json()["status"], ended.json()["end_time"]) == ("FAILED", T + 9)
    run = http.get(f"/api/v1/runs/{run_id}").json()
    assert run["info"] == ended.json()
    assert run["metrics"] == [{"key": "m", "value": "NaN", "timestamp": T, "step": 0}]
    bad = http.post(f"/api/v1/runs/{run_id}/end", json={**body, "status": "DONE"})
    assert_error(bad, 400, "INVALID_ARGUMENT", "DONE")
    assert_error(http.post(f"/api/v1/runs/{'0' * 32}/end", json=body), 404, "NOT_FOUND", "0" * 32)


def test_run_inputs_and_artifacts(http: httpx.Client) -> None:
    run_id = new_run(http)
    item = {"name": "train", "digest": "abc", "context": "training"}
    assert http.post(f"/api/v1/runs/{run_id}/inputs", json={"inputs": [item]}).status_code == 204
    assert http.get(f"/api/v1/runs/{run_id}").json()["inputs"][0]["name"] == "train"
    entries = [
        {"path": path, "digest": "sha256:" + "a" * 64, "size": 3, "media_type": "text/plain"}
        for path in ("plots/a b.png", "plots/c.png", "model.pkl")
    ]
    response = http.post(f"/api/v1/runs/{run_id}/artifacts", json={"artifacts": entries})
    assert response.status_code == 204
    listed = http.get(f"/api/v1/runs/{run_id}/artifacts", params={"prefix": "plots"}).json()
    assert [entry["path"] for entry in listed["artifacts"]] == ["plots/a b.png", "plots/c.png"]
    found = http.get(f"/api/v1/runs/{run_id}/artifacts/plots/a%20b.png/entry")
    assert found.json() == entries[0]
    missing = http.get(f"/api/v1/runs/{run_id}/artifacts/plots/none.png/entry")
    assert_error(missing, 404, "NOT_FOUND", "plots/none.png")

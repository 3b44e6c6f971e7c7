"""Through a server the SDK gathers a run's writes: what that keeps and what it changes.

A run's params, tags, points and artifact entries, and with ``defer=True`` (what
``noria.start_run`` uses) its creation too, wait in the client and go as one request
(``POST /api/v1/runs/{id}/write``) at the next flush or at ``end``. Reads and direct
writes through the same client send them first; errors only the server can see
surface at the next call or at ``end``, never silently.
"""

from __future__ import annotations

import struct
import uuid
from collections.abc import Iterator

import httpx
import pytest

import noria
from noria.client import Client, connect
from noria.domain.ids import new_id
from noria.domain.tracking import Metric, Param, RunArtifact, RunStatus
from noria.errors import Conflict, InvalidArgument, NotFound
from noria.settings import Settings
from noria.wire.packed_metrics import MAGIC, PACKED_METRICS, pack
from tests.conftest import RunningServer

pytestmark = pytest.mark.slow

T = 1_700_000_000_000


@pytest.fixture
def remote(noria_server: RunningServer) -> Iterator[Client]:
    with connect(Settings(store_uri=noria_server.url, user="writer")) as client:
        yield client


@pytest.fixture
def other(noria_server: RunningServer) -> Iterator[Client]:
    """A second client of the same server: it sees only what reached the server."""
    with connect(Settings(store_uri=noria_server.url, user="other")) as client:
        yield client


@pytest.fixture
def http(noria_server: RunningServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=noria_server.url, timeout=30) as client:
        yield client


def experiment_name() -> str:
    return f"exp-{uuid.uuid4().hex[:8]}"


def test_a_run_waits_in_the_client_until_a_flush(remote: Client, other: Client) -> None:
    run = remote.tracker.start_run(
        experiment=experiment_name(), record_environment=False, defer=True
    )
    run.log_params({"lr": 0.1, "depth": 6})
    run.set_tags({"team": "a"})
    run.log_metrics({"loss": 0.5, "acc": 0.75}, step=3)
    with pytest.raises(NotFound):
        other.tracker.get_run(run.id)  # nothing sent yet: no request per call
    run.end()
    stored = other.tracker.get_run(run.id)
    assert stored.info.status is RunStatus.FINISHED
    assert stored.info.user == "writer" and stored.info.end_time is not None
    assert stored.params == {"lr": "0.1", "depth": "6"}
    assert stored.tags["team"] == "a"
    assert {key: metric.value for key, metric in stored.metrics.items()} == {
        "loss": 0.5,
        "acc": 0.75,
    }
    assert stored.metrics["loss"].step == 3


def test_without_defer_the_run_is_on_the_server_when_start_returns(
    remote: Client, other: Client
) -> None:
    run = remote.tracker.start_run(experiment=experiment_name(), record_environment=False)
    assert other.tracker.get_run(run.id).params == {}  # there for another process already
    run.log_param("lr", 0.1)  # still gathered: it goes with the end
    with pytest.raises(Conflict, match="'lr'"):
        run.log_param("lr", 0.2)
    run.end()
    assert other.tracker.get_run(run.id).params == {"lr": "0.1"}


def test_the_module_level_sdk_defers_the_start(remote: Client, other: Client) -> None:
    with noria.start_run(experiment=experiment_name(), client=remote) as run:
        noria.log_param("lr", 0.1)
        with pytest.raises(NotFound):
            other.tracker.get_run(run.id)
    assert other.tracker.get_run(run.id).params == {"lr": "0.1"}


def test_reads_through_the_same_client_see_its_writes(remote: Client, other: Client) -> None:
    name = experiment_name()
    run = remote.tracker.start_run(
        experiment=name, name="mine", record_environment=False, defer=True
    )
    run.log_param("lr", 0.1)
    run.log_metric("loss", 0.5)
    assert run.fetch().params == {"lr": "0.1"}
    assert [found.info.name for found in remote.tracker.search_runs(experiments=name)] == ["mine"]
    run.log_metric("loss", 0.25, step=1)
    assert remote.tracker.metric_history(run.id, "loss").values == [0.5, 0.25]
    # Sent now, so the other client sees the run too, still running.
    assert other.tracker.get_run(run.id).info.status is RunStatus.RUNNING
    run.end()


def test_direct_repo_calls_send_the_gathered_writes_first(remote: Client) -> None:
    run = remote.tracker.start_run(
        experiment=experiment_name(), record_environment=False, defer=True
    )
    run.log_param("a", 1)
    # As pipelines do: the repos of the tracker, straight after start_run.
    remote.tracker.runs.log_batch(
        run.id, metrics=[Metric("m", 1.0, T, 0)], params=[Param("b", "2")]
    )
    entry = RunArtifact("notes.txt", "sha256:" + "0" * 64, 1, "text/plain")
    remote.tracker.run_data.record_artifacts(run.id, [entry])
    run.end()
    stored = remote.tracker.get_run(run.id)
    assert stored.params == {"a": "1", "b": "2"}
    assert [item.path for item in remote.tracker.list_artifacts(run.id)] == ["notes.txt"]


def test_a_param_change_is_refused_at_the_call(remote: Client) -> None:
    run = remote.tracker.start_run(
        experiment=experiment_name(), record_environment=False, defer=True
    )
    run.log_param("lr", 0.1)
    run.log_param("lr", 0.1)  # the same value: fine
    with pytest.raises(Conflict, match=r"'lr' was already logged with value '0\.1'"):
        run.log_params({"depth": 3, "lr": 0.2})
    run.end()
    assert remote.tracker.get_run(run.id).params == {"lr": "0.1"}  # nothing of the call


def test_a_conflict_only_the_server_sees_is_raised_at_end(remote: Client, other: Client) -> None:
    run = remote.tracker.start_run(
        experiment=experiment_name(), record_environment=False, defer=True
    )
    run.fetch()  # the run is on the server now
    other.tracker.runs.log_batch(run.id, params=[Param("lr", "1")])
    run.log_param("lr", 2)  # this client cannot know: it goes with the next write
    run.log_metric("loss", 0.5)
    with pytest.raises(Conflict, match=r"1 param and 1 metric point .* were not stored"):
        run.end()
    stored = other.tracker.get_run(run.id)
    assert stored.params == {"lr": "1"}
    assert stored.info.status is RunStatus.FAILED  # ended, and marked as having lost data


def test_a_write_the_server_refuses_is_raised_at_end(remote: Client) -> None:
    run = remote.tracker.start_run(
        experiment=experiment_name(), record_environment=False, defer=True
    )
    remote.tracker.delete_run(run.id)  # sends the creation, then deletes the run
    run.log_metric("x", 1.0)
    run.set_tag("t", "v")
    with pytest.raises(InvalidArgument, match=r"1 tag and 1 metric point for run .* not stored"):
        run.end()


def test_a_run_in_an_experiment_deleted_meanwhile_fails_at_end(
    remote: Client, other: Client
) -> None:
    name = experiment_name()
    with remote.tracker.start_run(experiment=name, record_environment=False) as first:
        pass  # the client now remembers the experiment's id
    other.tracker.experiments.set_experiment_stage(first.experiment_id, "deleted")
    run = remote.tracker.start_run(experiment=name, record_environment=False, defer=True)
    run.log_metric("loss", 0.5)
    with pytest.raises(InvalidArgument, match="the run's creation and 1 metric point"):
        run.end()
    with pytest.raises(NotFound):
        other.tracker.get_run(run.id)
    # The id is forgotten with the failure: a new start looks the experiment up again.
    with pytest.raises(InvalidArgument, match="is deleted"):
        remote.tracker.start_run(experiment=name, record_environment=False)
    other.tracker.experiments.set_experiment_stage(first.experiment_id, "active")
    with remote.tracker.start_run(experiment=name, record_environment=False) as again:
        pass
    assert other.tracker.get_run(again.id).info.status is RunStatus.FINISHED


def test_nested_runs_and_the_environment_go_with_the_run(remote: Client, other: Client) -> None:
    name = experiment_name()
    with remote.tracker.start_run(experiment=name, defer=True) as parent:
        child = remote.tracker.start_run(experiment=name, parent_id=parent.id, defer=True)
        child.log_metric("loss", 0.5)
        child.end()
    stored = other.tracker.get_run(child.id)
    assert stored.info.parent_id == parent.id
    assert "noria.python" in stored.tags and "noria.host" in stored.tags
    paths = [item.path for item in other.tracker.list_artifacts(parent.id)]
    assert "noria/requirements.txt" in paths


def test_resuming_a_run_knows_its_params(remote: Client, other: Client) -> None:
    with other.tracker.start_run(experiment=experiment_name(), record_environment=False) as run:
        run.log_param("lr", 0.1)
    resumed = remote.tracker.start_run(run_id=run.id)
    with pytest.raises(Conflict, match="'lr'"):
        resumed.log_param("lr", 0.2)  # known from the run as it was read back
    resumed.end()
    assert other.tracker.get_run(run.id).info.status is RunStatus.FINISHED


# -- the route ---------------------------------------------------------------------------


def _experiment_id(http: httpx.Client) -> str:
    response = http.post("/api/v1/experiments", json={"name": experiment_name()})
    assert response.status_code == 201, response.text
    experiment_id: str = response.json()["id"]
    return experiment_id


def _create(experiment_id: str) -> dict[str, object]:
    return {"experiment_id": experiment_id, "name": "r", "user": "ana", "start_time": T}


def test_the_write_route_stores_a_whole_run_in_one_request(http: httpx.Client) -> None:
    run_id = new_id()
    body = {
        "create": _create(_experiment_id(http)),
        "params": [{"key": "lr", "value": "0.1"}],
        "tags": [{"key": "team", "value": "a"}],
        "metrics": {"keys": ["loss"], "values": ["NaN"], "timestamps": [T], "steps": [0]},
        "artifacts": [
            {"path": "a.txt", "digest": "sha256:" + "1" * 64, "size": 3, "media_type": "text/plain"}
        ],
        "status": "FINISHED",
        "end_time": T + 5,
    }
    response = http.post(f"/api/v1/runs/{run_id}/write", json=body)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "FINISHED"
    run = http.get(f"/api/v1/runs/{run_id}").json()
    assert run["params"] == {"lr": "0.1"} and run["tags"]["team"] == "a"
    assert run["info"]["end_time"] == T + 5
    again = http.post(f"/api/v1/runs/{run_id}/write", json={"create": body["create"]})
    assert again.status_code == 409, again.text
    assert again.json()["error_code"] == "ALREADY_EXISTS"


def test_the_write_route_stores_nothing_of_a_refused_write(http: httpx.Client) -> None:
    run_id = new_id()
    create = _create(_experiment_id(http))
    first = http.post(
        f"/api/v1/runs/{run_id}/write",
        json={"create": create, "params": [{"key": "lr", "value": "0.1"}]},
    )
    assert first.status_code == 200, first.text
    header = b'{"params": [{"key": "lr", "value": "0.2"}], "status": "FINISHED", "end_time": 1}'
    response = http.post(
        f"/api/v1/runs/{run_id}/write",
        content=pack(header, [Metric("loss", 0.5, T, 0)]),
        headers={"content-type": PACKED_METRICS},
    )
    assert response.status_code == 409, response.text
    assert "'lr' was already logged" in response.json()["message"]
    run = http.get(f"/api/v1/runs/{run_id}").json()
    assert run["info"]["status"] == "RUNNING" and run["metrics"] == []


@pytest.mark.parametrize(
    ("run_id", "message"), [("not-an-id", "Invalid run id 'not-an-id'"), ("A" * 32, "hex")]
)
def test_the_write_route_refuses_a_bad_new_run_id(
    http: httpx.Client, run_id: str, message: str
) -> None:
    body = {"create": _create(_experiment_id(http))}
    response = http.post(f"/api/v1/runs/{run_id}/write", json=body)
    assert response.status_code == 400, response.text
    assert message in response.json()["message"]


def test_packed_points_are_stored_as_json_points_are(http: httpx.Client, remote: Client) -> None:
    run_id = new_id()
    first = http.post(
        f"/api/v1/runs/{run_id}/write", json={"create": _create(_experiment_id(http))}
    )
    assert first.status_code == 200, first.text
    points = [Metric("loss", float(i) / 4, T + i, i) for i in range(5)]
    response = http.post(
        f"/api/v1/runs/{run_id}/batch",
        content=pack(b"{}", points),
        headers={"content-type": PACKED_METRICS},
    )
    assert response.status_code == 204, response.text
    assert remote.tracker.metric_history(run_id, "loss").points() == points


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"NOTPACKED" + bytes(20), "Not a packed metrics body"),
        (MAGIC + struct.pack("<IIQ", 2, 5, 9) + b'{}["a"]', "its sizes"),
        (
            pack(
                b'{"metrics": {"keys": ["a"], "values": [1.0], "timestamps": [1], "steps": [0]}}',
                [Metric("a", 1.0, 1, 0)],
            ),
            "leave out 'metrics'",
        ),
    ],
)
def test_a_bad_packed_body_answers_400_naming_the_problem(
    http: httpx.Client, content: bytes, message: str
) -> None:
    run_id = new_id()
    created = http.post(
        f"/api/v1/runs/{run_id}/write", json={"create": _create(_experiment_id(http))}
    )
    assert created.status_code == 200, created.text
    response = http.post(
        f"/api/v1/runs/{run_id}/batch", content=content, headers={"content-type": PACKED_METRICS}
    )
    assert response.status_code == 400, response.text
    assert message in response.json()["message"]


def test_a_packed_key_the_store_refuses_answers_400(http: httpx.Client) -> None:
    run_id = new_id()
    created = http.post(
        f"/api/v1/runs/{run_id}/write", json={"create": _create(_experiment_id(http))}
    )
    assert created.status_code == 200, created.text
    table = b'["bad key!"]'
    body = MAGIC + struct.pack("<IIQ", 2, len(table), 1) + b"{}" + table
    body += struct.pack("<I", 0) + struct.pack("<d", 1.0) + struct.pack("<qq", T, 0)
    response = http.post(
        f"/api/v1/runs/{run_id}/batch", content=body, headers={"content-type": PACKED_METRICS}
    )
    assert response.status_code == 400, response.text
    assert "Invalid metric key 'bad key!'" in response.json()["message"]

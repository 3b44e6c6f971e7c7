"""MLflow's own Python client against a real `noria server`, and Noria's SDK beside it."""

from __future__ import annotations

import importlib
import math
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from noria.client import Client, connect
from noria.domain.artifacts import Digest
from noria.domain.tracking import LifecycleStage, Metric, Param, RunArtifact, RunStatus, RunTag
from noria.settings import Settings
from tests.conftest import RunningServer

pytestmark = pytest.mark.slow

_QUIET_MLFLOW = {
    "MLFLOW_DISABLE_TELEMETRY": "true",  # no network: there is none to reach
    "DO_NOT_TRACK": "true",
    "MLFLOW_ENABLE_SYSTEM_METRICS_LOGGING": "false",
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0",  # a failure shows at once, not after backoff
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "30",
    "MLFLOW_ENABLE_ASYNC_LOGGING": "false",
}


@dataclass
class Mlflow:
    """The ``mlflow`` module, a client on the server, and the server's URL."""

    module: Any
    client: Any
    url: str


@pytest.fixture
def mlflow(noria_server: RunningServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[Mlflow]:
    for key, value in _QUIET_MLFLOW.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", noria_server.url)
    # set_experiment writes MLFLOW_EXPERIMENT_ID into os.environ; have monkeypatch undo it.
    monkeypatch.setenv("MLFLOW_EXPERIMENT_ID", "")
    monkeypatch.delenv("MLFLOW_EXPERIMENT_ID")
    # Imported here, after the variables above, so its telemetry never starts.
    module: ModuleType = pytest.importorskip("mlflow")
    # Forget what other code may have set, so MLFLOW_TRACKING_URI above is what counts.
    tracking = importlib.import_module("mlflow.tracking._tracking_service.utils")
    monkeypatch.setattr(tracking, "_tracking_uri", None)
    fluent = importlib.import_module("mlflow.tracking.fluent")
    monkeypatch.setattr(fluent, "_active_experiment_id", None)
    try:
        yield Mlflow(module, module.MlflowClient(noria_server.url), noria_server.url)
    finally:
        while module.active_run() is not None:
            module.end_run()


@pytest.fixture
def noria(noria_server: RunningServer, tmp_path: Path) -> Iterator[Client]:
    settings = Settings(home=tmp_path / "sdk-home", store_uri=noria_server.url, user="sdk-user")
    with connect(settings) as client:
        yield client


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def error_code(exc: BaseException) -> str:
    return str(getattr(exc, "error_code", ""))


def test_everyday_workflow_reads_back(mlflow: Mlflow, tmp_path: Path) -> None:
    name = unique("mlflow-compat")
    experiment = mlflow.module.set_experiment(name)  # get-by-name misses, then create
    assert experiment.name == name and experiment.lifecycle_stage == "active"
    assert experiment.artifact_location == f"mlflow-artifacts:/{experiment.experiment_id}"
    before = int(time.time() * 1000)
    with mlflow.module.start_run(run_name="baseline", tags={"team": "risk"}) as active:
        run_id = active.info.run_id
        _log_everything(mlflow.module, tmp_path)
    run = mlflow.client.get_run(run_id)

    info = run.info
    assert (info.run_id, info.run_name, info.experiment_id) == (
        run_id,
        "baseline",
        experiment.experiment_id,
    )
    assert info.status == "FINISHED" and info.lifecycle_stage == "active"
    assert before <= info.start_time <= info.end_time <= int(time.time() * 1000)
    assert info.artifact_uri == f"mlflow-artifacts:/{experiment.experiment_id}/{run_id}/artifacts"
    assert info.user_id and run.data.tags["mlflow.user"] == info.user_id
    assert run.data.params == {"model": "xgb", "depth": "6", "lr": "0.1"}
    metrics = run.data.metrics
    assert metrics["loss"] == pytest.approx(1 / 100)
    assert (metrics["acc"], metrics["f1"]) == (0.9, 0.8)
    assert math.isnan(metrics["diverged"])
    assert metrics["upper"] == math.inf and metrics["lower"] == -math.inf
    tags = run.data.tags
    assert tags["team"] == "risk" and tags["stage"] == "dev" and "scratch" not in tags
    assert tags["mlflow.runName"] == "baseline"

    history = mlflow.client.get_metric_history(run_id, "loss")
    assert [point.step for point in history] == list(range(100))
    assert [point.value for point in history] == pytest.approx([1 / (s + 1) for s in range(100)])
    assert all(point.timestamp >= before for point in history)
    nan_points = mlflow.client.get_metric_history(run_id, "diverged")
    assert len(nan_points) == 1 and math.isnan(nan_points[0].value)
    assert mlflow.client.get_metric_history(run_id, "never-logged") == []


def _log_everything(module: Any, tmp_path: Path) -> None:
    tmp_path.mkdir(exist_ok=True)
    module.log_param("model", "xgb")
    module.log_params({"depth": 6, "lr": 0.1})
    for step in range(100):
        module.log_metric("loss", 1 / (step + 1), step=step)
    module.log_metrics({"acc": 0.9, "f1": 0.8}, step=3)
    module.log_metric("diverged", math.nan)
    module.log_metrics({"upper": math.inf, "lower": -math.inf})
    module.set_tag("stage", "dev")
    module.set_tag("scratch", "to delete")
    module.delete_tag("scratch")
    (tmp_path / "notes.txt").write_text("first notes")
    module.log_artifact(str(tmp_path / "notes.txt"))
    plots = tmp_path / "plots"
    (plots / "sub").mkdir(parents=True)
    (plots / "a.txt").write_text("plot a")
    (plots / "sub" / "b.bin").write_bytes(bytes(range(256)) * 40)
    module.log_artifacts(str(plots), artifact_path="plots")


def test_artifacts_list_and_download(mlflow: Mlflow, tmp_path: Path) -> None:
    mlflow.module.set_experiment(unique("mlflow-artifacts"))
    with mlflow.module.start_run() as active:
        _log_everything(mlflow.module, tmp_path / "source")
    run_id = active.info.run_id

    root = {(f.path, f.is_dir, f.file_size) for f in mlflow.client.list_artifacts(run_id)}
    assert root == {("notes.txt", False, len("first notes")), ("plots", True, None)}
    plots = {(f.path, f.is_dir) for f in mlflow.client.list_artifacts(run_id, "plots")}
    assert plots == {("plots/a.txt", False), ("plots/sub", True)}
    assert mlflow.client.list_artifacts(run_id, "notes.txt") == []

    out = Path(mlflow.client.download_artifacts(run_id, "", str(tmp_path / "all")))
    assert (out / "notes.txt").read_text() == "first notes"
    assert (out / "plots" / "a.txt").read_text() == "plot a"
    assert (out / "plots" / "sub" / "b.bin").read_bytes() == bytes(range(256)) * 40
    single = mlflow.module.artifacts.download_artifacts(
        run_id=run_id, artifact_path="plots/a.txt", dst_path=str(tmp_path / "one")
    )
    assert Path(single).read_text() == "plot a"


def test_search_runs_filter_order_and_pages(mlflow: Mlflow) -> None:
    experiment_id = mlflow.module.set_experiment(unique("mlflow-search")).experiment_id
    logged = {"a": ("xgb", 0.9), "b": ("xgb", 0.3), "c": ("rf", 0.95), "d": ("xgb", 0.7)}
    for run_name, (model, acc) in logged.items():
        with mlflow.module.start_run(run_name=run_name):
            mlflow.module.log_param("model", model)
            mlflow.module.log_metric("acc", acc)

    found = mlflow.client.search_runs(
        [experiment_id],
        filter_string="metrics.acc > 0.5 and params.model = 'xgb'",
        order_by=["metrics.acc DESC"],
    )
    assert [run.info.run_name for run in found] == ["a", "d"]
    by_name = mlflow.client.search_runs([experiment_id], "tags.mlflow.runName = 'c'")
    assert [run.data.params["model"] for run in by_name] == ["rf"]
    assert found[0].data.metrics["acc"] == 0.9 and found[0].data.params["model"] == "xgb"
    ascending = mlflow.module.search_runs(
        [experiment_id], order_by=["metrics.acc ASC"], output_format="list"
    )
    assert [run.info.run_name for run in ascending] == ["b", "d", "a", "c"]

    first = mlflow.client.search_runs([experiment_id], order_by=["metrics.acc"], max_results=3)
    assert len(first) == 3 and first.token
    rest = mlflow.client.search_runs(
        [experiment_id], order_by=["metrics.acc"], max_results=3, page_token=first.token
    )
    assert [run.info.run_name for run in rest] == ["c"] and not rest.token


def test_delete_and_restore_runs_and_experiments(mlflow: Mlflow) -> None:
    from mlflow.entities import ViewType

    name = unique("mlflow-lifecycle")
    experiment_id = mlflow.client.create_experiment(name, tags={"owner": "risk"})
    assert mlflow.client.get_experiment(experiment_id).tags == {"owner": "risk"}
    mlflow.client.set_experiment_tag(experiment_id, "phase", "2")
    run_id = mlflow.client.create_run(experiment_id, run_name="doomed").info.run_id

    mlflow.client.delete_run(run_id)
    assert mlflow.client.get_run(run_id).info.lifecycle_stage == "deleted"
    assert mlflow.client.search_runs([experiment_id]) == []
    deleted = mlflow.client.search_runs([experiment_id], run_view_type=ViewType.DELETED_ONLY)
    assert [run.info.run_id for run in deleted] == [run_id]
    mlflow.client.restore_run(run_id)
    assert mlflow.client.get_run(run_id).info.lifecycle_stage == "active"

    mlflow.client.delete_experiment(experiment_id)
    assert mlflow.client.get_experiment(experiment_id).lifecycle_stage == "deleted"
    assert mlflow.client.get_experiment_by_name(name).lifecycle_stage == "deleted"
    active_names = {e.name for e in mlflow.client.search_experiments()}
    assert name not in active_names
    mlflow.client.restore_experiment(experiment_id)
    restored = mlflow.client.get_experiment(experiment_id)
    assert restored.lifecycle_stage == "active"
    assert restored.tags == {"owner": "risk", "phase": "2"}

    renamed = unique("mlflow-renamed")
    mlflow.client.rename_experiment(experiment_id, renamed)
    assert mlflow.client.get_experiment_by_name(renamed).experiment_id == experiment_id
    assert mlflow.client.get_experiment_by_name(name) is None
    like = mlflow.client.search_experiments(filter_string=f"name LIKE '{renamed[:-4]}%'")
    assert [e.experiment_id for e in like] == [experiment_id]
    exact = mlflow.client.search_experiments(filter_string=f"name = '{renamed}'")
    assert [e.experiment_id for e in exact] == [experiment_id]


def test_errors_carry_mlflow_codes(mlflow: Mlflow) -> None:
    from mlflow.exceptions import MlflowException

    assert mlflow.client.get_experiment_by_name(unique("missing")) is None
    experiment_id = mlflow.client.create_experiment(unique("mlflow-errors"))
    run_id = mlflow.client.create_run(experiment_id).info.run_id
    assert mlflow.client.get_run(run_id).info.run_name  # the store names unnamed runs
    mlflow.client.log_param(run_id, "model", "xgb")
    mlflow.client.log_param(run_id, "model", "xgb")  # the same value again is fine
    with pytest.raises(MlflowException) as overwrite:
        mlflow.client.log_param(run_id, "model", "rf")
    assert error_code(overwrite.value) == "INVALID_PARAMETER_VALUE"
    assert "model" in str(overwrite.value)
    with pytest.raises(MlflowException) as missing:
        mlflow.client.get_run("f" * 32)
    assert error_code(missing.value) == "RESOURCE_DOES_NOT_EXIST"
    with pytest.raises(MlflowException) as taken:
        mlflow.client.create_experiment(mlflow.client.get_experiment(experiment_id).name)
    assert error_code(taken.value) == "RESOURCE_ALREADY_EXISTS"

    with httpx.Client(base_url=mlflow.url, timeout=30) as http:
        outside = http.get("/api/2.0/mlflow-artifacts/artifacts", params={"path": "1"})
        assert outside.status_code == 400
        assert outside.json()["error_code"] == "INVALID_PARAMETER_VALUE"
        assert "<experiment_id>/<run_id>/artifacts" in outside.json()["message"]
        unknown = http.post("/api/2.0/mlflow/no-such-endpoint", json={})
        assert (unknown.status_code, unknown.json()["error_code"]) == (404, "ENDPOINT_NOT_FOUND")
        bad = http.post("/api/2.0/mlflow/runs/log-metric", json={"run_id": run_id})
        assert (bad.status_code, bad.json()["error_code"]) == (400, "INVALID_PARAMETER_VALUE")
        info = http.get("/api/3.0/mlflow/server-info").json()
        assert info["workspaces_enabled"] is False


def test_wire_values_as_the_client_may_send_them(mlflow: Mlflow) -> None:
    """int64 fields as strings, doubles as "NaN"/"Infinity", enums as numbers."""
    experiment_id = mlflow.client.create_experiment(unique("mlflow-wire"))
    with httpx.Client(base_url=mlflow.url + "/api/2.0/mlflow", timeout=30) as http:
        created = http.post(
            "/runs/create",
            json={"experiment_id": experiment_id, "start_time": "1700000000000", "run_name": "w"},
        ).json()["run"]
        run_id = created["info"]["run_id"]
        assert created["info"]["start_time"] == 1_700_000_000_000
        point = {"key": "m", "timestamp": "1700000000001", "step": "7"}
        for value in ("NaN", "Infinity", "-Infinity", 2.5):
            response = http.post(
                "/runs/log-metric", json={"run_id": run_id, **point, "value": value}
            )
            assert response.status_code == 200, response.text
        updated = http.post("/runs/update", json={"run_uuid": run_id, "status": 5}).json()
        assert updated["run_info"]["status"] == "KILLED"
        history = http.get("/metrics/get-history", params={"run_id": run_id, "metric_key": "m"})
        values = [item["value"] for item in history.json()["metrics"]]
        assert sorted(map(str, values)) == sorted(["NaN", "Infinity", "-Infinity", "2.5"])
        paged = http.get(
            "/metrics/get-history", params={"run_id": run_id, "metric_key": "m", "max_results": 3}
        ).json()
        assert len(paged["metrics"]) == 3 and paged["next_page_token"] == "3"


def test_datasets_logged_as_run_inputs(mlflow: Mlflow, noria: Client) -> None:
    from mlflow.data.http_dataset_source import HTTPDatasetSource
    from mlflow.data.meta_dataset import MetaDataset

    mlflow.module.set_experiment(unique("mlflow-inputs"))
    dataset = MetaDataset(HTTPDatasetSource("https://example.com/train.csv"), name="train")
    with mlflow.module.start_run() as active:
        mlflow.module.log_input(dataset, context="training")
    run = mlflow.client.get_run(active.info.run_id)
    (logged,) = run.inputs.dataset_inputs
    assert logged.dataset.name == "train" and logged.dataset.source_type == "http"
    assert {tag.key: tag.value for tag in logged.tags} == {"mlflow.data.context": "training"}
    (stored,) = noria.metadata.runs.get_run(active.info.run_id).inputs
    assert (stored.name, stored.context, stored.digest) == ("train", "training", dataset.digest)


def test_mlflow_writes_are_visible_to_noria(mlflow: Mlflow, noria: Client, tmp_path: Path) -> None:
    name = unique("mlflow-to-noria")
    mlflow.module.set_experiment(name)
    with mlflow.module.start_run(run_name="seen") as active:
        _log_everything(mlflow.module, tmp_path)
        with mlflow.module.start_run(run_name="inner", nested=True) as inner:
            pass
    run_id = active.info.run_id
    assert noria.metadata.runs.get_run(inner.info.run_id).info.parent_id == run_id
    children = mlflow.client.search_runs(
        [active.info.experiment_id], f"tags.mlflow.parentRunId = '{run_id}'"
    )
    assert [child.info.run_name for child in children] == ["inner"]

    experiment = noria.metadata.experiments.find_experiment_by_name(name)
    assert experiment is not None and experiment.id == active.info.experiment_id
    run = noria.metadata.runs.get_run(run_id)
    assert run.info.name == "seen" and run.info.status is RunStatus.FINISHED
    assert run.info.user == active.info.user_id
    assert run.params == {"model": "xgb", "depth": "6", "lr": "0.1"}
    assert run.metrics["loss"].value == pytest.approx(0.01) and run.metrics["loss"].step == 99
    assert math.isnan(run.metrics["diverged"].value)
    assert run.metrics["upper"].value == math.inf
    assert run.tags["stage"] == "dev" and "scratch" not in run.tags
    assert noria.metadata.runs.metric_history(run_id, "loss").steps == list(range(100))

    files = {a.path: a for a in noria.metadata.run_data.list_artifacts(run_id)}
    assert set(files) == {"notes.txt", "plots/a.txt", "plots/sub/b.bin"}
    notes = files["notes.txt"]
    assert notes.size == len("first notes") and notes.media_type == "text/plain"
    assert noria.artifacts.get_bytes(Digest.parse(notes.digest)) == b"first notes"


def test_noria_writes_are_visible_to_mlflow(mlflow: Mlflow, noria: Client, tmp_path: Path) -> None:
    experiment = noria.metadata.experiments.create_experiment(unique("noria-to-mlflow"))
    now = int(time.time() * 1000)
    run = noria.metadata.runs.create_run(
        experiment.id, name="native", user="sdk-user", start_time=now, tags=[RunTag("k", "v")]
    )
    child = noria.metadata.runs.create_run(
        experiment.id, name="child", user="sdk-user", start_time=now, parent_id=run.id
    )
    noria.metadata.runs.log_batch(
        run.id,
        metrics=[Metric("auc", 0.5, now, 0), Metric("auc", 0.75, now + 1, 1)],
        params=[Param("depth", "4")],
    )
    noria.metadata.runs.update_run(run.id, status=RunStatus.FINISHED, end_time=now + 5)
    ref = noria.artifacts.put_bytes(b"weights", media_type="application/octet-stream")
    noria.metadata.run_data.record_artifacts(
        run.id, [RunArtifact("model/weights.bin", str(ref.digest), ref.size, ref.media_type)]
    )

    seen = mlflow.client.get_run(run.id)
    assert (seen.info.run_name, seen.info.status, seen.info.end_time) == (
        "native",
        "FINISHED",
        now + 5,
    )
    assert seen.info.user_id == "sdk-user" and seen.info.experiment_id == experiment.id
    assert seen.data.params == {"depth": "4"} and seen.data.metrics == {"auc": 0.75}
    assert seen.data.tags == {"k": "v", "mlflow.runName": "native", "mlflow.user": "sdk-user"}
    assert mlflow.client.get_run(child.id).data.tags["mlflow.parentRunId"] == run.id
    children = mlflow.client.search_runs([experiment.id], f"tags.mlflow.parentRunId = '{run.id}'")
    assert [found.info.run_id for found in children] == [child.id]
    assert [p.value for p in mlflow.client.get_metric_history(run.id, "auc")] == [0.5, 0.75]
    assert [f.path for f in mlflow.client.list_artifacts(run.id, "model")] == ["model/weights.bin"]
    local = mlflow.client.download_artifacts(run.id, "model/weights.bin", str(tmp_path))
    assert Path(local).read_bytes() == b"weights"

    mlflow.client.set_tag(run.id, "mlflow.runName", "renamed")
    assert noria.metadata.runs.get_run(run.id).info.name == "renamed"
    noria.metadata.runs.set_run_stage(run.id, LifecycleStage.DELETED)
    assert mlflow.client.get_run(run.id).info.lifecycle_stage == "deleted"

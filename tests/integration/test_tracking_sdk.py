"""The tracking SDK as a data scientist uses it, on a real SQLite store."""

from __future__ import annotations

import asyncio
import io
import json
import math
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

import noria
from noria.client import Client, connect, set_default_client
from noria.domain.entities import EntityKind, EntityRef
from noria.domain.lineage import Relation
from noria.domain.tracking import RunStatus
from noria.errors import Conflict, InvalidArgument, NotFound
from noria.settings import Settings
from tests.conftest import RunningServer


@pytest.fixture
def client(settings: Settings) -> Iterator[Client]:
    with connect(settings) as opened:
        previous = set_default_client(opened)
        try:
            yield opened
        finally:
            set_default_client(previous)


def experiment_name() -> str:
    return f"exp-{uuid.uuid4().hex[:8]}"


def test_a_run_records_params_metrics_tags_and_ends_finished(client: Client) -> None:
    with noria.start_run(
        experiment=experiment_name(), name="baseline", tags={"team": "risk"}
    ) as run:
        noria.log_params({"model": "xgb", "depth": 6})
        for step in range(50):
            noria.log_metric("loss", 1.0 / (step + 1), step=step)
        noria.log_metrics({"auc": 0.91, "acc": 0.88})
        noria.set_tag("stage", "dev")
    stored = client.tracker.get_run(run.id)
    assert stored.info.status is RunStatus.FINISHED
    assert stored.info.end_time is not None and stored.info.name == "baseline"
    assert stored.params == {"model": "xgb", "depth": "6"}
    assert (
        stored.metrics["loss"].value == pytest.approx(1 / 50) and stored.metrics["loss"].step == 49
    )
    assert stored.metrics["auc"].value == 0.91
    assert stored.tags["team"] == "risk" and stored.tags["stage"] == "dev"
    history = client.tracker.metric_history(run.id, "loss")
    assert history.steps == list(range(50))
    assert noria.active_run() is None


def test_exceptions_mark_failed_and_ctrl_c_marks_killed(client: Client) -> None:
    name = experiment_name()
    with pytest.raises(ZeroDivisionError), noria.start_run(experiment=name) as failed:
        _ = 1 / 0
    with pytest.raises(KeyboardInterrupt), noria.start_run(experiment=name) as killed:
        raise KeyboardInterrupt
    assert client.tracker.get_run(failed.id).info.status is RunStatus.FAILED
    assert client.tracker.get_run(killed.id).info.status is RunStatus.KILLED


def test_nested_runs_and_resuming(client: Client) -> None:
    name = experiment_name()
    with noria.start_run(experiment=name, name="parent") as parent:
        with noria.start_run(experiment=name, name="child") as child:
            assert noria.active_run() is child
        assert noria.active_run() is parent
    assert client.tracker.get_run(child.id).info.parent_id == parent.id
    children = noria.search_runs(name, filter=f"attributes.parent_id = '{parent.id}'")
    assert [run.id for run in children] == [child.id]
    roots = noria.search_runs(name, filter="attributes.parent_id IS NULL")
    assert [run.id for run in roots] == [parent.id]
    with noria.start_run(run_id=child.id) as resumed:
        noria.log_metric("late", 1.0)
    assert resumed.id == child.id
    assert client.tracker.get_run(child.id).metrics["late"].value == 1.0


def test_each_thread_and_task_has_its_own_active_run(client: Client) -> None:
    name = experiment_name()
    seen: list[object] = []
    with noria.start_run(experiment=name):
        thread = threading.Thread(target=lambda: seen.append(noria.active_run()))
        thread.start()
        thread.join()
    assert seen == [None]

    async def task(label: str) -> str:
        with noria.start_run(experiment=name, name=label, parent=None) as run:
            await asyncio.sleep(0.01)
            active = noria.active_run()
            assert active is not None and active.id == run.id
            return run.id

    async def both() -> list[str]:
        return list(await asyncio.gather(task("a"), task("b")))

    first, second = asyncio.run(both())
    assert first != second


def test_many_single_metric_calls_are_durable_after_end(client: Client) -> None:
    with noria.start_run(experiment=experiment_name()) as run:
        for step in range(30_000):
            noria.log_metric("x", float(step), step=step)
    history = client.tracker.metric_history(run.id, "x")
    assert len(history) == 30_000
    assert history.values[-1] == 29_999.0


def test_nan_and_infinity_are_stored_faithfully(client: Client) -> None:
    with noria.start_run(experiment=experiment_name()) as run:
        noria.log_metric("loss", math.nan, step=0)
        noria.log_metric("loss", math.inf, step=1)
        noria.log_metric("loss", -math.inf, step=2)
    values = client.tracker.metric_history(run.id, "loss").values
    assert math.isnan(values[0]) and values[1] == math.inf and values[2] == -math.inf


def test_bad_input_fails_at_the_call(client: Client) -> None:
    with noria.start_run(experiment=experiment_name()) as run:
        noria.log_param("lr", 0.1)
        noria.log_param("lr", 0.1)  # same value: fine
        with pytest.raises(Conflict, match="lr"):
            noria.log_param("lr", 0.2)
        with pytest.raises(InvalidArgument, match="'high'"):
            noria.log_metric("auc", "high")  # type: ignore[arg-type]
        with pytest.raises(InvalidArgument, match="at most 250"):
            noria.log_metric("k" * 251, 1.0)
    assert client.tracker.get_run(run.id).params == {"lr": "0.1"}
    with pytest.raises(InvalidArgument, match="No active run"):
        noria.log_metric("x", 1.0)


def test_a_failed_background_write_is_raised_at_end(client: Client) -> None:
    run = noria.start_run(experiment=experiment_name())
    client.tracker.delete_run(run.id)  # the store now refuses writes to this run
    noria.log_metric("x", 1.0)
    with pytest.raises(InvalidArgument, match="were not stored"):
        noria.end_run()
    assert noria.active_run() is None


def test_runs_of_a_deleted_experiment_are_refused_though_its_id_was_remembered(
    client: Client,
) -> None:
    name = experiment_name()
    with noria.start_run(experiment=name) as first:  # the tracker now knows the id
        pass
    client.tracker.experiments.set_experiment_stage(first.experiment_id, "deleted")
    with pytest.raises(InvalidArgument, match="is deleted"):
        noria.start_run(experiment=name)
    with pytest.raises(InvalidArgument, match="is deleted"):
        noria.start_run(experiment=name)
    client.tracker.experiments.set_experiment_stage(first.experiment_id, "active")
    with noria.start_run(experiment=name) as again:
        pass
    assert again.experiment_id == first.experiment_id


def test_environment_is_recorded(client: Client) -> None:
    with noria.start_run(experiment=experiment_name()) as run:
        pass
    stored = client.tracker.get_run(run.id)
    assert stored.tags["noria.python"].count(".") == 2
    assert stored.tags["noria.host"]
    assert stored.tags["noria.source.entry_point"]
    paths = [artifact.path for artifact in client.tracker.list_artifacts(run.id)]
    assert "noria/requirements.txt" in paths
    entry = next(a for a in client.tracker.list_artifacts(run.id) if a.path.endswith(".txt"))
    from noria.domain.artifacts import Digest

    requirements = client.artifacts.get_bytes(Digest.parse(entry.digest)).decode()
    assert "pydantic==" in requirements


class _Figure:
    """Stands in for a matplotlib Figure: anything with savefig(buffer, format=…)."""

    def savefig(self, buffer: io.BytesIO, format: str) -> None:
        buffer.write(f"fake {format} image".encode())


def test_artifacts_files_dirs_text_dicts_figures(client: Client, tmp_path: Path) -> None:
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "weights.bin").write_bytes(b"\x00\x01" * 100)
    (tmp_path / "model" / "sub").mkdir()
    (tmp_path / "model" / "sub" / "config.json").write_text("{}")
    (tmp_path / "notes.md").write_text("# notes")
    with noria.start_run(experiment=experiment_name()) as run:
        noria.log_artifact(tmp_path / "notes.md")
        noria.log_artifact(tmp_path / "model")
        noria.log_artifacts(tmp_path / "model", "flat")
        noria.log_text("hello", "texts/hello.txt")
        noria.log_dict({"a": 1}, "params.json")
        noria.log_figure(_Figure(), "plots/roc.png")
    paths = sorted(
        a.path for a in client.tracker.list_artifacts(run.id) if not a.path.startswith("noria/")
    )
    assert paths == [
        "flat/sub/config.json",
        "flat/weights.bin",
        "model/sub/config.json",
        "model/weights.bin",
        "notes.md",
        "params.json",
        "plots/roc.png",
        "texts/hello.txt",
    ]
    out = client.tracker.download_artifacts(run.id, "model", tmp_path / "download")
    assert (out / "weights.bin").read_bytes() == b"\x00\x01" * 100
    assert (out / "sub" / "config.json").read_text() == "{}"
    single = client.tracker.download_artifacts(run.id, "params.json", tmp_path / "one")
    assert json.loads(single.read_text()) == {"a": 1}
    with pytest.raises(NotFound, match="no artifact"):
        client.tracker.download_artifacts(run.id, "missing", tmp_path / "none")


def test_log_input_records_the_dataset_and_lineage(client: Client) -> None:
    import pandas as pd

    version, _ = client.datasets.ingest(pd.DataFrame({"x": [1, 2, 3]}), name="credit")
    with noria.start_run(experiment=experiment_name()) as run:
        noria.log_input(version, context="training")
        noria.log_input("datasets:/credit@latest", context="validation")
        with pytest.raises(NotFound, match="no version 7"):
            noria.log_input(EntityRef(EntityKind.DATASET_VERSION, "credit/7"))
    stored = client.tracker.get_run(run.id)
    assert [(i.name, i.digest, i.source, i.context) for i in stored.inputs] == [
        ("credit", version.digest, version.uri, "training"),
        ("credit", version.digest, version.uri, "validation"),
    ]
    upstream = client.lineage.upstream(run.entity(), depth=1)
    assert [(s.edge.upstream, s.edge.relation) for s in upstream.steps] == [
        (version.entity(), Relation.CONSUMED)
    ]


def test_search_runs_returns_a_list_that_converts_to_pandas(client: Client) -> None:
    name = experiment_name()
    for index, model in enumerate(["xgb", "xgb", "rf"]):
        with noria.start_run(experiment=name, name=f"r{index}"):
            noria.log_param("model", model)
            noria.log_metric("auc", 0.7 + index / 10)
    found = noria.search_runs(name, filter="params.model = 'xgb'", order_by=["metrics.auc DESC"])
    assert [run.info.name for run in found] == ["r1", "r0"]
    frame = found.to_pandas()
    assert list(frame["params.model"]) == ["xgb", "xgb"]
    assert list(frame["metrics.auc"]) == pytest.approx([0.8, 0.7])
    with pytest.raises(InvalidArgument, match="position"):
        noria.search_runs(name, filter="metrics.auc >> 1")
    with pytest.raises(NotFound, match="no-such-experiment"):
        noria.search_runs("no-such-experiment")


@pytest.mark.slow
def test_the_same_sdk_works_against_a_remote_server(
    noria_server: RunningServer, tmp_path: Path
) -> None:
    (tmp_path / "model.txt").write_text("weights")
    remote = Settings(store_uri=noria_server.url, user="remote-ana")
    with connect(remote) as client:
        previous = set_default_client(client)
        try:
            name = experiment_name()
            with noria.start_run(experiment=name, name="remote") as run:
                noria.log_params({"model": "xgb"})
                for step in range(5_000):
                    noria.log_metric("loss", 1 / (step + 1), step=step)
                noria.log_metric("loss", math.nan, step=5_000)
                noria.log_artifact(tmp_path / "model.txt", "model")
            found = noria.search_runs(name, filter="params.model = 'xgb'")
        finally:
            set_default_client(previous)
        assert [r.id for r in found] == [run.id]
        stored = client.tracker.get_run(run.id)
        assert stored.info.user == "remote-ana"
        assert stored.info.status is RunStatus.FINISHED
        history = client.tracker.metric_history(run.id, "loss")
        assert len(history) == 5_001 and math.isnan(history.values[-1])
        out = client.tracker.download_artifacts(run.id, "model/model.txt", tmp_path / "dl")
        assert out.read_text() == "weights"
    assert not (tmp_path / ".noria").exists()


def test_first_runs_racing_to_create_an_experiment_share_it(settings: Settings) -> None:
    with connect(settings):
        pass  # create the store once, so the racers only race on the experiment
    barrier = threading.Barrier(6)
    experiment_ids: list[str] = []

    def first_run() -> None:
        with connect(settings) as own:
            barrier.wait()
            with own.tracker.start_run(experiment="raced") as run:
                experiment_ids.append(run.experiment_id)

    threads = [threading.Thread(target=first_run) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(experiment_ids) == 6 and len(set(experiment_ids)) == 1

"""Contract every tracking backend must pass: experiments, runs, logging, history, search.

Subclass :class:`TrackingContract` in a ``Test*`` class and provide a ``store`` fixture
yielding an initialized :class:`~noria.ports.metadata.MetadataStore`. Only the port
API is used and the store may hold other tests' data: names are unique per test.
"""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Callable

import pytest

from noria.domain.ids import new_id
from noria.domain.tracking import (
    DEFAULT_EXPERIMENT_ID,
    Experiment,
    LifecycleStage,
    Metric,
    MetricBatch,
    NewRun,
    Param,
    Run,
    RunArtifact,
    RunInput,
    RunSearch,
    RunStatus,
    RunTag,
    RunWrite,
    ViewType,
)
from noria.errors import AlreadyExists, Conflict, InvalidArgument, NotFound
from noria.ports.metadata import MetadataStore

NAN, INF = math.nan, math.inf
DIGEST = "sha256:" + "ab" * 32


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


class TrackingBase:
    @pytest.fixture
    def ns(self) -> str:
        return uuid.uuid4().hex[:12]

    @pytest.fixture
    def exp(self, store: MetadataStore, ns: str) -> Experiment:
        return store.experiments.create_experiment(f"exp-{ns}")

    @pytest.fixture
    def run(self, store: MetadataStore, exp: Experiment) -> Run:
        return store.runs.create_run(exp.id, name="r", user="ana", start_time=now_ms())

    @staticmethod
    def new_run(store: MetadataStore, exp: Experiment, name: str = "r", start: int = 0) -> Run:
        return store.runs.create_run(exp.id, name=name, user="ana", start_time=start or now_ms())


class ExperimentContract(TrackingBase):
    def test_default_experiment_exists(self, store: MetadataStore) -> None:
        default = store.experiments.get_experiment(DEFAULT_EXPERIMENT_ID)
        assert (default.name, default.lifecycle_stage) == ("Default", LifecycleStage.ACTIVE)

    def test_create_get_find(self, store: MetadataStore, ns: str) -> None:
        before = now_ms()
        created = store.experiments.create_experiment(
            f"e-{ns}", tags={"team": "vision"}, artifact_location="s3://b/x"
        )
        assert created.tags == {"team": "vision"}
        assert created.artifact_location == "s3://b/x"
        assert before <= created.creation_time == created.last_update_time <= now_ms()
        assert store.experiments.get_experiment(created.id) == created
        assert store.experiments.find_experiment_by_name(f"e-{ns}") == created
        assert store.experiments.find_experiment_by_name(f"absent-{ns}") is None

    def test_taken_name_already_exists(self, store: MetadataStore, exp: Experiment) -> None:
        with pytest.raises(AlreadyExists, match=exp.name):
            store.experiments.create_experiment(exp.name)
        store.experiments.set_experiment_stage(exp.id, "deleted")
        with pytest.raises(AlreadyExists, match="is deleted; restore it or pick another name"):
            store.experiments.create_experiment(exp.name)

    @pytest.mark.parametrize("name", ["", "x" * 501])
    def test_bad_names_are_refused(self, store: MetadataStore, name: str) -> None:
        with pytest.raises(InvalidArgument):
            store.experiments.create_experiment(name)

    def test_bad_tags_are_refused(self, store: MetadataStore, ns: str) -> None:
        for tags in ({"k" * 251: "v"}, {"k": "v" * 8001}, {"../up": "v"}):
            with pytest.raises(InvalidArgument):
                store.experiments.create_experiment(f"e-{ns}", tags=tags)
        assert store.experiments.find_experiment_by_name(f"e-{ns}") is None

    def test_unknown_experiment(self, store: MetadataStore) -> None:
        unknown = new_id()
        with pytest.raises(NotFound, match=unknown):
            store.experiments.get_experiment(unknown)
        with pytest.raises(NotFound):
            store.experiments.rename_experiment(unknown, f"n-{unknown}")
        with pytest.raises(NotFound):
            store.experiments.set_experiment_tag(unknown, "k", "v")
        with pytest.raises(NotFound):
            store.experiments.set_experiment_stage(unknown, "deleted")
        with pytest.raises(NotFound):
            store.runs.create_run(unknown, name="r", user="ana", start_time=now_ms())

    def test_rename(self, store: MetadataStore, ns: str, exp: Experiment) -> None:
        other = store.experiments.create_experiment(f"other-{ns}")
        renamed = store.experiments.rename_experiment(exp.id, f"renamed-{ns}")
        assert renamed.name == f"renamed-{ns}"
        assert store.experiments.find_experiment_by_name(exp.name) is None
        assert store.experiments.rename_experiment(exp.id, f"renamed-{ns}") == renamed
        with pytest.raises(AlreadyExists, match=f"other-{ns}"):
            store.experiments.rename_experiment(exp.id, other.name)
        with pytest.raises(InvalidArgument):
            store.experiments.rename_experiment(exp.id, "")

    def test_tags_set_and_replace(self, store: MetadataStore, exp: Experiment) -> None:
        store.experiments.set_experiment_tag(exp.id, "team", "a")
        store.experiments.set_experiment_tag(exp.id, "team", "b")
        store.experiments.set_experiment_tag(exp.id, "note", "")
        assert store.experiments.get_experiment(exp.id).tags == {"team": "b", "note": ""}
        with pytest.raises(InvalidArgument):
            store.experiments.set_experiment_tag(exp.id, "k", "v" * 8001)

    def test_delete_and_restore(self, store: MetadataStore, exp: Experiment, run: Run) -> None:
        deleted = store.experiments.set_experiment_stage(exp.id, "deleted")
        assert deleted.lifecycle_stage is LifecycleStage.DELETED
        assert store.runs.get_run(run.id).info.lifecycle_stage is LifecycleStage.DELETED
        with pytest.raises(InvalidArgument, match="is deleted: restore it first"):
            self.new_run(store, exp)
        with pytest.raises(InvalidArgument):
            store.experiments.set_experiment_tag(exp.id, "k", "v")
        restored = store.experiments.set_experiment_stage(exp.id, "active")
        assert restored.lifecycle_stage is LifecycleStage.ACTIVE
        assert store.runs.get_run(run.id).info.lifecycle_stage is LifecycleStage.ACTIVE
        with pytest.raises(InvalidArgument, match="'archived'"):
            store.experiments.set_experiment_stage(exp.id, "archived")
        with pytest.raises(InvalidArgument, match="default experiment"):
            store.experiments.set_experiment_stage(DEFAULT_EXPERIMENT_ID, "deleted")

    def test_list_pages_newest_first(self, store: MetadataStore, ns: str) -> None:
        made = [store.experiments.create_experiment(f"list-{ns}-{i}") for i in range(5)]
        store.experiments.set_experiment_stage(made[0].id, "deleted")
        first = store.experiments.list_experiments(name_like=f"list-{ns}-%", limit=2)
        assert first.next_page_token is not None
        second = store.experiments.list_experiments(
            name_like=f"list-{ns}-%", limit=2, page_token=first.next_page_token
        )
        assert second.next_page_token is None
        seen = first.items + second.items
        expected = sorted(made[1:], key=lambda e: (e.creation_time, e.id), reverse=True)
        assert [e.id for e in seen] == [e.id for e in expected]
        every = store.experiments.list_experiments(name_like=f"list-{ns}-%", view=ViewType.ALL)
        assert {e.id for e in every.items} == {e.id for e in made}
        only = store.experiments.list_experiments(view=ViewType.DELETED_ONLY, limit=1000)
        assert made[0].id in {e.id for e in only.items}
        with pytest.raises(InvalidArgument, match="page token"):
            store.experiments.list_experiments(page_token="not-a-token")


class RunContract(TrackingBase):
    def test_create_and_get(self, store: MetadataStore, exp: Experiment) -> None:
        parent = self.new_run(store, exp, "parent", start=1_700_000_000_000)
        child = store.runs.create_run(
            exp.id,
            name="child",
            user="ana",
            start_time=1_700_000_000_500,
            tags=[RunTag("team", "a"), RunTag("team", "b"), RunTag("empty", "")],
            parent_id=parent.id,
        )
        info = child.info
        assert (info.experiment_id, info.name, info.user, info.parent_id) == (
            exp.id,
            "child",
            "ana",
            parent.id,
        )
        assert (info.status, info.lifecycle_stage) == (RunStatus.RUNNING, LifecycleStage.ACTIVE)
        assert (info.start_time, info.end_time) == (1_700_000_000_500, None)
        assert child.tags == {"team": "b", "empty": ""}
        assert store.runs.get_run(child.id) == child

    def test_unknown_ids(self, store: MetadataStore, exp: Experiment) -> None:
        unknown = new_id()
        with pytest.raises(NotFound, match=unknown):
            store.runs.create_run(exp.id, name="r", user="a", start_time=1, parent_id=unknown)
        calls: list[Callable[[], object]] = [
            lambda: store.runs.get_run(unknown),
            lambda: store.runs.update_run(unknown, status=RunStatus.FINISHED),
            lambda: store.runs.end_run(unknown, status=RunStatus.FINISHED, end_time=1),
            lambda: store.runs.set_run_stage(unknown, "deleted"),
            lambda: store.runs.log_batch(unknown, params=[Param("a", "1")]),
            lambda: store.runs.delete_tag(unknown, "a"),
            lambda: store.runs.metric_history(unknown, "loss"),
            lambda: store.run_data.log_inputs(unknown, [RunInput("d", "x")]),
            lambda: store.run_data.record_artifacts(unknown, [RunArtifact("a", DIGEST, 1, "")]),
            lambda: store.run_data.list_artifacts(unknown),
        ]
        for call in calls:
            with pytest.raises(NotFound, match=unknown):
                call()

    def test_update_run(self, store: MetadataStore, run: Run) -> None:
        info = store.runs.update_run(
            run.id, status=RunStatus.FINISHED, end_time=run.info.start_time + 5
        )
        assert (info.status, info.end_time, info.name) == (
            RunStatus.FINISHED,
            run.info.start_time + 5,
            "r",
        )
        renamed = store.runs.update_run(run.id, name="better")
        assert (renamed.name, renamed.status) == ("better", RunStatus.FINISHED)
        assert store.runs.get_run(run.id).info == renamed
        with pytest.raises(InvalidArgument):
            store.runs.update_run(run.id, name="x" * 501)

    def test_end_run_stores_the_last_points_with_the_status(
        self, store: MetadataStore, run: Run
    ) -> None:
        end = run.info.start_time + 9
        points = [Metric("loss", 0.5, end, 1), Metric("loss", NAN, end, 2), Metric("acc", 1, end)]
        info = store.runs.end_run(run.id, status=RunStatus.KILLED, end_time=end, metrics=points)
        assert (info.status, info.end_time, info.name) == (RunStatus.KILLED, end, "r")
        stored = store.runs.get_run(run.id)
        assert stored.info == info
        assert math.isnan(stored.metrics["loss"].value)
        assert stored.metrics["acc"] == Metric("acc", 1.0, end, 0)
        assert store.runs.metric_history(run.id, "loss").steps == [1, 2]
        plain = store.runs.end_run(run.id, status=RunStatus.FINISHED, end_time=end + 1)
        assert (plain.status, plain.end_time) == (RunStatus.FINISHED, end + 1)

    def test_end_run_is_all_or_nothing(self, store: MetadataStore, run: Run) -> None:
        bad = [Metric("ok", 1.0, 1), Metric("m", "x", 1)]  # type: ignore[arg-type]
        with pytest.raises(InvalidArgument, match="'m'"):
            store.runs.end_run(run.id, status=RunStatus.FINISHED, end_time=5, metrics=bad)
        with pytest.raises(InvalidArgument, match="'DONE'"):
            store.runs.end_run(run.id, status="DONE", end_time=5)  # type: ignore[arg-type]
        unchanged = store.runs.get_run(run.id)
        assert (unchanged.info, unchanged.metrics) == (run.info, {})
        store.runs.set_run_stage(run.id, "deleted")
        with pytest.raises(InvalidArgument, match=run.id):
            store.runs.end_run(run.id, status=RunStatus.FINISHED, end_time=5)
        assert store.runs.get_run(run.id).info.status is RunStatus.RUNNING

    def test_write_run_creates_logs_and_ends_in_one_write(
        self, store: MetadataStore, exp: Experiment, run: Run
    ) -> None:
        run_id, start = new_id(), now_ms()
        write = RunWrite(
            run_id,
            create=NewRun(exp.id, "w", "ana", start, (RunTag("t", "1"),), parent_id=run.id),
            params=[Param("lr", "0.1")],
            tags=[RunTag("t", "2")],
            metrics=MetricBatch(["loss", "loss"], [0.5, NAN], [start, start], [0, 1]),
            artifacts=[RunArtifact("a.txt", DIGEST, 3, "text/plain")],
            status=RunStatus.FINISHED,
            end_time=start + 5,
        )
        info = store.runs.write_run(write)
        assert (info.id, info.status, info.end_time) == (run_id, RunStatus.FINISHED, start + 5)
        stored = store.runs.get_run(run_id)
        assert stored.info == info and stored.info.parent_id == run.id
        assert (stored.params, stored.tags) == ({"lr": "0.1"}, {"t": "2"})
        assert store.runs.metric_history(run_id, "loss").steps == [0, 1]
        assert [a.path for a in store.run_data.list_artifacts(run_id)] == ["a.txt"]
        # Later writes to the same run: no create, just what is given.
        again = store.runs.write_run(RunWrite(run_id, params=[Param("n", "3")]))
        assert again == info
        assert store.runs.get_run(run_id).params == {"lr": "0.1", "n": "3"}

    def test_write_run_is_all_or_nothing(
        self, store: MetadataStore, exp: Experiment, run: Run
    ) -> None:
        store.runs.log_batch(run.id, params=[Param("lr", "0.1")])
        conflicting = RunWrite(
            run.id,
            params=[Param("lr", "0.2")],
            metrics=[Metric("loss", 0.5, 1)],
            status=RunStatus.FINISHED,
            end_time=5,
        )
        with pytest.raises(Conflict, match="'lr'"):
            store.runs.write_run(conflicting)
        unchanged = store.runs.get_run(run.id)
        assert (unchanged.info, unchanged.metrics) == (run.info, {})
        with pytest.raises(AlreadyExists, match=run.id):
            store.runs.write_run(RunWrite(run.id, create=NewRun(exp.id, "r", "ana", 1)))
        with pytest.raises(InvalidArgument, match="'not-an-id'"):
            store.runs.write_run(RunWrite("not-an-id", create=NewRun(exp.id, "r", "ana", 1)))
        missing = new_id()
        with pytest.raises(NotFound, match="Parent run"):
            store.runs.write_run(
                RunWrite(missing, create=NewRun(exp.id, "r", "a", 1, (), "0" * 32))
            )
        with pytest.raises(NotFound):
            store.runs.get_run(missing)

    def test_equal_points_keep_their_logging_order(self, store: MetadataStore, run: Run) -> None:
        store.runs.log_batch(run.id, metrics=[Metric("e", 2.0, 7, 1), Metric("e", 1.0, 7, 1)])
        store.runs.log_batch(run.id, metrics=[Metric("e", 2.0, 7, 1), Metric("e", 0.0, 6, 1)])
        history = store.runs.metric_history(run.id, "e")
        assert (history.timestamps, history.values) == ([6, 7, 7, 7], [0.0, 2.0, 1.0, 2.0])
        assert store.runs.get_run(run.id).metrics["e"] == Metric("e", 2.0, 7, 1)

    def test_metric_batches_as_columns(self, store: MetadataStore, run: Run) -> None:
        columns = MetricBatch(["a", "b", "a"], [0.5, NAN, 2], [10, 11, 12], [0, 0, 1])
        store.runs.log_batch(run.id, metrics=columns)
        stored = store.runs.get_run(run.id).metrics
        assert stored["a"] == Metric("a", 2.0, 12, 1)
        assert math.isnan(stored["b"].value)
        assert store.runs.metric_history(run.id, "a").values == [0.5, 2.0]
        with pytest.raises(InvalidArgument, match="step"):
            store.runs.log_batch(run.id, metrics=MetricBatch(["a"], [1.0], [1], [0.5]))  # type: ignore[list-item]
        assert len(store.runs.metric_history(run.id, "a")) == 2

    def test_deleted_run_refuses_writes_until_restored(
        self, store: MetadataStore, run: Run
    ) -> None:
        info = store.runs.set_run_stage(run.id, "deleted")
        assert info.lifecycle_stage is LifecycleStage.DELETED
        assert store.runs.get_run(run.id).info == info
        with pytest.raises(InvalidArgument, match=run.id):
            store.runs.log_batch(run.id, metrics=[Metric("m", 1.0, 1)])
        with pytest.raises(InvalidArgument, match=run.id):
            store.run_data.record_artifacts(run.id, [RunArtifact("a", DIGEST, 1, "")])
        with pytest.raises(InvalidArgument, match="'gone'"):
            store.runs.set_run_stage(run.id, "gone")
        assert store.runs.set_run_stage(run.id, "active").lifecycle_stage is LifecycleStage.ACTIVE
        store.runs.log_batch(run.id, metrics=[Metric("m", 1.0, 1)])

    def test_log_batch_roundtrip(self, store: MetadataStore, run: Run) -> None:
        store.runs.log_batch(
            run.id,
            metrics=[Metric("loss", 0.5, 10, 0), Metric("loss", 0.25, 11, 1), Metric("acc", 1, 12)],
            params=[Param("lr", "0.1"), Param("lr", "0.1"), Param("layers", "3")],
            tags=[RunTag("team", "vision")],
        )
        loaded = store.runs.get_run(run.id)
        assert loaded.params == {"lr": "0.1", "layers": "3"}
        assert loaded.tags == {"team": "vision"}
        assert loaded.metrics == {
            "loss": Metric("loss", 0.25, 11, 1),
            "acc": Metric("acc", 1.0, 12, 0),
        }
        store.runs.delete_tag(run.id, "team")
        assert store.runs.get_run(run.id).tags == {}
        with pytest.raises(NotFound, match="team"):
            store.runs.delete_tag(run.id, "team")

    def test_latest_metric_rule(self, store: MetadataStore, run: Run) -> None:
        def latest() -> Metric:
            return store.runs.get_run(run.id).metrics["m"]

        store.runs.log_batch(run.id, metrics=[Metric("m", 1.0, 100, 5)])
        store.runs.log_batch(run.id, metrics=[Metric("m", 2.0, 200, 3)])
        assert latest() == Metric("m", 1.0, 100, 5)  # higher step wins though logged earlier
        store.runs.log_batch(run.id, metrics=[Metric("m", 0.0, 150, 5)])
        assert latest() == Metric("m", 0.0, 150, 5)  # same step: later timestamp
        store.runs.log_batch(run.id, metrics=[Metric("m", -1.0, 150, 5), Metric("m", 9.0, 150, 5)])
        assert latest() == Metric("m", 9.0, 150, 5)  # then the greater value
        store.runs.log_batch(run.id, metrics=[Metric("m", NAN, 150, 5)])
        assert latest().value == 9.0  # NaN ranks lowest
        store.runs.log_batch(run.id, metrics=[Metric("m", NAN, 150, 6)])
        assert math.isnan(latest().value)  # but a higher step still wins

    def test_nan_and_infinities_roundtrip(self, store: MetadataStore, run: Run) -> None:
        values = [NAN, INF, -INF, 0.1, -0.0, 1e308]
        store.runs.log_batch(
            run.id, metrics=[Metric("x", v, 100 + i, i) for i, v in enumerate(values)]
        )
        history = store.runs.metric_history(run.id, "x")
        assert all(same(a, b) for a, b in zip(history.values, values, strict=True))
        for value in (NAN, INF, -INF):
            store.runs.log_batch(run.id, metrics=[Metric("y", value, 1, 0)])
        assert store.runs.get_run(run.id).metrics["y"].value == INF
        store.runs.log_batch(run.id, metrics=[Metric("z", NAN, 1, 0), Metric("w", -INF, 1, 0)])
        got = store.runs.get_run(run.id).metrics
        assert math.isnan(got["z"].value)
        assert got["w"].value == -INF

    def test_special_values_across_the_insert_statements_of_a_batch(
        self, store: MetadataStore, run: Run
    ) -> None:
        # A big batch goes in as several multi-row INSERTs on SQLite: values at and
        # around the statements' seams come back as they went in.
        values = [float(i) / 7 for i in range(450)]
        for at, special in ((0, NAN), (198, INF), (199, -INF), (200, NAN), (397, -0.0)):
            values[at] = special
        store.runs.log_batch(
            run.id, metrics=[Metric("s", v, 10 + i, i) for i, v in enumerate(values)]
        )
        history = store.runs.metric_history(run.id, "s")
        assert history.steps == list(range(450))
        assert all(same(a, b) for a, b in zip(history.values, values, strict=True))

    def test_params_are_immutable(self, store: MetadataStore, run: Run) -> None:
        store.runs.log_batch(run.id, params=[Param("lr", "0.1")])
        store.runs.log_batch(run.id, params=[Param("lr", "0.1")])  # same value: fine
        with pytest.raises(Conflict) as raised:
            store.runs.log_batch(
                run.id,
                metrics=[Metric("m", 1.0, 1)],
                params=[Param("new", "x"), Param("lr", "0.2")],
                tags=[RunTag("t", "v")],
            )
        assert "'lr'" in raised.value.message
        assert "'0.1'" in raised.value.message
        assert "'0.2'" in raised.value.message
        after = store.runs.get_run(run.id)
        assert (after.params, after.tags, after.metrics) == ({"lr": "0.1"}, {}, {})
        with pytest.raises(InvalidArgument, match="'k'"):
            store.runs.log_batch(run.id, params=[Param("k", "1"), Param("k", "2")])

    @pytest.mark.parametrize(
        "batch",
        [
            {"metrics": [Metric("k" * 251, 1.0, 1)]},
            {"metrics": [Metric("../up", 1.0, 1)]},
            {"metrics": [Metric("m", "1.0", 1)]},  # type: ignore[arg-type]
            {"metrics": [Metric("m", True, 1)]},
            {"metrics": [Metric("m", 1.0, 1, 1.5)]},  # type: ignore[arg-type]
            {"metrics": [Metric("m", 1.0, 1, 2**63)]},
            {"params": [Param("p" * 251, "v")]},
            {"params": [Param("p", "v" * 6001)]},
            {"tags": [RunTag("t", "v" * 8001)]},
            {"tags": [RunTag("", "v")]},
        ],
    )
    def test_invalid_batches_write_nothing(
        self, store: MetadataStore, run: Run, batch: dict[str, list[object]]
    ) -> None:
        good = {"metrics": [Metric("ok", 1.0, 1)], "params": [Param("ok", "1")]}
        with pytest.raises(InvalidArgument):
            store.runs.log_batch(run.id, **{**good, **batch})  # type: ignore[arg-type]
        after = store.runs.get_run(run.id)
        assert (after.params, after.tags, after.metrics) == ({}, {}, {})

    def test_history_order_and_unknown_key(self, store: MetadataStore, run: Run) -> None:
        store.runs.log_batch(run.id, metrics=[Metric("h", 3.0, 30, 3), Metric("h", 1.0, 10, 1)])
        store.runs.log_batch(run.id, metrics=[Metric("h", 2.0, 5, 2), Metric("h", 0.5, 1, 1)])
        history = store.runs.metric_history(run.id, "h")
        assert (history.steps, history.timestamps, history.values) == (
            [1, 1, 2, 3],
            [1, 10, 5, 30],
            [0.5, 1.0, 2.0, 3.0],
        )
        assert history.points()[0] == Metric("h", 0.5, 1, 1)
        assert len(store.runs.metric_history(run.id, "absent")) == 0
        with pytest.raises(InvalidArgument, match="max_points"):
            store.runs.metric_history(run.id, "h", max_points=3)

    def test_history_downsampling_keeps_extremes(self, store: MetadataStore, run: Run) -> None:
        values = [math.sin(i / 50) for i in range(2000)]
        values[137], values[1611] = -5.0, 7.0
        store.runs.log_batch(
            run.id, metrics=[Metric("s", v, 1000 + i, i) for i, v in enumerate(values)]
        )
        sampled = store.runs.metric_history(run.id, "s", max_points=50)
        assert 40 <= len(sampled) <= 50
        assert sampled.steps == sorted(sampled.steps)
        assert {0, 137, 1611, 1999} <= set(sampled.steps)
        assert all(values[s] == v for s, v in zip(sampled.steps, sampled.values, strict=True))
        assert len(store.runs.metric_history(run.id, "s", max_points=5000)) == 2000

    def test_large_batches(self, store: MetadataStore, run: Run) -> None:
        points = [Metric(f"k{i % 3}", float(i), 1000 + i, i // 3) for i in range(12_000)]
        many = [Metric(f"key{i}", float(i), 5, 0) for i in range(1200)]
        params = [Param(f"p{i}", str(i)) for i in range(700)]
        store.runs.log_batch(run.id, metrics=points + many, params=params)
        loaded = store.runs.get_run(run.id)
        assert len(loaded.params) == 700
        assert len(loaded.metrics) == 1203
        assert loaded.metrics["k2"] == Metric("k2", 11_999.0, 12_999, 3_999)
        history = store.runs.metric_history(run.id, "k1")
        assert history.steps == list(range(4_000))
        assert history.values == [float(3 * i + 1) for i in range(4_000)]


class RunDataContract(TrackingBase):
    def test_inputs_are_kept_once(self, store: MetadataStore, run: Run) -> None:
        train = RunInput("iris", "d1", "noria", "datasets:/iris/1", "{}", "{}", "training")
        store.run_data.log_inputs(run.id, [train, train])
        store.run_data.log_inputs(run.id, [train, RunInput("iris", "d1", context="validation")])
        inputs = store.runs.get_run(run.id).inputs
        assert inputs == [train, RunInput("iris", "d1", context="validation")]
        with pytest.raises(InvalidArgument):
            store.run_data.log_inputs(run.id, [RunInput("", "d")])

    def test_artifacts_by_folder(self, store: MetadataStore, run: Run) -> None:
        paths = ["model/weights.bin", "model/conf/a.json", "model.txt", "modelx/y", "plot.png"]
        store.run_data.record_artifacts(
            run.id,
            [RunArtifact(p, DIGEST, i, "application/octet-stream") for i, p in enumerate(paths)],
        )
        listed = store.run_data.list_artifacts(run.id)
        assert [a.path for a in listed] == sorted(paths)
        under = [a.path for a in store.run_data.list_artifacts(run.id, "model")]
        assert under == ["model/conf/a.json", "model/weights.bin"]
        assert [a.path for a in store.run_data.list_artifacts(run.id, "model/")] == under
        assert store.run_data.list_artifacts(run.id, "absent") == []
        replaced = RunArtifact("plot.png", "sha256:" + "cd" * 32, 99, "image/png")
        store.run_data.record_artifacts(run.id, [replaced])
        assert store.run_data.find_artifact(run.id, "plot.png") == replaced
        assert store.run_data.find_artifact(run.id, "model") is None
        for bad in ("../x", "/abs", "a//b", ""):
            with pytest.raises(InvalidArgument):
                store.run_data.record_artifacts(run.id, [RunArtifact(bad, DIGEST, 1, "")])
        with pytest.raises(InvalidArgument):
            store.run_data.record_artifacts(run.id, [RunArtifact("a", "md5:00", 1, "")])


class SearchContract(TrackingBase):
    @pytest.fixture
    def runs(self, store: MetadataStore, exp: Experiment) -> dict[str, Run]:
        """Five runs with distinct start times; r5 is deleted."""
        specs = {
            "r1": ("xgb", "a", 0.9, 0.5, 0.7, RunStatus.FINISHED),
            "r2": ("lr", "b", 0.7, 2.0, 0.95, RunStatus.FINISHED),
            "r3": ("xgb2", "c", 0.85, 3.0, 0.1, RunStatus.FAILED),
            "r4": ("xgb", "a", 0.6, 4.0, 0.2, RunStatus.RUNNING),
            "r5": ("xgb", "a", 0.99, 0.1, 0.99, RunStatus.FINISHED),
        }
        made: dict[str, Run] = {}
        for index, (name, (model, team, auc, loss, acc, status)) in enumerate(specs.items()):
            run = self.new_run(store, exp, name, start=1_700_000_000_000 + index * 1000)
            metrics = [Metric("auc", auc, 1), Metric("loss", loss, 1), Metric("acc", acc, 1)]
            store.runs.log_batch(
                run.id, metrics=metrics, params=[Param("model", model)], tags=[RunTag("team", team)]
            )
            if status is not RunStatus.RUNNING:
                store.runs.update_run(run.id, status=status, end_time=1_800_000_000_000)
            made[name] = run
        store.runs.set_run_stage(made["r5"].id, "deleted")
        return made

    @staticmethod
    def names(store: MetadataStore, exp: Experiment, **options: object) -> list[str]:
        search = RunSearch((exp.id,), **options)  # type: ignore[arg-type]
        return [run.info.name for run in store.runs.search_runs(search).items]

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("metrics.auc > 0.8 AND params.model = 'xgb'", ["r1"]),
            ("tags.team IN ('a','b')", ["r4", "r2", "r1"]),
            ("attributes.status = 'FINISHED'", ["r2", "r1"]),
            ("params.model LIKE 'x%'", ["r4", "r3", "r1"]),
            ("metrics.loss < 1 OR metrics.acc >= 0.9", ["r2", "r1"]),
            ("", ["r4", "r3", "r2", "r1"]),
        ],
    )
    def test_filters(
        self,
        store: MetadataStore,
        exp: Experiment,
        runs: dict[str, Run],
        text: str,
        expected: list[str],
    ) -> None:
        assert self.names(store, exp, filter=text) == expected

    def test_order_by(self, store: MetadataStore, exp: Experiment, runs: dict[str, Run]) -> None:
        assert self.names(store, exp, order_by=("metrics.auc DESC",)) == ["r1", "r3", "r2", "r4"]
        assert self.names(store, exp, order_by=("attributes.start_time ASC",)) == [
            "r1",
            "r2",
            "r3",
            "r4",
        ]

    def test_pages_and_views(
        self, store: MetadataStore, exp: Experiment, runs: dict[str, Run]
    ) -> None:
        seen: list[str] = []
        token: str | None = None
        for _ in range(3):
            page = store.runs.search_runs(
                RunSearch((exp.id,), limit=2, view=ViewType.ALL, page_token=token)
            )
            seen += [run.info.name for run in page.items]
            token = page.next_page_token
        assert (seen, token) == (["r5", "r4", "r3", "r2", "r1"], None)
        assert self.names(store, exp, view=ViewType.DELETED_ONLY) == ["r5"]
        store.experiments.set_experiment_stage(exp.id, "deleted")
        assert self.names(store, exp) == []
        assert len(self.names(store, exp, view=ViewType.ALL)) == 5

    def test_results_are_full_runs(
        self, store: MetadataStore, exp: Experiment, runs: dict[str, Run]
    ) -> None:
        (found,) = store.runs.search_runs(RunSearch((exp.id,), filter="params.model = 'lr'")).items
        assert found == store.runs.get_run(runs["r2"].id)
        assert found.params == {"model": "lr"}
        assert found.metrics["acc"].value == 0.95


class TrackingContract(ExperimentContract, RunContract, RunDataContract, SearchContract):
    """Everything the tracker's ports promise, for one backend."""

"""`noria.tune` on the local executor: a small scikit-learn search on a bundled dataset."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pandas as pd
import pytest

import noria
from noria.client import Client, connect
from noria.domain.entities import EntityKind, EntityRef
from noria.domain.pipelines import PipelineStatus, StepStatus
from noria.pipelines.tuning import Choice, FloatRange, IntRange, TuningFailed, TuningResult
from noria.settings import Settings
from tests.unit.pipelines.workspace import workspace

OBJECTIVES = """
    import os
    import time
    from pathlib import Path
    from typing import Any

    import noria
    import pandas as pd
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_score
    from sklearn.tree import DecisionTreeClassifier

    @noria.step
    def fit(
        frame: pd.DataFrame, c: float, depth: int, kind: str, folder: str = ""
    ) -> tuple[dict, Any]:
        # The first trial to get here fails (when asked to): the study must go on.
        if folder:
            try:
                os.close(os.open(Path(folder, "failed-once"), os.O_CREAT | os.O_EXCL))
            except FileExistsError:
                pass
            else:
                raise RuntimeError("the first trial breaks on purpose")
        features, target = frame.drop(columns="target"), frame["target"]
        if kind == "linear":
            model = LogisticRegression(C=c, max_iter=300)
        else:
            model = DecisionTreeClassifier(max_depth=depth, random_state=0)
        scores = cross_val_score(model, features, target, cv=3)
        return {"accuracy": float(scores.mean()), "spread": float(scores.std())}, model.fit(
            features, target
        )

    @noria.step
    def curve(x: float) -> float:
        # A learning curve that ends at x: poor values are visible from the first step.
        for epoch in range(4):
            noria.report_trial(x * (epoch + 1) / 4, step=epoch)
        return x

    @noria.step(timeout=1)
    def sleepy(x: float) -> float:
        while x > 0.5:  # short sleeps: a thread is interrupted between two of them
            time.sleep(0.01)
        return x
"""

SPACE = {
    "c": FloatRange(1e-3, 10.0, log=True),
    "depth": IntRange(1, 6),
    "kind": Choice(["linear", "tree"]),
}


@pytest.fixture
def client(settings: Settings) -> Iterator[Client]:
    with connect(settings) as opened:
        yield opened


@pytest.fixture
def objectives(tmp_path: Path) -> Iterator[ModuleType]:
    with workspace(tmp_path / "flows") as space:
        space.write("objectives", OBJECTIVES)
        yield space.load("objectives")


@pytest.fixture(scope="module")
def iris() -> pd.DataFrame:
    # Known race, outside tuning: the sklearn flavor's first save imports skops, which
    # imports torch, while another thread's flavor detection reads the half-imported torch
    # from sys.modules (noria.models.flavors.base.loaded_module). Import it before trials
    # run in parallel threads until that is fixed.
    import skops.io  # noqa: F401
    from sklearn.datasets import load_iris

    frame: pd.DataFrame = load_iris(as_frame=True).frame
    return frame


def search(
    objectives: ModuleType, iris: pd.DataFrame, client: Client, **options: object
) -> TuningResult:
    arguments: dict[str, object] = {
        "fixed": {"frame": iris},
        "space": SPACE,
        "metric": "accuracy",
        "trials": 8,
        "parallel": 2,
        "seed": 7,
        "client": client,
        **options,
    }
    return noria.tune(objectives.fit, **arguments)  # type: ignore[arg-type]


def test_trials_are_child_runs_and_the_best_params_and_model_come_back(
    objectives: ModuleType, iris: pd.DataFrame, client: Client
) -> None:
    result = search(objectives, iris, client)
    assert result.succeeded and len(result.trials) == 8
    assert all(trial.state == "COMPLETE" for trial in result.trials)
    best = result.best_trial
    assert best.value == max(trial.value or 0.0 for trial in result.trials)
    assert set(result.best_params) == {"c", "depth", "kind"}
    assert result.best_value > 0.9  # iris is easy

    model = result.best_model
    assert (model.predict(iris.drop(columns="target")) == iris["target"]).mean() > 0.9

    tuning_run = client.tracker.get_run(result.tracking_run_id or "")
    assert tuning_run.metrics["accuracy"].value == result.best_value
    assert tuning_run.params["best.kind"] == best.params["kind"]
    assert tuning_run.params["space.c"] == "float [0.001, 10] log"
    children = client.tracker.search_runs(
        experiments="tune-fit", filter=f"attributes.parent_id = '{tuning_run.info.id}'"
    )
    assert len(children) == 8
    for child in children:
        number = int(child.tags["noria.trial"])
        trial = result.trials[number]
        assert child.info.id == trial.tracking_run_id
        assert child.params["kind"] == trial.params["kind"]
        assert child.metrics["accuracy"].value == trial.value
        assert "spread" in child.metrics  # every number the objective returned is logged

    # The best model is filed in the tuning run, so it registers like any logged model.
    version = noria.register_model(result.model_uri or "", "iris-tuned", client=client)
    assert version.version == 1

    # The tuning run is a pipeline run whose steps are the trials, with their lineage.
    stored = client.metadata.pipelines.get_run(result.id)
    assert (stored.pipeline, stored.executor, stored.status) == (
        "tune-fit",
        "local",
        PipelineStatus.SUCCEEDED,
    )
    steps = client.metadata.pipelines.list_steps(result.id)
    assert [step.name for step in steps] == [f"trial_{n}" for n in range(8)]
    frame_input = steps[0].inputs[0]
    assert frame_input.name == "frame" and all(step.inputs == (frame_input,) for step in steps)
    consumers = client.lineage.downstream(frame_input.entity(), depth=1).entities()
    assert {EntityRef(EntityKind.STEP_RUN, step.id) for step in steps} == set(consumers)


def test_a_seeded_search_is_reproducible(
    objectives: ModuleType, iris: pd.DataFrame, client: Client
) -> None:
    first = search(objectives, iris, client)
    second = search(objectives, iris, client)
    assert [trial.params for trial in first.trials] == [trial.params for trial in second.trials]
    assert first.best_trial.number == second.best_trial.number
    assert first.best_params == second.best_params


def test_a_failing_trial_is_recorded_and_the_study_goes_on(
    objectives: ModuleType, iris: pd.DataFrame, client: Client, tmp_path: Path
) -> None:
    result = search(objectives, iris, client, fixed={"frame": iris, "folder": str(tmp_path)})
    failed = [trial for trial in result.trials if trial.state == "FAIL"]
    assert len(failed) == 1 and len(result.trials) == 8
    assert (failed[0].error or "").startswith("RuntimeError: the first trial breaks on purpose")
    assert result.best_trial.state == "COMPLETE"
    step = client.metadata.pipelines.list_steps(result.id)[failed[0].number]
    assert step.status is StepStatus.FAILED and "Traceback" in (step.error or "")
    child = client.tracker.get_run(failed[0].tracking_run_id or "")
    assert child.tags["noria.trial_state"] == "FAIL"
    assert child.params["kind"] == failed[0].params["kind"]


def test_a_pruner_stops_hopeless_trials_in_their_workers(
    objectives: ModuleType, client: Client
) -> None:
    import optuna

    result = noria.tune(
        objectives.curve,
        space={"x": FloatRange(0.0, 1.0)},
        metric="score",
        trials=8,
        parallel=1,
        seed=3,
        pruner=optuna.pruners.MedianPruner(n_startup_trials=2),
        client=client,
    )
    pruned = [trial for trial in result.trials if trial.state == "PRUNED"]
    assert pruned, [trial.params for trial in result.trials]
    assert all((trial.error or "").startswith("TrialPruned: pruned at step") for trial in pruned)
    complete = [trial.value for trial in result.trials if trial.state == "COMPLETE"]
    assert result.best_value == max(v for v in complete if v is not None)
    child = client.tracker.get_run(pruned[0].tracking_run_id or "")
    assert child.tags["noria.trial_state"] == "PRUNED"
    history = client.tracker.metric_history(child.info.id, "score")
    assert len(history) < 4  # stopped before its last epoch
    assert result.study.trials[pruned[0].number].state.name == "PRUNED"


def test_a_trial_past_its_timeout_fails_and_no_trial_completing_raises(
    objectives: ModuleType, client: Client
) -> None:
    with pytest.raises(TuningFailed) as raised:
        noria.tune(
            objectives.sleepy,
            space={"x": FloatRange(0.6, 1.0)},
            metric="x",
            trials=2,
            parallel=2,
            client=client,
        )
    result = raised.value.result
    assert [trial.state for trial in result.trials] == ["FAIL", "FAIL"]
    assert {trial.error for trial in result.trials} == {"TimeoutError: timed out after 1 s"}
    assert "no trial completed" in raised.value.message
    for trial in result.trials:  # the interrupted trials' runs were ended, not left running
        assert trial.tracking_run_id is not None
        assert client.tracker.get_run(trial.tracking_run_id).info.status.value == "FAILED"

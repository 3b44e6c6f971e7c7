"""One tuning run from start to end: its records, its trials, and the best one filed.

The run is a pipeline run whose steps are the trials (``noria pipelines show <id>``), and a
tracking run whose children are the trials' runs; the best trial's params, value and model
are filed on the tracking run, the model under ``model/`` (register ``runs:/<run>/model``).
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

from noria.domain.entities import EntityKind, EntityRef
from noria.domain.ids import new_id
from noria.domain.lineage import Relation
from noria.domain.pipelines import OutputRef, PipelineRun, PipelineStatus, StepRun
from noria.domain.tracking import RunStatus
from noria.pipelines.literals import literal_form
from noria.pipelines.search_space import describe_space
from noria.pipelines.sessions import close_session, open_session
from noria.pipelines.tuning_records import file_best_model, start_tracking
from noria.pipelines.tuning_result import TrialRecord, TuningResult
from noria.pipelines.tuning_study import TuningDriver, new_study
from noria.pipelines.values import PickledOutputWarning, store_value
from noria.pipelines.worker import now_ms

if TYPE_CHECKING:
    from noria.client import Client
    from noria.pipelines.tuning import TuningPlan
    from noria.ports.executors import Executor
    from noria.tracking.run import ActiveRun


def _tracking_params(plan: TuningPlan) -> dict[str, Any]:
    fixed = {k: v for k, v in plan.node.params.items() if k not in plan.space}
    settings = {"trials": plan.trials, "metric": plan.metric, "parallel": plan.parallel}
    settings["direction"] = "maximize" if plan.maximize else "minimize"
    if plan.seed is not None:
        settings["seed"] = plan.seed
    described = {f"space.{name}": text for name, text in describe_space(plan.space).items()}
    return {**fixed, **{f"tuning.{k}": v for k, v in settings.items()}, **described}


def _run_params(plan: TuningPlan) -> dict[str, Any]:
    fixed = {k: literal_form(v) for k, v in plan.node.params.items() if k not in plan.space}
    return {
        "objective": str(plan.step.reference),
        "space": describe_space(plan.space),
        "metric": plan.metric,
        "direction": "maximize" if plan.maximize else "minimize",
        "trials": plan.trials,
        "parallel": plan.parallel,
        "seed": plan.seed,
        "fixed": fixed,
    }


def _store_constants(client: Client, plan: TuningPlan) -> tuple[OutputRef, ...]:
    """Fixed arguments that are not small literals are stored once and shared by reference."""
    refs = []
    for name, value in plan.node.constants.items():
        ref, notes = store_value(value, name, client.artifacts, step=plan.step.name)
        refs.append(ref)
        for message in notes:
            warnings.warn(message, PickledOutputWarning, stacklevel=4)
    return tuple(refs)


def _file_best(client: Client, tracking: ActiveRun, metric: str, best: TrialRecord) -> None:
    tracking.log_metric(metric, best.value if best.value is not None else float("nan"))
    tags: dict[str, Any] = {"noria.best_trial": best.number}
    if best.tracking_run_id is not None:
        tags["noria.best_run_id"] = best.tracking_run_id
    tracking.set_tags(tags)
    tracking.log_params({f"best.{name}": value for name, value in best.params.items()})
    if best.model is not None and best.model.serializer == "model":
        file_best_model(client, tracking.id, best.model)


def _create_run(client: Client, plan: TuningPlan, executor: Executor, driver: TuningDriver) -> None:
    run = PipelineRun(
        id=driver.run_id,
        pipeline=plan.name,
        status=PipelineStatus.RUNNING,
        params=_run_params(plan),
        executor=executor.name,
        created_by=client.settings.user,
        started_at=now_ms(),
        tracking_run_id=driver.tracking.id,
    )
    client.metadata.pipelines.create_run(run, driver.records)
    client.lineage.record(
        run.entity(), Relation.PRODUCED, EntityRef(EntityKind.RUN, driver.tracking.id)
    )


def _trial_records(plan: TuningPlan, run_id: str) -> list[StepRun]:
    return [
        StepRun(
            id=new_id(),
            pipeline_run_id=run_id,
            name=f"trial_{number}",
            step_ref=str(plan.step.reference),
        )
        for number in range(plan.trials)
    ]


def _why_none_completed(driver: TuningDriver) -> str:
    first = driver.results[0].error or "failed"
    return f"no trial completed; trial 0: {first.splitlines()[0]}"


def run_study(
    client: Client, plan: TuningPlan, executor: Executor, *, experiment: str | None
) -> TuningResult:
    """Record the tuning run, run its trials on ``executor``, and file the best one."""
    run_id = new_id()
    session = open_session(client, {str(plan.step.reference): plan.step.function})
    tracking = start_tracking(
        client, name=plan.name, run_id=run_id, experiment=experiment, params=_tracking_params(plan)
    )
    driver = TuningDriver(
        client,
        plan,
        executor,
        run_id,
        tracking,
        session,
        new_study(plan, run_id),
        _trial_records(plan, run_id),
    )
    created, best = False, None
    error: str | None = "the tuning run stopped before its end"
    try:
        _create_run(client, plan, executor, driver)
        created = True
        driver.constants = _store_constants(client, plan)
        driver.run()
        best = driver.best()
        error = None if best is not None else _why_none_completed(driver)
        if best is not None:
            _file_best(client, tracking, plan.metric, best)
    except BaseException as exc:
        best, error = None, f"the tuning run stopped: {type(exc).__name__}: {exc}"
        raise
    finally:
        close_session(session)
        status = PipelineStatus.SUCCEEDED if best is not None else PipelineStatus.FAILED
        try:
            if created:
                finished = client.metadata.pipelines.finish_run(
                    run_id, status, ended_at=now_ms(), error=error
                )
        finally:
            tracking.end(RunStatus.FINISHED if best is not None else RunStatus.FAILED)
    return TuningResult(
        client,
        finished,
        [driver.results[number] for number in sorted(driver.results)],
        metric=plan.metric,
        best=best.number if best is not None else None,
        study=driver.study,
    )

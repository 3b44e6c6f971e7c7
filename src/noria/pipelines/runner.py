"""Run a pipeline: resolve parameters, build and check the DAG, record, execute, finish.

The pipeline run is a tracking run (in the experiment named after the pipeline, a child
of any run active in the caller) whose params are the pipeline's parameters; each step
that executes is a child run of it. Everything is recorded through the metadata store,
so the same code runs embedded and against a remote server.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from noria.domain.entities import EntityKind, EntityRef
from noria.domain.ids import new_id
from noria.domain.lineage import Relation
from noria.domain.pipelines import (
    OutputRef,
    PipelineRun,
    PipelineStatus,
    StepRun,
    StepStatus,
    StepTask,
    StoreAddress,
)
from noria.domain.tracking import RunSearch, RunStatus, RunTag
from noria.errors import AlreadyExists, NoriaError
from noria.pipelines.checks import check_graph
from noria.pipelines.execution import Execution, StepState
from noria.pipelines.graph import Graph
from noria.pipelines.literals import canonical_json, literal_form
from noria.pipelines.params import require_no_problems, resolve_params
from noria.pipelines.results import PipelineFailed, PipelineResult
from noria.pipelines.sessions import close_session, open_session
from noria.pipelines.values import PickledOutputWarning, store_value
from noria.pipelines.worker import now_ms

if TYPE_CHECKING:
    from noria.client import Client
    from noria.pipelines.authoring import Pipeline
    from noria.ports.executors import Executor
    from noria.tracking.run import ActiveRun


def _store_address(client: Client) -> StoreAddress:
    settings = client.settings
    return StoreAddress(
        store_uri=settings.resolved_store_uri(),
        artifact_uri=settings.resolved_artifact_uri(),
        home=str(settings.home.expanduser().absolute()),
        user=settings.user,
    )


def _params_record(params: Mapping[str, Any]) -> dict[str, Any]:
    def shown(value: Any) -> Any:
        try:
            return literal_form(value)
        except ValueError:
            return repr(value)

    return {name: shown(value) for name, value in params.items()}


def _start_tracking(client: Client, graph: Graph, run_id: str, experiment: str | None) -> ActiveRun:
    from noria.fluent import active_run

    caller = active_run()
    arguments: dict[str, Any] = {
        "experiment": experiment or graph.pipeline,
        "name": graph.pipeline,
        "tags": {"noria.pipeline": graph.pipeline, "noria.pipeline_run_id": run_id},
        "parent_id": caller.id if caller is not None else None,
    }
    try:
        tracking = client.tracker.start_run(**arguments)
    except AlreadyExists:
        # A concurrent first run of this pipeline created the experiment between this
        # one's lookup and its own create: the second start finds it.
        tracking = client.tracker.start_run(**arguments)
    record = _params_record(graph.params)
    tracking.log_params(
        {
            name: value if isinstance(value, str) else canonical_json(value)
            for name, value in record.items()
        }
    )
    return tracking


def _step_states(
    client: Client, graph: Graph, run_id: str, tracking: ActiveRun, session: str
) -> dict[str, StepState]:
    address = _store_address(client)
    states = {}
    for name, node in graph.nodes.items():
        record = StepRun(
            id=new_id(),
            pipeline_run_id=run_id,
            name=name,
            step_ref=str(node.step.reference),
            upstream=node.upstream,
        )
        options = node.step.options
        task = StepTask(
            pipeline_run_id=run_id,
            step_run_id=record.id,
            step_name=name,
            step=node.step.reference,
            params={},
            inputs=(),
            output_names=node.output_names,
            attempt=0,
            store=address,
            session=session,
            experiment_id=tracking.experiment_id,
            parent_run_id=tracking.id,
            resources=options.resources,
            timeout_s=options.timeout_s,
            retries=options.retries,
        )
        states[name] = StepState(node=node, record=record, task_base=task)
    return states


def _store_constants(client: Client, states: Mapping[str, StepState]) -> None:
    """Non-literal values passed in the pipeline body become artifacts, keyed by digest."""
    for state in states.values():
        refs: list[OutputRef] = []
        for parameter, value in state.node.constants.items():
            ref, notes = store_value(value, parameter, client.artifacts, step=state.node.name)
            refs.append(ref)
            for message in notes:
                warnings.warn(message, PickledOutputWarning, stacklevel=3)
        state.constants = tuple(refs)


def _failure_summary(failed: Sequence[StepRun]) -> str | None:
    if not failed:
        return None
    first = failed[0]
    reason = (first.error or "failed").splitlines()[0]
    more = f" (and {len(failed) - 1} more failed step{'s' if len(failed) > 2 else ''})"
    return f"step {first.name!r} failed: {reason}{more if len(failed) > 1 else ''}"


def execute_graph(
    client: Client,
    graph: Graph,
    executor: Executor,
    *,
    experiment: str | None = None,
) -> PipelineResult:
    """Run an already checked graph on ``executor`` and record everything."""
    run_id = new_id()
    functions = {str(node.step.reference): node.step.function for node in graph.nodes.values()}
    session = open_session(client, functions)
    tracking = _start_tracking(client, graph, run_id, experiment)
    status, created = PipelineStatus.FAILED, False
    error: str | None = "the runner stopped before the run ended"
    steps: list[StepRun] = []
    finished: PipelineRun | None = None
    try:
        states = _step_states(client, graph, run_id, tracking, session)
        run = PipelineRun(
            id=run_id,
            pipeline=graph.pipeline,
            status=PipelineStatus.RUNNING,
            params=_params_record(graph.params),
            executor=executor.name,
            created_by=client.settings.user,
            started_at=now_ms(),
            tracking_run_id=tracking.id,
        )
        client.metadata.pipelines.create_run(run, [state.record for state in states.values()])
        created = True
        client.lineage.record(
            run.entity(), Relation.PRODUCED, EntityRef(EntityKind.RUN, tracking.id)
        )
        _store_constants(client, states)
        Execution(client, graph.pipeline, states, executor).run()
        steps = [state.record for state in states.values()]
        error = _failure_summary([step for step in steps if step.status is StepStatus.FAILED])
        status = PipelineStatus.FAILED if error else PipelineStatus.SUCCEEDED
    except BaseException as exc:
        error = f"the runner stopped: {type(exc).__name__}: {exc}"
        raise
    finally:
        close_session(session)
        try:
            if created:
                finished = client.metadata.pipelines.finish_run(
                    run_id, status, ended_at=now_ms(), error=error
                )
        finally:
            _end_orphaned_step_runs(client, tracking)
            succeeded = status is PipelineStatus.SUCCEEDED
            tracking.end(RunStatus.FINISHED if succeeded else RunStatus.FAILED)
    assert finished is not None  # created, or the exception above propagated
    return PipelineResult(client, finished, steps)


def _end_orphaned_step_runs(client: Client, tracking: ActiveRun) -> None:
    """End the step runs a killed step left RUNNING (a timeout on processes or Ray).

    A killed worker cannot end its own tracking run; once every step is over, a child
    run still RUNNING belongs to one, so it is ended KILLED and tagged with the reason.
    """
    search = RunSearch(
        (tracking.experiment_id,),
        f"attributes.parent_id = '{tracking.id}' AND attributes.status = 'RUNNING'",
        limit=1000,
    )
    try:
        orphans = client.tracker.runs.search_runs(search).items
        for orphan in orphans:
            client.tracker.runs.log_batch(
                orphan.info.id,
                tags=[RunTag("noria.ended_by", "the pipeline runner: its step was stopped")],
            )
            client.tracker.end_run(orphan.info.id, RunStatus.KILLED)
    except NoriaError as exc:  # the pipeline's own record matters more than the tidy-up
        warnings.warn(f"could not end the runs of stopped steps: {exc.message}", stacklevel=2)


def run_pipeline(
    pipeline: Pipeline,
    *,
    params: Mapping[str, Any],
    cli_params: Sequence[str] = (),
    config: str | Path | None = None,
    executor: str | Executor = "local",
    client: Client | None = None,
    experiment: str | None = None,
    raise_on_failure: bool = True,
) -> PipelineResult:
    """Resolve, check and run ``pipeline``; see :meth:`Pipeline.run`."""
    from noria.backends.schemes import executor_for

    resolved, problems = resolve_params(
        pipeline, params=params, cli_params=cli_params, config=config
    )
    require_no_problems(problems)
    graph = pipeline.build(resolved)
    if client is None:
        from noria.client import default_client

        client = default_client()
    chosen = executor_for(executor, client.settings) if isinstance(executor, str) else executor
    try:
        require_no_problems(check_graph(graph, in_process=chosen.in_process, executor=chosen.name))
        result = execute_graph(client, graph, chosen, experiment=experiment)
    finally:
        if isinstance(executor, str):
            chosen.close()
    if raise_on_failure and not result.succeeded:
        raise PipelineFailed(result)
    return result

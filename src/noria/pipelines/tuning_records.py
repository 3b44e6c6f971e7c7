"""What a tuning run leaves behind: a pipeline run with one step run per trial, a tracking
run with each trial's run as its child (params, tags, the tuned metric), and lineage."""

from __future__ import annotations

import mimetypes
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from noria.domain.entities import EntityKind, EntityRef
from noria.domain.lineage import LineageEdge, Relation
from noria.domain.pipelines import OutputRef, StepRun, StoreAddress
from noria.domain.tracking import Metric, Param, RunArtifact, RunStatus, RunTag
from noria.domain.uris import parse_uri
from noria.errors import AlreadyExists
from noria.pipelines.literals import canonical_json
from noria.pipelines.worker import now_ms

if TYPE_CHECKING:
    from noria.client import Client
    from noria.tracking.run import ActiveRun

MODEL_PATH = "model"  # where the best trial's model is filed in the tuning run


def store_address(client: Client) -> StoreAddress:
    settings = client.settings
    return StoreAddress(
        store_uri=settings.resolved_store_uri(),
        artifact_uri=settings.resolved_artifact_uri(),
        home=str(settings.home.expanduser().absolute()),
        user=settings.user,
    )


def param_text(value: Any) -> str:
    return value if isinstance(value, str) else canonical_json(value)


def start_tracking(
    client: Client,
    *,
    name: str,
    run_id: str,
    experiment: str | None,
    params: Mapping[str, Any],
) -> ActiveRun:
    """The tuning run's tracking run: a child of any run active in the caller."""
    from noria.fluent import active_run

    caller = active_run()
    arguments: dict[str, Any] = {
        "experiment": experiment or name,
        "name": name,
        "tags": {"noria.pipeline": name, "noria.pipeline_run_id": run_id, "noria.tuning": "1"},
        "parent_id": caller.id if caller is not None else None,
    }
    try:
        tracking = client.tracker.start_run(**arguments)
    except AlreadyExists:  # a concurrent first run created the experiment meanwhile
        tracking = client.tracker.start_run(**arguments)
    tracking.log_params({key: param_text(value) for key, value in params.items()})
    return tracking


def log_trial(
    client: Client,
    run_id: str,
    *,
    tuning_run_id: str,
    number: int,
    state: str,
    params: Mapping[str, Any],
    metrics: Mapping[str, float],
    step: int,
) -> None:
    """File a finished trial in its tracking run: its params, state, and final metrics."""
    stamp = now_ms()
    client.tracker.runs.log_batch(
        run_id,
        params=[Param(key, param_text(value)) for key, value in params.items()],
        tags=[
            RunTag("noria.tuning_run_id", tuning_run_id),
            RunTag("noria.trial", str(number)),
            RunTag("noria.trial_state", state),
        ],
        metrics=[Metric(key, value, stamp, step) for key, value in metrics.items()],
    )


def reported_values(client: Client, run_id: str, metric: str) -> dict[int, float]:
    """The metric's values by step, as the objective reported them in its run."""
    history = client.tracker.metric_history(run_id, metric)
    return dict(zip(history.steps, history.values, strict=True))


def end_abandoned_run(client: Client, *, experiment_id: str, run_id: str, step: str) -> str | None:
    """End FAILED the tracking run of a trial the driver gave up on (a timeout), which a
    killed worker could not end; returns its id, if the trial got as far as starting one."""
    found = client.tracker.search_runs(
        experiments=experiment_id,
        filter=f"tags.noria.pipeline_run_id = '{run_id}' and tags.noria.step = '{step}'",
        limit=1,
    )
    for run in found:
        if run.info.status is RunStatus.RUNNING:
            client.tracker.end_run(run.info.id, RunStatus.FAILED)
        return run.info.id
    return None


def record_trial_lineage(client: Client, step: StepRun) -> None:
    """As for any step run: inputs consumed, outputs and the tracking run produced."""
    me = step.entity()
    edges = [LineageEdge(ref.entity(), Relation.CONSUMED, me) for ref in step.inputs]
    edges += [
        LineageEdge(parse_uri(ref.refers_to).entity(), Relation.CONSUMED, me)  # type: ignore[union-attr]
        for ref in step.inputs
        if ref.refers_to is not None
    ]
    edges += [LineageEdge(me, Relation.PRODUCED, ref.entity()) for ref in step.outputs]
    if step.tracking_run_id is not None:
        edges.append(
            LineageEdge(me, Relation.PRODUCED, EntityRef(EntityKind.RUN, step.tracking_run_id))
        )
    client.lineage.record_many(edges)


def file_best_model(client: Client, run_id: str, model: OutputRef) -> None:
    """List the best model's files under ``model/`` in the tuning run (no bytes copied), so
    ``runs:/<run>/model`` can be registered like any logged model."""
    from noria.domain.artifacts import Digest

    entries = client.artifacts.read_tree(Digest.parse(model.digest))
    client.tracker.run_data.record_artifacts(
        run_id,
        [
            RunArtifact(
                f"{MODEL_PATH}/{entry.path}",
                str(entry.digest),
                entry.size,
                mimetypes.guess_type(entry.path)[0] or "application/octet-stream",
            )
            for entry in entries
        ],
    )
    client.lineage.record(EntityRef(EntityKind.RUN, run_id), Relation.PRODUCED, model.entity())

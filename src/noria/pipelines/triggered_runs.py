"""Run the pipeline of one claimed firing, and record how it ended.

The pipeline may declare parameters that receive the trigger's context (when the
schedule's own ``--param`` values do not set them):

- ``trigger``: a dict — ``schedule``, ``kind``, ``occurrence``, ``fired_at`` (ISO, UTC), and
  ``dataset_uri`` or ``event`` (``id``, ``name``, ``payload``, ``raised_at``);
- ``dataset_uri``: the new dataset version that fired a dataset trigger (``datasets:/credit/7``);
- ``event_payload``: the payload of the event that fired an event trigger.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from noria.domain.ids import new_id
from noria.domain.lineage import LineageEdge, Relation
from noria.domain.schedules import Event, Firing, FiringStatus, Occurrence, Schedule
from noria.domain.uris import parse_entity_uri
from noria.errors import NoriaError
from noria.pipelines.code_root import check_in_root
from noria.pipelines.loading import load_pipeline
from noria.pipelines.locations import Problem
from noria.triggers.due import Due

if TYPE_CHECKING:
    from noria.client import Client
    from noria.pipelines.authoring import Pipeline
    from noria.pipelines.results import PipelineResult

logger = logging.getLogger("noria.scheduler")
# Runs start in threads of their own; importing a pipeline file is not safe to do twice at
# once (the second import would see the first one's half-run module in sys.modules).
_IMPORTING = threading.Lock()


def trigger_params(pipeline: Pipeline, due: Due, fired_at_ms: int) -> dict[str, Any]:
    """The context values for the parameters ``pipeline`` declares among ``trigger``,
    ``dataset_uri`` and ``event_payload``."""
    declared = pipeline.signature.parameters
    found: dict[str, Any] = {}
    if "trigger" in declared:
        found["trigger"] = due.context(fired_at_ms)
    if "dataset_uri" in declared and due.dataset_uri is not None:
        found["dataset_uri"] = due.dataset_uri
    if "event_payload" in declared and due.event is not None:
        found["event_payload"] = dict(due.event.payload)
    return found


def schedule_problems(pipeline: Pipeline, schedule: Schedule) -> list[Problem]:
    """What would stop ``schedule`` from running ``pipeline``: its parameters (with example
    trigger values for those the trigger fills in), the graph, the executor."""
    example = Due(
        schedule,
        Occurrence("example"),
        dataset_uri=f"datasets:/{schedule.dataset}/1" if schedule.dataset else None,
        event=Event(new_id(), schedule.event, {}, 0, "example") if schedule.event else None,
    )
    return pipeline.lint(
        trigger_params(pipeline, example, 0),
        cli_params=cli_params(schedule.params),
        executor=schedule.executor,
    )


def cli_params(params: Mapping[str, str]) -> list[str]:
    """A schedule's parameters as ``--param`` gives them, parsed to each parameter's type."""
    return [f"{name}={value}" for name, value in params.items()]


def _record_lineage(client: Client, due: Due, result: PipelineResult) -> None:
    run = result.run.entity()
    upstream = [due.schedule.entity()]
    if due.dataset_uri is not None:
        upstream.append(parse_entity_uri(due.dataset_uri))
    if due.event is not None:
        upstream.append(due.event.entity())
    client.lineage.record_many([LineageEdge(ref, Relation.TRIGGERED, run) for ref in upstream])


def _run(client: Client, due: Due, firing: Firing, root: Path | None) -> PipelineResult:
    schedule = due.schedule
    if root is not None:
        check_in_root(schedule.pipeline, root)
    with _IMPORTING:
        pipeline = load_pipeline(schedule.pipeline)
    result: PipelineResult = pipeline.run(
        params=trigger_params(pipeline, due, firing.fired_at),
        cli_params=cli_params(schedule.params),
        executor=schedule.executor,
        client=client,
        raise_on_failure=False,
    )
    _record_lineage(client, due, result)
    return result


def run_firing(client: Client, due: Due, firing: Firing, *, root: Path | None = None) -> Firing:
    """Run the firing's pipeline to its end and store the outcome; never raises for the
    pipeline's failures (they are the firing's error). With ``root``, only pipelines whose
    code lies inside that folder are imported."""
    run_id: str | None = None
    error: str | None = None
    try:
        result = _run(client, due, firing, root)
        run_id = result.id
        if not result.succeeded:
            error = result.run.error or "the pipeline run failed"
    except NoriaError as exc:
        error = exc.message
    except Exception as exc:  # a broken pipeline must not stop the scheduler
        logger.exception("Schedule %s: the pipeline raised", due.schedule.name)
        error = f"{type(exc).__name__}: {exc}"
    status = FiringStatus.FAILED if error is not None else FiringStatus.SUCCEEDED
    ended_at = time.time_ns() // 1_000_000
    try:
        return client.metadata.schedules.finish_firing(
            firing.id, status, ended_at=ended_at, pipeline_run_id=run_id, error=error
        )
    except NoriaError as exc:  # e.g. the schedule was removed while its run went on
        logger.warning("Schedule %s: cannot record firing %s: %s", firing.schedule, firing.id, exc)
        return replace(
            firing, status=status, ended_at=ended_at, pipeline_run_id=run_id, error=error
        )

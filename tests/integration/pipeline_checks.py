"""Checks shared by the pipeline execution tests (local executors and Ray)."""

from __future__ import annotations

from noria.client import Client
from noria.domain.tracking import Run
from noria.pipelines.results import PipelineResult


def statuses(result: PipelineResult) -> dict[str, str]:
    labels = {}
    for name, step in result.steps.items():
        labels[name] = "cached" if step.cache_hit else step.status.value.lower()
    return labels


def step_tracking_runs(client: Client, result: PipelineResult, step: str) -> list[Run]:
    """The tracking runs of one step: children of the pipeline's run tagged with it."""
    parent = client.tracker.get_run(result.run.tracking_run_id)
    return list(
        client.tracker.search_runs(
            experiments=parent.info.experiment_id,
            filter=f"attributes.parent_id = '{parent.info.id}' AND tags.`noria.step` = '{step}'",
        )
    )


def assert_ended_by_the_runner(
    client: Client, result: PipelineResult, step: str, *, started: bool = True
) -> None:
    """A killed step cannot end its own tracking run; the runner must have. ``started``
    False: the step may have been killed before it began its run (a slow start under load)."""
    runs = step_tracking_runs(client, result, step)
    assert [run.info.status.value for run in runs] == (
        ["KILLED"] if started else ["KILLED"] * len(runs)
    )
    assert len(runs) <= 1
    for run in runs:
        assert run.tags["noria.ended_by"].startswith("the pipeline runner")

"""``noria experiments list|create|delete|restore``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.table import Table

from noria.cli.context import open_client
from noria.cli.render import JsonFlag, console, print_json
from noria.domain.tracking import Experiment, LifecycleStage, ViewType

app = typer.Typer(help="Experiments: named groups of runs.", no_args_is_help=True)


def _when(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S")


def _as_dict(experiment: Experiment) -> dict[str, object]:
    return {
        "id": experiment.id,
        "name": experiment.name,
        "lifecycle_stage": experiment.lifecycle_stage.value,
        "creation_time": experiment.creation_time,
        "tags": experiment.tags,
    }


@app.command("list")
def list_experiments(
    ctx: typer.Context,
    view: Annotated[ViewType, typer.Option(help="Which lifecycle stages.")] = ViewType.ACTIVE_ONLY,
    name_like: Annotated[str | None, typer.Option(help="SQL LIKE pattern, e.g. 'credit%'.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 100,
    json: JsonFlag = False,
) -> None:
    """List experiments, newest first."""
    with open_client(ctx) as client:
        page = client.tracker.experiments.list_experiments(
            view=view, name_like=name_like, limit=limit
        )
    if json:
        print_json({"experiments": [_as_dict(e) for e in page.items]})
        return
    table = Table("id", "name", "stage", "created (UTC)")
    for experiment in page.items:
        stage = experiment.lifecycle_stage.value
        table.add_row(experiment.id, experiment.name, stage, _when(experiment.creation_time))
    console().print(table)


@app.command("create")
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Unique experiment name.")],
    json: JsonFlag = False,
) -> None:
    """Create an experiment."""
    with open_client(ctx) as client:
        experiment = client.tracker.experiments.create_experiment(name)
    if json:
        print_json(_as_dict(experiment))
        return
    console().print(f"Created experiment {experiment.name!r} (id {experiment.id}).", markup=False)


def _set_stage(ctx: typer.Context, name_or_id: str, stage: LifecycleStage, json: bool) -> None:
    with open_client(ctx) as client:
        experiment = client.tracker.experiment(name_or_id, create=False)
        updated = client.tracker.experiments.set_experiment_stage(experiment.id, stage.value)
    if json:
        print_json(_as_dict(updated))
        return
    verb = "Deleted" if stage is LifecycleStage.DELETED else "Restored"
    console().print(f"{verb} experiment {updated.name!r} (id {updated.id}).", markup=False)


@app.command("delete")
def delete(
    ctx: typer.Context,
    experiment: Annotated[str, typer.Argument(help="Name or id.")],
    json: JsonFlag = False,
) -> None:
    """Soft-delete an experiment (restore brings it back)."""
    _set_stage(ctx, experiment, LifecycleStage.DELETED, json)


@app.command("restore")
def restore(
    ctx: typer.Context,
    experiment: Annotated[str, typer.Argument(help="Name or id.")],
    json: JsonFlag = False,
) -> None:
    """Restore a deleted experiment."""
    _set_stage(ctx, experiment, LifecycleStage.ACTIVE, json)

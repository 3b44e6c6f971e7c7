"""``noria runs list|show|search|compare|delete|restore``."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.table import Table

from noria.cli.context import open_client
from noria.cli.render import JsonFlag, console, print_json
from noria.domain.tracking import LifecycleStage, Run, ViewType
from noria.errors import InvalidArgument

app = typer.Typer(
    help="Runs: what was trained, with what, and how it scored.", no_args_is_help=True
)

ExperimentOption = Annotated[
    list[str] | None,
    typer.Option("--experiment", "-e", help="Name or id; repeat for several. Default: 'Default'."),
]


def _when(ms: int | None) -> str:
    if ms is None:
        return "-"
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S")


def _number(value: float) -> str:
    return str(value) if not math.isfinite(value) else f"{value:.6g}"


def run_dict(run: Run) -> dict[str, Any]:
    info = run.info
    return {
        "id": info.id,
        "experiment_id": info.experiment_id,
        "name": info.name,
        "status": info.status.value,
        "start_time": info.start_time,
        "end_time": info.end_time,
        "lifecycle_stage": info.lifecycle_stage.value,
        "user": info.user,
        "parent_id": info.parent_id,
        "params": run.params,
        # JSON has no NaN or infinity: such values travel as strings.
        "metrics": {
            key: {
                "value": metric.value if math.isfinite(metric.value) else str(metric.value),
                "step": metric.step,
                "timestamp": metric.timestamp,
            }
            for key, metric in run.metrics.items()
        },
        "tags": run.tags,
    }


def _runs_table(runs: list[Run]) -> Table:
    table = Table()
    table.add_column("id", overflow="fold", min_width=32)  # ids are copied: never cut them
    table.add_column("name", overflow="fold")
    table.add_column("status")
    table.add_column("started (UTC)", no_wrap=True)
    table.add_column("metrics", overflow="fold")
    for run in runs:
        metrics = ", ".join(f"{k}={_number(m.value)}" for k, m in sorted(run.metrics.items()))
        info = run.info
        table.add_row(info.id, info.name, info.status.value, _when(info.start_time), metrics)
    return table


def _search(
    ctx: typer.Context,
    experiments: list[str] | None,
    filter_text: str,
    order_by: list[str] | None,
    limit: int,
    view: ViewType,
    json: bool,
) -> None:
    with open_client(ctx) as client:
        runs = client.tracker.search_runs(
            experiments=experiments or None,
            filter=filter_text,
            order_by=order_by or (),
            limit=limit,
            view=view,
        )
    if json:
        print_json({"runs": [run_dict(r) for r in runs], "next_page_token": runs.next_page_token})
        return
    console().print(_runs_table(runs))


@app.command("list")
def list_runs(
    ctx: typer.Context,
    experiment: ExperimentOption = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 50,
    view: Annotated[ViewType, typer.Option()] = ViewType.ACTIVE_ONLY,
    json: JsonFlag = False,
) -> None:
    """Most recent runs first."""
    _search(ctx, experiment, "", None, limit, view, json)


@app.command("search")
def search(
    ctx: typer.Context,
    filter_text: Annotated[
        str,
        typer.Argument(
            metavar="FILTER", help="e.g. \"metrics.auc > 0.8 AND params.model = 'xgb'\""
        ),
    ] = "",
    experiment: ExperimentOption = None,
    order_by: Annotated[
        list[str] | None, typer.Option("--order-by", help="e.g. 'metrics.auc DESC'; repeatable.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 50,
    view: Annotated[ViewType, typer.Option()] = ViewType.ACTIVE_ONLY,
    json: JsonFlag = False,
) -> None:
    """Runs matching a filter over metrics., params., tags. and attributes."""
    _search(ctx, experiment, filter_text, order_by, limit, view, json)


@app.command("show")
def show(ctx: typer.Context, run_id: str, json: JsonFlag = False) -> None:
    """One run: attributes, params, latest metrics, tags."""
    with open_client(ctx) as client:
        run = client.tracker.get_run(run_id)
    if json:
        print_json(run_dict(run))
        return
    out = console()
    info = run.info
    for name, value in (
        ("id", info.id),
        ("name", info.name),
        ("experiment", info.experiment_id),
        ("status", info.status.value),
        ("started", _when(info.start_time)),
        ("ended", _when(info.end_time)),
        ("user", info.user),
        ("parent", info.parent_id or "-"),
    ):
        out.print(f"{name:<12}{value}", markup=False)
    for title, items in (
        ("params", run.params),
        ("metrics", {k: f"{_number(m.value)} (step {m.step})" for k, m in run.metrics.items()}),
        ("tags", run.tags),
    ):
        table = Table("key", "value", title=title, title_justify="left")
        for key in sorted(items):
            table.add_row(key, str(items[key]))
        out.print(table)


@app.command("compare")
def compare(
    ctx: typer.Context,
    run_ids: Annotated[list[str], typer.Argument(help="Two or more run ids.")],
    json: JsonFlag = False,
) -> None:
    """Params side by side (differences marked) and a metrics table."""
    if len(run_ids) < 2:
        raise InvalidArgument(f"compare needs at least two run ids, got {len(run_ids)}.")
    with open_client(ctx) as client:
        runs = [client.tracker.get_run(run_id) for run_id in run_ids]
    param_keys = sorted({key for run in runs for key in run.params})
    metric_keys = sorted({key for run in runs for key in run.metrics})
    differing = [k for k in param_keys if len({run.params.get(k) for run in runs}) > 1]
    if json:
        print_json({"runs": [run_dict(r) for r in runs], "differing_params": differing})
        return
    headers = [run.info.name or run.info.id[:12] for run in runs]
    params = Table("param", *headers, title="params (* differs)", title_justify="left")
    for key in param_keys:
        mark = "* " if key in differing else "  "
        params.add_row(mark + key, *[run.params.get(key, "-") for run in runs])
    metrics = Table("metric", *headers, title="metrics (latest)", title_justify="left")
    for key in metric_keys:
        values = [run.metrics.get(key) for run in runs]
        metrics.add_row(key, *[_number(m.value) if m else "-" for m in values])
    out = console()
    out.print(params)
    out.print(metrics)


def _set_stage(ctx: typer.Context, run_ids: list[str], stage: LifecycleStage) -> None:
    with open_client(ctx) as client:
        for run_id in run_ids:
            client.tracker.runs.set_run_stage(run_id, stage.value)
    verb = "Deleted" if stage is LifecycleStage.DELETED else "Restored"
    console().print(f"{verb} {len(run_ids)} run(s).")


@app.command("delete")
def delete(ctx: typer.Context, run_ids: list[str]) -> None:
    """Soft-delete runs (restore brings them back)."""
    _set_stage(ctx, run_ids, LifecycleStage.DELETED)


@app.command("restore")
def restore(ctx: typer.Context, run_ids: list[str]) -> None:
    """Restore deleted runs."""
    _set_stage(ctx, run_ids, LifecycleStage.ACTIVE)

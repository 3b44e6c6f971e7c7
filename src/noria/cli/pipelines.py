"""``noria pipelines run|runs|show|lint|cache clear``."""

from __future__ import annotations

import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from noria.backends.schemes import executor_for
from noria.cli.context import open_client, options
from noria.cli.render import JsonFlag, console, error_console, print_json
from noria.domain.entities import EntityKind, EntityRef
from noria.domain.pipelines import PipelineRun, PipelineStatus, StepRun
from noria.errors import InvalidArgument
from noria.pipelines.dag_view import layout
from noria.pipelines.loading import load_pipeline
from noria.pipelines.results import PipelineFailed

app = typer.Typer(
    help="Pipelines: run them, list and inspect their runs, lint them, clear the cache.",
    no_args_is_help=True,
)
cache_app = typer.Typer(help="The step cache.", no_args_is_help=True)
app.add_typer(cache_app, name="cache")

ReferenceArg = Annotated[
    str, typer.Argument(help="The pipeline: module:name or path/to/file.py:name.")
]
ParamOpt = Annotated[
    list[str] | None,
    typer.Option("--param", "-p", help="NAME=VALUE, parsed to the parameter's type; repeatable."),
]
ConfigOpt = Annotated[
    Path | None, typer.Option("--config", "-c", help="A YAML file with a params: mapping.")
]
ExecutorOpt = Annotated[
    str,
    typer.Option(
        "--executor",
        "-x",
        help="local (threads), local:processes, or ray (ray:HOST:PORT, ray://HOST:PORT).",
    ),
]

_STYLES = {
    "succeeded": "green",
    "cached": "cyan",
    "failed": "red",
    "skipped": "yellow",
    "running": "blue",
    "pending": "dim",
}


def _when(ms: int | None) -> str:
    if ms is None:
        return "-"
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S")


def _duration(start: int | None, end: int | None) -> str:
    if start is None or end is None:
        return "-"
    return f"{(end - start) / 1000:.2f} s"


def run_dict(run: PipelineRun) -> dict[str, Any]:
    return {
        "id": run.id,
        "uri": run.uri,
        "pipeline": run.pipeline,
        "status": run.status.value,
        "params": dict(run.params),
        "executor": run.executor,
        "created_by": run.created_by,
        "started_at": run.started_at,
        "ended_at": run.ended_at,
        "tracking_run_id": run.tracking_run_id,
        "error": run.error,
    }


def step_dict(step: StepRun) -> dict[str, Any]:
    def refs(items: tuple[Any, ...]) -> list[dict[str, Any]]:
        return [
            {"name": r.name, "digest": r.digest, "serializer": r.serializer, "size": r.size}
            for r in items
        ]

    return {
        "id": step.id,
        "name": step.name,
        "step": step.step_ref,
        "status": step.status.value,
        "upstream": list(step.upstream),
        "cache_key": step.cache_key,
        "cache_hit": step.cache_hit,
        "cached_from": step.cached_from,
        "attempts": step.attempts,
        "started_at": step.started_at,
        "ended_at": step.ended_at,
        "inputs": refs(step.inputs),
        "outputs": refs(step.outputs),
        "logs_digest": step.logs_digest,
        "tracking_run_id": step.tracking_run_id,
        "error": step.error,
    }


def _dag(run: PipelineRun, steps: list[StepRun]) -> None:
    out = console()
    style = {"SUCCEEDED": "green", "FAILED": "red", "RUNNING": "blue"}[run.status.value]
    header = Text(f"{run.pipeline}  ")
    header.append(run.status.value, style=f"bold {style}")
    header.append(f"  run {run.id}  {_duration(run.started_at, run.ended_at)}  ({run.executor})")
    out.print(header)
    lines = layout(steps)
    width = max((len(line.prefix) + len(line.step.name) for line in lines), default=0)
    for line in lines:
        row = Text(line.prefix, style="dim")
        row.append(line.step.name.ljust(width - len(line.prefix) + 2))
        row.append(line.label.ljust(10), style=_STYLES.get(line.label, ""))
        row.append(_duration(line.step.started_at, line.step.ended_at).rjust(9))
        if line.step.attempts > 1:
            row.append(f"  {line.step.attempts} attempts")
        if line.also_after:
            row.append(f"  (also after {', '.join(line.also_after)})", style="dim")
        if line.step.error and line.label in ("failed", "skipped", "running"):
            row.append(f"  {line.step.error.splitlines()[0]}", style=_STYLES.get(line.label, ""))
        out.print(row)


@contextmanager
def _warnings_as_lines() -> Iterator[None]:
    """Python's warnings take three lines with a source excerpt: one line each here."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    for warning in caught:
        error_console().print(f"Warning: {warning.message}", markup=False)


@app.command("run")
def run_pipeline(
    ctx: typer.Context,
    reference: ReferenceArg,
    param: ParamOpt = None,
    config: ConfigOpt = None,
    executor: ExecutorOpt = "local",
    max_workers: Annotated[
        int | None, typer.Option(help="Steps at once (default: a few per CPU).")
    ] = None,
    experiment: Annotated[
        str | None, typer.Option(help="Tracking experiment (default: the pipeline's name).")
    ] = None,
    json: JsonFlag = False,
) -> None:
    """Check, then run a pipeline; steps whose inputs are unchanged come from the cache."""
    from noria.client import set_default_client

    pipeline = load_pipeline(reference)
    settings = options(ctx).settings()
    chosen = executor_for(executor, settings, max_workers=max_workers)
    with open_client(ctx) as client:
        previous = set_default_client(client)  # what steps calling noria.* use
        try:
            with _warnings_as_lines():
                result = pipeline.run(
                    cli_params=param or (),
                    config=config,
                    executor=chosen,
                    client=client,
                    experiment=experiment,
                    raise_on_failure=False,
                )
        finally:
            set_default_client(previous)
            chosen.close()
    steps = list(result.steps.values())
    if json:
        print_json({**run_dict(result.run), "steps": [step_dict(step) for step in steps]})
    else:
        _dag(result.run, steps)
    if not result.succeeded:
        sys.stdout.flush()  # the DAG before the error line, on a shared terminal
        raise PipelineFailed(result)


@app.command("runs")
def list_runs(
    ctx: typer.Context,
    pipeline: Annotated[str | None, typer.Option(help="Only this pipeline's runs.")] = None,
    status: Annotated[
        PipelineStatus | None, typer.Option(case_sensitive=False, help="Only runs with it.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 20,
    json: JsonFlag = False,
) -> None:
    """Pipeline runs, newest first."""
    with open_client(ctx) as client:
        page = client.metadata.pipelines.list_runs(pipeline=pipeline, status=status, limit=limit)
    if json:
        print_json({"runs": [run_dict(run) for run in page.items]})
        return
    table = Table()
    table.add_column("id", overflow="fold", min_width=32)
    for column in ("pipeline", "status", "started (UTC)", "duration", "executor"):
        table.add_column(column, no_wrap=column != "pipeline")
    for run in page.items:
        table.add_row(
            run.id,
            run.pipeline,
            run.status.value,
            _when(run.started_at),
            _duration(run.started_at, run.ended_at),
            run.executor,
        )
    console().print(table)


@app.command("show")
def show_run(
    ctx: typer.Context,
    run_id: Annotated[str, typer.Argument(help="The pipeline run id.")],
    json: JsonFlag = False,
) -> None:
    """A run's DAG, with each step's status, duration and error."""
    with open_client(ctx) as client:
        run = client.metadata.pipelines.get_run(run_id)
        steps = client.metadata.pipelines.list_steps(run_id)
    if json:
        print_json({**run_dict(run), "steps": [step_dict(step) for step in steps]})
    else:
        _dag(run, steps)


@app.command("lint")
def lint_pipeline(
    ctx: typer.Context,
    reference: ReferenceArg,
    param: ParamOpt = None,
    config: ConfigOpt = None,
    executor: ExecutorOpt = "local",
    json: JsonFlag = False,
) -> None:
    """Check a pipeline without running it: parameters, calls, types, cycles, outputs."""
    pipeline = load_pipeline(reference)
    chosen = executor_for(executor, options(ctx).settings())  # an unknown name fails here
    try:
        problems = pipeline.lint(cli_params=param or (), config=config, executor=chosen)
    finally:
        chosen.close()
    if json:
        print_json(
            {
                "pipeline": pipeline.name,
                "problems": [
                    {"file": p.location.file, "line": p.location.line, "message": p.message}
                    for p in problems
                ],
            }
        )
    else:
        for problem in problems:
            console().print(str(problem), markup=False)
        if not problems:
            console().print(f"{pipeline.name}: no problems found.")
    if problems:
        raise typer.Exit(1)


@cache_app.command("clear")
def clear_cache(
    ctx: typer.Context,
    step: Annotated[str | None, typer.Option(help="Only this step's results.")] = None,
    pipeline: Annotated[str | None, typer.Option(help="Only this pipeline's results.")] = None,
    json: JsonFlag = False,
) -> None:
    """Forget cached step results, so that the next runs execute those steps again."""
    if step == "" or pipeline == "":
        raise InvalidArgument("--step and --pipeline need a name.")
    with open_client(ctx) as client:
        cleared = client.metadata.pipelines.clear_cache(pipeline=pipeline, step=step)
        entity = (
            EntityRef(EntityKind.PIPELINE, pipeline)
            if pipeline
            else EntityRef(EntityKind.STORE, "metadata")
        )
        client.audit.record(
            "pipeline.cache_cleared",
            entity,
            after={"cleared": cleared, "pipeline": pipeline, "step": step},
        )
    if json:
        print_json({"cleared": cleared})
    else:
        console().print(f"Cleared {cleared} cached step result{'s' if cleared != 1 else ''}.")

"""``noria schedule add|list|show|remove|pause|resume``: what starts pipelines by itself."""

from __future__ import annotations

from typing import Annotated

import typer

from noria.backends.schemes import executor_for
from noria.cli.context import open_client, options
from noria.cli.render import JsonFlag, console, print_json
from noria.cli.schedule_render import firing_dict, print_schedule, print_schedules, schedule_dict
from noria.domain.schedules import Schedule, TriggerKind
from noria.errors import InvalidArgument
from noria.pipelines.loading import load_pipeline
from noria.pipelines.triggered_runs import schedule_problems
from noria.triggers.cron import check_cron
from noria.triggers.schedules import default_name

app = typer.Typer(
    help="Schedules: start pipelines on a cron, a new dataset version or an event.",
    no_args_is_help=True,
)

NameArg = Annotated[str, typer.Argument(help="The schedule's name.")]


def _params(items: list[str] | None) -> dict[str, str]:
    found = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise InvalidArgument(f"--param {item!r}: write NAME=VALUE, e.g. --param lr=0.1.")
        found[name.strip()] = value
    return found


def _trigger(cron: str | None, dataset: str | None, event: str | None) -> TriggerKind:
    given = [
        (kind, flag)
        for kind, flag, value in (
            (TriggerKind.CRON, "--cron", cron),
            (TriggerKind.DATASET, "--on-dataset", dataset),
            (TriggerKind.EVENT, "--on-event", event),
        )
        if value is not None
    ]
    if len(given) != 1:
        shown = ", ".join(flag for _, flag in given) or "none"
        raise InvalidArgument(
            "Give exactly one trigger: --cron '0 3 * * *', --on-dataset NAME or --on-event NAME "
            f"(got {shown})."
        )
    return given[0][0]


def _check_pipeline(ctx: typer.Context, draft: Schedule) -> None:
    """Import the pipeline and lint it with the schedule's parameters, before storing."""
    executor_for(draft.executor, options(ctx).settings()).close()  # an unknown one fails here
    pipeline = load_pipeline(draft.pipeline)
    problems = schedule_problems(pipeline, draft)
    if problems:
        more = (
            f" (and {len(problems) - 1} more: see `noria pipelines lint`)"
            if len(problems) > 1
            else ""
        )
        raise InvalidArgument(
            f"Cannot schedule {draft.pipeline}: {problems[0]}{more}. Fix it, or pass the "
            "parameter with --param NAME=VALUE."
        )


@app.command("add")
def add(
    ctx: typer.Context,
    pipeline: Annotated[str, typer.Argument(help="module:pipeline or path/to/file.py:pipeline.")],
    cron: Annotated[
        str | None, typer.Option(help="A cron expression in UTC, e.g. '0 3 * * *'.")
    ] = None,
    on_dataset: Annotated[
        str | None, typer.Option(help="Fire on each new version of this dataset.")
    ] = None,
    on_event: Annotated[
        str | None, typer.Option(help="Fire on each event of this name (noria events raise).")
    ] = None,
    param: Annotated[
        list[str] | None,
        typer.Option(
            "--param", "-p", help="NAME=VALUE, parsed to the parameter's type; repeatable."
        ),
    ] = None,
    cooldown: Annotated[
        str, typer.Option(help="Fire at most once per this long: 30s, 10m, 1h, 1d.")
    ] = "0s",
    name: Annotated[str | None, typer.Option(help="Default: <pipeline>-<trigger kind>.")] = None,
    executor: Annotated[str, typer.Option("--executor", "-x", help="Where the runs go.")] = "local",
    json: JsonFlag = False,
) -> None:
    """Start a pipeline on a cron expression, a new dataset version, or a raised event."""
    kind = _trigger(cron, on_dataset, on_event)
    if cron is not None:
        cron = check_cron(cron)
    params = _params(param)
    draft = Schedule(
        name=name or default_name(pipeline, kind),
        pipeline=pipeline,
        kind=kind,
        cron=cron,
        dataset=on_dataset,
        event=on_event,
        params=params,
        executor=executor,
    )
    _check_pipeline(ctx, draft)
    with open_client(ctx) as client:
        schedule = client.schedules.add(
            pipeline,
            cron=cron,
            dataset=on_dataset,
            event=on_event,
            params=params,
            cooldown=cooldown,
            name=draft.name,
            executor=executor,
        )
        next_ms = client.schedules.next_time(schedule)
    if json:
        print_json(schedule_dict(schedule, next_ms))
        return
    when = f"; next at {schedule_dict(schedule, next_ms)['next']} UTC" if next_ms else ""
    console().print(
        f"Added schedule {schedule.name}: {schedule.pipeline} on {schedule.trigger}{when}. "
        "`noria scheduler` fires it.",
        markup=False,
    )


@app.command("list")
def list_schedules(
    ctx: typer.Context,
    kind: Annotated[
        TriggerKind | None, typer.Option(case_sensitive=False, help="Only this kind.")
    ] = None,
    json: JsonFlag = False,
) -> None:
    """Schedules by name, with their trigger, state and last firing."""
    with open_client(ctx) as client:
        schedules = client.schedules.list(kind=kind, limit=1000).items
        shown = [(s, client.schedules.next_time(s)) for s in schedules]
    if json:
        print_json({"schedules": [schedule_dict(s, next_ms) for s, next_ms in shown]})
    else:
        print_schedules(shown)


@app.command("show")
def show(
    ctx: typer.Context,
    name: NameArg,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="Firings to show.")] = 10,
    json: JsonFlag = False,
) -> None:
    """A schedule, and its latest firings with the pipeline runs they started."""
    with open_client(ctx) as client:
        schedule = client.schedules.get(name)
        firings = client.schedules.firings(name, limit=limit).items
        next_ms = client.schedules.next_time(schedule)
    if json:
        body = schedule_dict(schedule, next_ms)
        print_json({**body, "firings": [firing_dict(f) for f in firings]})
    else:
        print_schedule(schedule, next_ms, firings)


@app.command("remove")
def remove(ctx: typer.Context, name: NameArg, json: JsonFlag = False) -> None:
    """Delete a schedule and its firing records (the runs it started stay)."""
    with open_client(ctx) as client:
        removed = client.schedules.remove(name)
    if json:
        print_json(schedule_dict(removed, None))
    else:
        console().print(f"Removed schedule {removed.name}.", markup=False)


@app.command("pause")
def pause(ctx: typer.Context, name: NameArg, json: JsonFlag = False) -> None:
    """Stop firing until resumed."""
    with open_client(ctx) as client:
        paused = client.schedules.pause(name)
    if json:
        print_json(schedule_dict(paused, None))
    else:
        console().print(f"Paused schedule {paused.name}.", markup=False)


@app.command("resume")
def resume(ctx: typer.Context, name: NameArg, json: JsonFlag = False) -> None:
    """Fire again, from now on: what happened while paused does not fire."""
    with open_client(ctx) as client:
        resumed = client.schedules.resume(name)
        next_ms = client.schedules.next_time(resumed)
    if json:
        print_json(schedule_dict(resumed, next_ms))
    else:
        console().print(f"Resumed schedule {resumed.name}.", markup=False)

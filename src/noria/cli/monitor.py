"""``noria monitor …``: monitors of deployments, their windows and alerts."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from noria.cli.context import open_client
from noria.cli.monitor_render import (
    alert_dict,
    monitor_dict,
    print_alerts,
    print_monitor,
    print_monitors,
    print_run,
    print_windows,
    result_dict,
    run_dict,
)
from noria.cli.render import JsonFlag, console, print_json
from noria.domain.monitors import Task
from noria.errors import InvalidArgument, NotFound

if TYPE_CHECKING:
    from noria.client import Client

app = typer.Typer(
    help="Monitors: drift, data quality, latency and performance of a deployment, and alerts.",
    no_args_is_help=True,
)

NameArg = Annotated[str, typer.Argument(help="The monitor's name.")]


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidArgument(f"Cannot read {path}: {exc.strerror}.") from None


def _features(text: str | None) -> list[str] | None:
    if text is None:
        return None
    return [name.strip() for name in text.split(",") if name.strip()]


def _task(text: str | None) -> Task | None:
    tasks: dict[str, Task] = {"classification": "classification", "regression": "regression"}
    if text is None:
        return None
    if text not in tasks:
        raise InvalidArgument(f"--task {text!r}: use classification or regression.")
    return tasks[text]


@app.command("create")
def create(
    ctx: typer.Context,
    deployment: Annotated[str | None, typer.Argument(help="The deployment to watch.")] = None,
    reference: Annotated[
        str | None, typer.Option(help="The training data: datasets:/<name>/<version>.")
    ] = None,
    window: Annotated[str, typer.Option(help="Window length: 15m, 1h, 1d, …")] = "1h",
    name: Annotated[str | None, typer.Option(help="Default: the deployment's name.")] = None,
    features: Annotated[
        str | None, typer.Option(help="Comma-separated inputs (default: the model's).")
    ] = None,
    label_column: Annotated[str | None, typer.Option(help="The reference's label column.")] = None,
    task: Annotated[
        str | None, typer.Option(help="classification or regression (default: inferred).")
    ] = None,
    rule: Annotated[
        list[str] | None,
        typer.Option(help='e.g. "drift.share_drifted > 0.3 for 2 severity=critical" (repeat).'),
    ] = None,
    delay: Annotated[str, typer.Option(help="Wait this long after a window closes.")] = "2m",
    label_horizon: Annotated[
        str, typer.Option(help="Re-evaluate windows this old when late labels arrive.")
    ] = "7d",
    start: Annotated[
        str | None, typer.Option(help="The first window, ISO 8601 (default: now).")
    ] = None,
    description: Annotated[str, typer.Option(help="What the monitor is for.")] = "",
    file: Annotated[
        Path | None, typer.Option("--file", "-f", help="A monitor YAML instead of options.")
    ] = None,
    replace: Annotated[
        bool,
        typer.Option(
            "--replace",
            help=(
                "Give a monitor of that name this definition, keeping its results and alerts "
                "(same deployment and window); create it if there is none."
            ),
        ),
    ] = False,
    json: JsonFlag = False,
) -> None:
    """Create a monitor from options (DEPLOYMENT --reference …) or from --file monitor.yaml;
    --replace redefines an existing one."""
    existed = False
    with open_client(ctx) as client:
        if replace:
            existed = _exists(client, name or deployment, file)
        if file is not None:
            if deployment or reference or features or label_column or task or rule or name:
                raise InvalidArgument(
                    "Give either --file or DEPLOYMENT with --reference …, not both."
                )
            created = client.monitors.create_from_yaml(
                _read(file), source=str(file), replace=replace
            )
        else:
            if deployment is None or reference is None:
                raise InvalidArgument(
                    "Give DEPLOYMENT and --reference datasets:/<name>/<version>, or --file "
                    "monitor.yaml."
                )
            created = client.monitors.create(
                deployment, reference=reference, window=window, name=name,
                features=_features(features), label_column=label_column, task=_task(task),
                rules=rule or [], delay=delay, label_horizon=label_horizon, start=start,
                description=description, replace=replace,
            )  # fmt: skip
    if json:
        print_json(monitor_dict(created))
        return
    done = "Replaced the definition of" if existed else "Created"
    console().print(f"{done} monitor {created.name!r}.", markup=False)
    print_monitor(created)


def _exists(client: Client, name: str | None, file: Path | None) -> bool:
    """Whether the monitor a create names is there already (for the message only)."""
    if file is not None:
        from noria.monitoring.spec_yaml import parse_monitor

        spec = parse_monitor(_read(file), source=str(file))
        name = spec.name or spec.deployment
    if name is None:
        return False
    try:
        client.monitors.get(name)
    except NotFound:
        return False
    return True


@app.command("list")
def list_monitors(
    ctx: typer.Context,
    deployment: Annotated[str | None, typer.Option(help="Only those watching it.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 100,
    json: JsonFlag = False,
) -> None:
    """Monitors by name."""
    with open_client(ctx) as client:
        found = client.monitors.list_monitors(deployment=deployment, limit=limit).items
    if json:
        print_json({"monitors": [monitor_dict(monitor) for monitor in found]})
        return
    print_monitors(found)


@app.command("show")
def show(
    ctx: typer.Context,
    name: NameArg,
    windows: Annotated[int, typer.Option(min=1, max=1000, help="Latest windows shown.")] = 24,
    json: JsonFlag = False,
) -> None:
    """A monitor, its latest windows (drift, performance, coverage, latency) and alerts."""
    with open_client(ctx) as client:
        monitor = client.monitors.get(name)
        results = client.monitors.results(name, limit=windows).items
        alerts = client.monitors.alerts(name, limit=windows).items
    if json:
        print_json(
            {
                **monitor_dict(monitor),
                "results": [result_dict(result) for result in results],
                "alerts": [alert_dict(alert) for alert in alerts],
            }
        )
        return
    print_monitor(monitor)
    print_windows(results)
    print_alerts(alerts)


@app.command("run")
def run(
    ctx: typer.Context,
    name: NameArg,
    now: Annotated[
        str | None, typer.Option(help="Evaluate as if it were this time (ISO 8601).")
    ] = None,
    json: JsonFlag = False,
) -> None:
    """Evaluate the due windows once (and windows with late labels); print fired alerts.

    Exits 0 whether or not alerts fired: an alert is an outcome, not an error.
    """
    with open_client(ctx) as client:
        done = client.monitors.run(name, now=now)
    if json:
        print_json(run_dict(done))
        return
    print_run(done)


@app.command("delete")
def delete(ctx: typer.Context, name: NameArg, json: JsonFlag = False) -> None:
    """Delete a monitor with its results and alerts."""
    with open_client(ctx) as client:
        deleted = client.monitors.delete(name)
    if json:
        print_json({"deleted": deleted.name})
        return
    console().print(f"Deleted monitor {deleted.name!r}.", markup=False)

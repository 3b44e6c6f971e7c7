"""``noria scheduler``: the long-running process that fires schedules, runs monitors and
judges challengers."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated

import typer

from noria.cli.context import open_client
from noria.cli.render import JsonFlag, console, print_json
from noria.cli.schedule_render import firing_dict, print_firings
from noria.domain.schedules import FiringStatus
from noria.pipelines.scheduling import Scheduler


def _log_to_stderr() -> None:
    """One timestamped line per firing, finished run and problem."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    for name in ("noria.scheduler", "noria.monitoring"):
        log = logging.getLogger(name)
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False


def run_scheduler(
    ctx: typer.Context,
    interval: Annotated[
        float, typer.Option(min=0.1, help="Seconds between passes over the schedules.")
    ] = 5.0,
    once: Annotated[
        bool, typer.Option("--once", help="One pass; wait for the runs it starts, then exit.")
    ] = False,
    root: Annotated[
        Path | None,
        typer.Option(help="Only run pipelines whose code is in this folder (default: here)."),
    ] = None,
    json: JsonFlag = False,
) -> None:
    """Fire cron schedules, dataset triggers and event triggers; run due monitors.

    Several schedulers may watch one store: each occurrence fires once. Only the
    pipelines in --root (this folder) run. Ctrl-C or SIGTERM stops after the
    running pipelines end; a second Ctrl-C stops at once.
    """
    from noria.client import set_default_client

    if not json:
        _log_to_stderr()
    with open_client(ctx) as client:
        previous = set_default_client(client)  # what steps calling noria.* use
        try:
            scheduler = Scheduler(client, root=root or Path.cwd())
            if not once:
                console().print(
                    f"Scheduler {scheduler.name} on {client.metadata.uri}, every {interval:g} s "
                    "(Ctrl-C to stop).",
                    markup=False,
                )
                scheduler.run_forever(interval)
                return
            report = scheduler.tick()
            scheduler.wait()
        finally:
            set_default_client(previous)
    failed = [f for f in scheduler.finished if f.status is not FiringStatus.SUCCEEDED]
    if json:
        print_json(
            {
                "scheduler": scheduler.name,
                "fired": [firing_dict(f) for f in scheduler.finished],
                "monitor_runs": report.monitor_runs,
                "promotions": report.promotions,
                "errors": list(report.errors),
            }
        )
    elif scheduler.finished:
        print_firings(scheduler.finished)
    else:
        console().print("Nothing was due.")
    if failed or report.errors:
        raise typer.Exit(1)

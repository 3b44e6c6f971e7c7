"""The root ``noria`` command, global options, and the one error → exit-code mapping."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import click
import typer

from noria import __version__
from noria.cli import (
    audit,
    ci,
    data,
    deploy,
    events,
    experiments,
    lineage,
    models,
    monitor,
    pipelines,
    predict,
    quickstart,
    runs,
    schedule,
    scheduler,
    serve,
    server,
    store,
)
from noria.cli.context import GlobalOptions
from noria.cli.render import error_console
from noria.errors import NoriaError

app = typer.Typer(
    name="noria",
    help="Noria: the whole machine-learning lifecycle on one platform.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"noria {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    ctx: typer.Context,
    home: Annotated[
        Path | None, typer.Option(help="Folder holding noria.db and artifacts/ [NORIA_HOME].")
    ] = None,
    store_uri: Annotated[
        str | None, typer.Option(help="Metadata store URI [NORIA_STORE_URI].")
    ] = None,
    artifact_uri: Annotated[
        str | None, typer.Option(help="Artifact store URI or path [NORIA_ARTIFACT_URI].")
    ] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_show_version, is_eager=True, help="Print version."),
    ] = False,
) -> None:
    ctx.obj = GlobalOptions(home=home, store_uri=store_uri, artifact_uri=artifact_uri, debug=debug)


store.register(app)
app.add_typer(store.db_app, name="db")
app.add_typer(experiments.app, name="experiments")
app.add_typer(runs.app, name="runs")
app.add_typer(data.app, name="data")
app.add_typer(models.app, name="models")
app.add_typer(deploy.app, name="deploy")
app.add_typer(pipelines.app, name="pipelines")
app.add_typer(monitor.app, name="monitor")
app.add_typer(schedule.app, name="schedule")
app.add_typer(events.app, name="events")
app.command("scheduler")(scheduler.run_scheduler)
app.command("ci")(ci.run_ci)
app.command("server")(server.serve)
app.command("serve")(serve.serve_models)
app.command("lineage")(lineage.show_lineage)
app.command("audit")(audit.show_audit)
app.command("predict")(predict.predict)
app.command("quickstart")(quickstart.quickstart)


def run(argv: list[str] | None = None) -> None:
    """Console-script entry point: user errors become one line and exit code 1."""
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args
    try:
        # Without standalone mode, click returns a command's `typer.Exit(code)` code.
        code = app(args=args, prog_name="noria", standalone_mode=False)
    except NoriaError as exc:
        if debug:
            raise
        error_console().print(f"Error: {exc.message}", markup=False)
        sys.exit(1)
    except (typer.Exit, click.exceptions.Exit) as exc:
        sys.exit(exc.exit_code)
    except (typer.Abort, click.exceptions.Abort):
        error_console().print("Aborted.")
        sys.exit(130)
    except (typer.TyperException, click.ClickException) as exc:
        # Usage errors: recent typer vendors its own click, older ones use click itself.
        show = getattr(exc, "show", None)
        if show is None:
            raise
        show()
        sys.exit(getattr(exc, "exit_code", 2))
    if isinstance(code, int) and code:
        sys.exit(code)


if __name__ == "__main__":
    run()

"""``noria init``, ``noria info`` and ``noria db upgrade``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import typer

from noria import __version__
from noria.cli.context import open_client, options
from noria.cli.render import JsonFlag, console, print_json
from noria.domain.schema import SchemaState, SchemaStatus

db_app = typer.Typer(help="Metadata database maintenance.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.command("init")(init)
    app.command("info")(info)


def init(ctx: typer.Context, json: JsonFlag = False) -> None:
    """Create the metadata store (or check an existing one) and report where it is."""
    with open_client(ctx, initialize=False) as client:
        created = client.metadata.schema_state().status is SchemaStatus.EMPTY
        state = client.initialize()
        result = {
            "created": created,
            "store_uri": client.metadata.uri,
            "artifact_uri": client.blobs.uri,
            "schema_revision": state.revision,
        }
    if json:
        print_json(result)
        return
    verb = "Created" if created else "Found"
    console().print(
        f"{verb} Noria store at {result['store_uri']} (schema {state.revision}); "
        f"artifacts in {result['artifact_uri']}.",
        markup=False,
    )


def _schema_line(state: SchemaState) -> str:
    notes = {
        SchemaStatus.CURRENT: "current",
        SchemaStatus.EMPTY: "not created yet: run `noria init`",
        SchemaStatus.OUTDATED: f"outdated, code expects {state.head}: run `noria db upgrade`",
        SchemaStatus.TOO_NEW: f"written by a newer Noria (this one knows up to {state.head})",
    }
    return f"{state.revision or '-'} ({notes[state.status]})"


def info(ctx: typer.Context, json: JsonFlag = False) -> None:
    """Show settings, store URIs, schema version and counts."""
    settings = options(ctx).settings()
    config_file = Path(os.environ.get("NORIA_CONFIG", "noria.toml"))
    with open_client(ctx, initialize=False) as client:
        state = client.metadata.schema_state()
        counts: dict[str, int] = {}
        if state.status is SchemaStatus.CURRENT:
            counts = {
                "lineage_edges": client.metadata.lineage.count(),
                "audit_events": client.metadata.audit.count(),
            }
        result: dict[str, Any] = {
            "noria_version": __version__,
            "home": str(settings.home.expanduser().absolute()),
            "store_uri": client.metadata.uri,
            "artifact_uri": client.blobs.uri,
            "user": settings.user,
            "config_file": str(config_file) if config_file.is_file() else None,
            "schema": {"revision": state.revision, "head": state.head, "status": state.status},
            "counts": counts,
        }
    if json:
        print_json(result)
        return
    rows = [
        ("noria", __version__),
        ("home", result["home"]),
        ("metadata store", result["store_uri"]),
        ("artifact store", result["artifact_uri"]),
        ("user", result["user"]),
        ("config file", result["config_file"] or f"{config_file} (absent)"),
        ("schema", _schema_line(state)),
        *[(name.replace("_", " "), str(value)) for name, value in counts.items()],
    ]
    out = console()
    for name, value in rows:
        out.print(f"{name:<16}{value}", markup=False)


@db_app.command("upgrade")
def upgrade(ctx: typer.Context, json: JsonFlag = False) -> None:
    """Migrate the metadata store to this Noria's schema (back it up first)."""
    with open_client(ctx, initialize=False) as client:
        before, after = client.upgrade()
    if json:
        print_json({"from_revision": before.revision, "to_revision": after.revision})
        return
    if before.revision == after.revision:
        console().print(f"Schema already at {after.revision}; nothing to do.", markup=False)
    else:
        console().print(f"Upgraded schema {before.revision or '-'} → {after.revision}.")

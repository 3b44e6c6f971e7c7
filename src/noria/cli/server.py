"""``noria server``: the platform API under uvicorn."""

from __future__ import annotations

from typing import Annotated

import typer

from noria.cli.context import options
from noria.cli.render import error_console
from noria.client import connect


def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Interface to bind; 0.0.0.0 exposes it.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="TCP port.")] = 5005,
    store_uri: Annotated[str | None, typer.Option(help="Metadata store URI.")] = None,
    artifact_uri: Annotated[str | None, typer.Option(help="Artifact store URI or path.")] = None,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
) -> None:
    """Serve the REST API (OpenAPI at /openapi.json, docs at /docs)."""
    import uvicorn

    from noria.server import create_app

    settings = options(ctx).settings(store_uri=store_uri, artifact_uri=artifact_uri)
    # Open the store once up front so a bad URI or old schema is one clear line,
    # not a traceback from inside uvicorn's lifespan.
    connect(settings).close()
    error_console().print(
        f"Noria server on http://{host}:{port} (store {settings.resolved_store_uri()})",
        markup=False,
    )
    uvicorn.run(create_app(settings), host=host, port=port, log_level=log_level)

"""``create_app(settings)``: the one place the server is wired together."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from noria import __version__
from noria.client import connect
from noria.errors import InvalidArgument
from noria.server.errors import install_error_handlers
from noria.server.mlflow import include_mlflow_routes
from noria.server.routers import (
    artifacts,
    audit,
    blobs,
    datasets,
    deployments,
    experiments,
    lineage,
    logged_models,
    models,
    monitors,
    pipelines,
    runs,
    schedules,
    system,
)
from noria.settings import Settings


def create_app(settings: Settings) -> FastAPI:
    """A FastAPI app serving the stores ``settings`` name; stores open at startup."""
    if settings.resolved_store_uri().startswith(("http://", "https://")):
        raise InvalidArgument(
            "A Noria server cannot use another server as its store: give it a sqlite:/// "
            "or postgresql+psycopg:// --store-uri."
        )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        client = connect(settings)
        app.state.client = client
        try:
            yield
        finally:
            client.close()

    app = FastAPI(
        title="Noria",
        version=__version__,
        summary=(
            "Noria platform API: tracking, datasets, artifacts, lineage, audit; MLflow-compatible."
        ),
        lifespan=lifespan,
    )
    app.state.settings = settings
    install_error_handlers(app)
    for module in (
        system,
        artifacts,
        blobs,
        lineage,
        audit,
        experiments,
        runs,
        datasets,
        models,
        logged_models,
        pipelines,
        deployments,
        monitors,
        schedules,
    ):
        app.include_router(module.router)
    include_mlflow_routes(app)
    return app

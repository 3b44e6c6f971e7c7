"""MLflow REST API compatibility: MLflow's Python client works against a Noria server.

``mlflow.set_tracking_uri("http://noria-host:5005")`` and the client's experiments,
runs, metrics, params, tags, datasets and proxied artifacts land in Noria's stores,
where Noria's SDK sees them (and the other way round).
"""

from __future__ import annotations

from fastapi import FastAPI

from noria.server.mlflow import artifacts, experiments, info, logged_models, registry, runs

PREFIXES = ("/api/2.0/mlflow", "/ajax-api/2.0/mlflow")


def include_mlflow_routes(app: FastAPI) -> None:
    """Serve MLflow's tracking endpoints under both of MLflow's prefixes (the UI uses
    ``ajax-api``; only ``api`` appears in the OpenAPI document)."""
    for prefix in PREFIXES:
        documented = prefix == PREFIXES[0]
        for module in (experiments, runs, logged_models, registry):
            app.include_router(module.router, prefix=prefix, include_in_schema=documented)
    app.include_router(artifacts.router)
    app.include_router(info.router)

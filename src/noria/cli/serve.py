"""``noria serve``: the model server under uvicorn (``noria server`` is the platform API).

It serves models by URI and deployments by name (``--deployment``), each under its name.
"""

from __future__ import annotations

import os
from typing import Annotated

import typer

from noria.cli.context import options
from noria.cli.render import error_console
from noria.cli.serve_logging import uvicorn_log_config
from noria.domain.deployments import DeploymentStatus, RouteRole
from noria.errors import InvalidArgument
from noria.settings import Settings


def serve_models(
    ctx: typer.Context,
    models: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="URI",
            help=(
                "Models to serve: runs:/<id>/<path>, models:/<name>/<version>, "
                "models:/<name>@<alias> or a model folder; name=URI to choose the name."
            ),
            show_default=False,
        ),
    ] = None,
    deployment: Annotated[
        list[str] | None,
        typer.Option(
            "--deployment",
            "-d",
            metavar="NAME",
            help=(
                "A deployment to serve under its name, routing requests to its primary, "
                "canaries and shadows (repeat for more)."
            ),
            show_default=False,
        ),
    ] = None,
    host: Annotated[str, typer.Option(help="Interface to bind; 0.0.0.0 exposes it.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="TCP port.")] = 8080,
    workers: Annotated[
        int, typer.Option(min=1, max=64, help="Worker processes, each loading every model.")
    ] = 1,
    max_batch_size: Annotated[
        int, typer.Option(min=1, help="Most rows one predict call takes (per model).")
    ] = 64,
    max_wait_ms: Annotated[
        float, typer.Option(min=0, help="Longest a request waits for others to batch with.")
    ] = 5.0,
    no_batching: Annotated[
        bool, typer.Option("--no-batching", help="Predict every request on its own.")
    ] = False,
    inline_max_ms: Annotated[
        float,
        typer.Option(
            min=0,
            max=1_000,
            help=(
                "Predict a lone request on the event loop (no thread hand-off) while the "
                "model's lone requests take at most this long; 0: never."
            ),
        ),
    ] = 2.0,
    proba: Annotated[
        bool,
        typer.Option(
            "--proba",
            help=(
                "Answer each row with its prediction and class probabilities "
                "({prediction, proba}), and log both (probability metrics in monitors)."
            ),
        ),
    ] = False,
    max_body_mb: Annotated[
        float, typer.Option(min=0.001, help="Largest request body accepted (413 above).")
    ] = 16.0,
    watch_interval: Annotated[
        float,
        typer.Option(
            min=0,
            help=(
                "Seconds between looks at the served aliases and deployments "
                "(0: never swap versions or re-read deployments)."
            ),
        ),
    ] = 2.0,
    no_prediction_log: Annotated[
        bool,
        typer.Option("--no-prediction-log", help="Log no answers and take no POST /v1/feedback."),
    ] = False,
    log_max_rows: Annotated[
        int, typer.Option(min=1, help="Prediction-log rows per Parquet segment, at most.")
    ] = 100_000,
    log_max_age_s: Annotated[
        float, typer.Option(min=0.001, help="Seconds before an open log segment is written.")
    ] = 60.0,
    log_queue: Annotated[
        int, typer.Option(min=1, help="Answers waiting for the log writer; past that, dropped.")
    ] = 10_000,
    access_log: Annotated[
        bool, typer.Option("--access-log", help="Log one line per HTTP request (uvicorn's).")
    ] = False,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
) -> None:
    """Serve models and deployments over HTTP: Noria's JSON, MLflow's /invocations and Open
    Inference (V2)."""
    import uvicorn

    from noria.serving.app import create_serving_app
    from noria.serving.config import BatchingConfig, PredictionLogConfig, serving_config
    from noria.serving.factory import FACTORY, launch_environment
    from noria.serving.loading import resolve_sources

    if not models and not deployment:
        raise InvalidArgument(
            "nothing to serve: give model URIs (noria serve models:/credit@champion) or "
            "deployments (noria serve --deployment credit-api), or both"
        )

    batching = BatchingConfig(
        enabled=not no_batching,
        max_batch_size=max_batch_size,
        max_wait_ms=max_wait_ms,
        inline_max_ms=inline_max_ms,
    )
    prediction_log = PredictionLogConfig(
        enabled=not no_prediction_log,
        max_rows=log_max_rows,
        max_age_s=log_max_age_s,
        queue_size=log_queue,
    )
    config = serving_config(
        models or [],
        batching=batching,
        max_body_bytes=int(max_body_mb * 2**20),
        deployments=deployment or [],
        watch_interval_s=watch_interval,
        prediction_log=prediction_log,
        proba=proba,
    )
    settings = options(ctx).settings()
    # Resolved once here: a bad URI is one clear line instead of a traceback in every worker,
    # and the workers find the model files already in the cache.
    for source in resolve_sources(config.models, settings):
        version = "" if source.version is None else f" (version {source.version})"
        watched = source.config.follows_alias and watch_interval > 0
        follows = f", follows the alias every {watch_interval:g} s" if watched else ""
        error_console().print(
            f"{source.config.served_name} ← {source.config.uri}{version}{follows}", markup=False
        )
    _show_deployments(deployment or [], settings, watch_interval)
    where = "off" if no_prediction_log else settings.resolved_artifact_uri() or settings.store_uri
    error_console().print(
        f"Noria model server on http://{host}:{port} ({workers} worker"
        f"{'s' if workers > 1 else ''}; prediction log: {where})",
        markup=False,
    )
    logging = uvicorn_log_config(debug=options(ctx).debug)
    if workers == 1:
        app = create_serving_app(config, settings=settings)
        uvicorn.run(
            app,
            host=host,
            port=port,
            log_level=log_level,
            access_log=access_log,
            log_config=logging,
        )
        return
    os.environ.update(launch_environment(config, settings))
    uvicorn.run(
        FACTORY,
        factory=True,
        workers=workers,
        host=host,
        port=port,
        log_level=log_level,
        access_log=access_log,
        log_config=logging,
    )


def _show_deployments(names: list[str], settings: Settings, watch_interval: float) -> None:
    """Check the deployments (one line for a missing one) and say what each route serves."""
    if not names:
        return
    from noria.serving.deployment_check import resolve_deployments

    follows = f", re-read every {watch_interval:g} s" if watch_interval > 0 else ""
    for deployment, versions in resolve_deployments(names, settings):
        routes = ", ".join(
            f"{route.role.value} {route.model_uri} (version {versions[route.model_uri]}"
            + (")" if route.role is RouteRole.SHADOW else f", {route.percent:g}%)")
            for route in deployment.routes
        )
        paused = " [paused]" if deployment.status is DeploymentStatus.PAUSED else ""
        error_console().print(
            f"{deployment.name} ← deployment: {routes}{paused}{follows}", markup=False
        )

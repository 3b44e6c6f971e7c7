"""``create_serving_app(config)``: the model server's one FastAPI app.

>>> config = ServingConfig(models=(ServedModelConfig(uri="models:/credit@champion"),))
>>> app = create_serving_app(config, settings=load_settings())
>>> uvicorn.run(app, port=8080)

In the app's lifespan, before uvicorn accepts a connection, the store is opened, the models
and every route of the deployments are resolved, loaded and warmed, the prediction and
feedback logs are set up and the aliases and deployments start being watched;
``/health/ready`` answers 200 from then on. At shutdown the watch stops, the shadows' copies
under way are answered, the batchers answer what is queued, then the logs are closed (their
records written).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AsyncExitStack, asynccontextmanager

from fastapi import FastAPI

from noria import __version__
from noria.client import Client, connect
from noria.domain.deployments import MAX_ROUTES
from noria.predictions.feedback import FeedbackLog
from noria.predictions.log import ParquetPredictionLog
from noria.predictions.records import PredictionSink
from noria.serving import routes_feedback, routes_info, routes_predict
from noria.serving.config import ServingConfig
from noria.serving.deployment_watch import DeploymentWatcher, Executors
from noria.serving.endpoints import publish, start_endpoint
from noria.serving.heap import freeze_long_lived
from noria.serving.hot_swap import AliasWatcher
from noria.serving.http_errors import install_error_handlers
from noria.serving.loading import load_served_model, needs_store, resolve_with
from noria.serving.metrics import ServingMetrics
from noria.serving.shadows import ShadowTraffic
from noria.serving.state import ServingState
from noria.settings import Settings


def create_serving_app(
    config: ServingConfig,
    *,
    settings: Settings | None = None,
    sink: PredictionSink | None = None,
    feedback: FeedbackLog | None = None,
) -> FastAPI:
    """A FastAPI app serving ``config.models``.

    ``settings`` name the stores that ``runs:/`` and ``models:/`` URIs are resolved in and the
    logs are written to (``NORIA_*`` and ``noria.toml`` when None). ``sink``, when given,
    receives one record per answer instead of the Parquet prediction log over that store, and
    ``feedback`` the labels of ``POST /v1/feedback``. The app closes both at shutdown.
    """
    state = ServingState(config=config, metrics=ServingMetrics(), sink=sink, feedback=feedback)
    if config.deployments:
        state.shadows = ShadowTraffic({d.name: d.shadow_queue for d in config.deployments})

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # One batch per model (and per deployment route) runs at a time; the extra threads
        # serve unbatched models. Shadows have threads of their own (noria.serving.shadows).
        routes = MAX_ROUTES * len(config.deployments)
        executor = ThreadPoolExecutor(
            max_workers=len(config.models) + routes + 4, thread_name_prefix="noria-predict"
        )
        shadow_executor = ThreadPoolExecutor(
            max_workers=routes + 1, thread_name_prefix="noria-shadow"
        )
        async with AsyncExitStack() as stack:
            stack.callback(executor.shutdown, wait=True)
            stack.callback(shadow_executor.shutdown, wait=True)
            client = await _open_client(config, settings, stack)
            _open_logs(state, client, stack)
            stack.push_async_callback(_close_batchers, state)
            await _open_models(state, client, executor)
            if client is not None and config.deployments:
                deployments = DeploymentWatcher(
                    state,
                    client,
                    executors=Executors(live=executor, shadow=shadow_executor),
                    interval_s=config.watch_interval_s,
                    warm_up=config.warm_up,
                )
                stack.push_async_callback(deployments.aclose)
                await deployments.open()
                deployments.start()
            if client is not None:
                watcher = AliasWatcher(
                    state,
                    client,
                    executor=executor,
                    interval_s=config.watch_interval_s,
                    warm_up=config.warm_up,
                )
                state.watched = watcher.watched
                watcher.start()
                stack.push_async_callback(watcher.aclose)
            freeze_long_lived()  # after loading: see noria.serving.heap
            state.ready = True
            try:
                yield
            finally:
                state.ready = False

    app = FastAPI(
        title="Noria model server",
        version=__version__,
        summary="Predictions over Noria's JSON, MLflow's /invocations and Open Inference (V2).",
        lifespan=lifespan,
    )
    app.state.serving = state
    install_error_handlers(app)
    app.include_router(routes_predict.router)
    app.include_router(routes_feedback.router)
    app.include_router(routes_info.router)
    return app


async def _open_client(
    config: ServingConfig, settings: Settings | None, stack: AsyncExitStack
) -> Client | None:
    """The store, when a model URI or the logs need one. A server of model folders only
    opens the artifact store for its logs, and leaves the metadata store untouched."""
    resolving = needs_store(config.models) or bool(config.deployments)
    if not resolving and not config.prediction_log.enabled:
        return None
    client = await asyncio.to_thread(connect, settings, initialize=resolving)
    stack.push_async_callback(asyncio.to_thread, client.close)
    return client


def _open_logs(state: ServingState, client: Client | None, stack: AsyncExitStack) -> None:
    """The Parquet prediction log (unless a sink was given) and the feedback log; both are
    closed, their queues written, after the batchers have answered everything."""
    options = state.config.prediction_log
    if client is not None and options.enabled:
        if state.sink is None:
            state.sink = ParquetPredictionLog(
                client.artifacts,
                max_rows=options.max_rows,
                max_age_s=options.max_age_s,
                queue_size=options.queue_size,
            )
        if state.feedback is None:
            state.feedback = FeedbackLog(client.artifacts, max_age_s=options.max_age_s)
    if isinstance(state.sink, ParquetPredictionLog):
        state.metrics.show_log(state.sink)
    if state.feedback is not None:
        stack.push_async_callback(asyncio.to_thread, state.feedback.close)
    if state.sink is not None:
        stack.push_async_callback(asyncio.to_thread, state.sink.close)


async def _open_models(
    state: ServingState, client: Client | None, executor: ThreadPoolExecutor
) -> None:
    config = state.config
    sources = await asyncio.to_thread(resolve_with, config.models, client)
    for source in sources:
        served = await asyncio.to_thread(load_served_model, source, warm_up=config.warm_up)
        publish(state, start_endpoint(state, served, executor))


async def _close_batchers(state: ServingState) -> None:
    """Answer the shadows' copies under way (they need the batchers), then what is queued."""
    state.ready = False
    if state.shadows is not None:
        await state.shadows.drain()
    for endpoint in state.endpoints.values():
        await endpoint.batcher.aclose()
    for view in state.deployments.values():
        for endpoint in view.endpoints().values():
            await endpoint.batcher.aclose()

"""Hot swap: the server follows the aliases it serves.

Every ``watch_interval_s`` seconds the registry is asked where each served alias
(``models:/credit@champion``) points now. When one has moved, the new version is fetched,
loaded and warmed on its input example in a worker thread, never on the event loop; then the
served name is switched to it between two requests (:func:`~noria.serving.endpoints.publish`).
Requests already under way finish on the version they started with, whose batcher closes once
they are answered. Moving the alias back (a rollback) is a swap like any other.

A version that cannot be loaded never interrupts serving: the old version stays, the failure
is logged, counted (``noria_serving_swap_failures_total``) and shown as ``last_swap_error``
by ``GET /v1/models``. The same version is tried again later (:mod:`noria.serving.retries`).
Deployments' routes are followed the same way by :mod:`noria.serving.deployment_watch`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures import Executor

from noria.client import Client
from noria.domain.registry import ModelVersion
from noria.errors import NoriaError
from noria.serving.config import ServedModelConfig
from noria.serving.endpoints import publish, start_endpoint
from noria.serving.loading import ServedModel, load_served_model, version_source
from noria.serving.retries import RetryBook
from noria.serving.state import ServingState, SwapError
from noria.serving.watching import Watch

logger = logging.getLogger("noria.serving")


class AliasWatcher:
    """Watches the aliases of ``state``'s models through ``client`` and swaps versions.

    Create it in the app's lifespan, :meth:`start` it once the models are served, and
    :meth:`aclose` it at shutdown."""

    def __init__(
        self,
        state: ServingState,
        client: Client,
        *,
        executor: Executor,
        interval_s: float,
        warm_up: bool = True,
    ) -> None:
        self._state = state
        self._client = client
        self._executor = executor
        self._warm_up = warm_up
        self._models = {
            model.served_name: model for model in state.config.models if model.follows_alias
        }
        self._retries: RetryBook[str] = RetryBook(interval_s)
        self._watch_errors: dict[str, str] = {}
        self._watch = Watch(self.check, interval_s, "watching the served aliases")

    @property
    def watched(self) -> frozenset[str]:
        """The served names whose alias is followed (none with a watch interval of 0)."""
        return frozenset(self._models) if self._watch.interval_s > 0 else frozenset()

    def start(self) -> None:
        if self._models:
            self._watch.start()

    async def aclose(self) -> None:
        """Stop watching; the versions being retired finish their requests first."""
        await self._watch.aclose()

    async def check(self) -> None:
        """Look at every watched alias once, and swap the models whose alias moved."""
        found = await asyncio.to_thread(self._resolve_all)
        for name, target in found.items():
            endpoint = self._state.endpoints.get(name)
            if endpoint is None:
                continue
            if target.version == endpoint.served.version:
                # Back where it was (say, a broken version rolled back): nothing is pending.
                self._retries.clear(name)
                self._state.swap_errors.pop(name, None)
            elif not self._retries.waiting(name, target.version):
                await self._swap(name, target)

    def _resolve_all(self) -> dict[str, ModelVersion]:
        """Where each alias points now (in a worker thread: the registry may be remote)."""
        found = {}
        for name, model in self._models.items():
            try:
                found[name] = self._client.registry.resolve(model.uri)
            except NoriaError as exc:
                self._watch_failed(name, model, exc.message)
                continue
            if self._watch_errors.pop(name, None) is not None:
                logger.info("model %r: %s resolves again", name, model.uri)
        return found

    def _watch_failed(self, name: str, model: ServedModelConfig, message: str) -> None:
        self._state.metrics.watch_errors.labels(name).inc()
        if self._watch_errors.get(name) != message:  # one line per new problem, not per look
            logger.warning(
                "model %r: cannot resolve %s (%s); it keeps serving its current version",
                name,
                model.uri,
                message,
            )
        self._watch_errors[name] = message

    async def _swap(self, name: str, target: ModelVersion) -> None:
        model = self._models[name]
        started = time.perf_counter()
        try:
            served = await asyncio.to_thread(self._load, model, target)
        except Exception as exc:  # noqa: BLE001 - any failure to load it: keep the old one
            self._swap_failed(name, target, exc)
            return
        new = start_endpoint(self._state, served, self._executor)
        previous = publish(self._state, new)
        self._retries.clear(name)
        self._state.swap_errors.pop(name, None)
        self._state.metrics.swaps.labels(name, str(target.version)).inc()
        old_version = None if previous is None else previous.served.version
        logger.info(
            "model %r now serves version %d (was %s; %s moved), loaded in %.2f s",
            name,
            target.version,
            old_version,
            model.uri,
            time.perf_counter() - started,
        )
        if previous is not None:
            self._watch.retire(previous)

    def _load(self, model: ServedModelConfig, target: ModelVersion) -> ServedModel:
        source = version_source(model, self._client, target)
        return load_served_model(source, warm_up=self._warm_up)

    def _swap_failed(self, name: str, target: ModelVersion, exc: Exception) -> None:
        message = exc.message if isinstance(exc, NoriaError) else f"{type(exc).__name__}: {exc}"
        pause = self._retries.failed(name, target.version)
        self._state.swap_errors[name] = SwapError(
            target.version, message, time.time_ns() // 1_000_000
        )
        self._state.metrics.swap_failures.labels(name, str(target.version)).inc()
        current = self._state.endpoints[name].served.version
        logger.error(
            "model %r: %s moved to version %d, which cannot be served (%s); version %s keeps "
            "serving, next try in %.1f s",
            name,
            self._models[name].uri,
            target.version,
            message,
            current,
            pause,
        )

"""Adaptive micro-batching: concurrent requests to one model merged into one ``predict`` call.

Rules (docs/serving.md has the long form):

- A batch holds at most ``max_batch_size`` rows, counting every row of multi-row requests.
  A request larger than that is split into chunks of ``max_batch_size`` rows that are queued
  one after another (and may share batches with other requests); its answer is joined back
  in order.
- One batch per model runs at a time, in a worker thread (lone requests aside, below), so the
  event loop keeps receiving requests. While it runs, the next batch fills up.
- A batch leaves the queue when it is **full** (the next request would not fit), when no
  other request for the model is still being received (**idle**: waiting gains nothing), or
  when its oldest request has waited ``max_wait_ms`` (**timeout**).
- Each caller gets exactly its own rows back. A batch whose ``predict`` fails fails only its
  own requests; the next batch runs as usual.
- A lone request (nothing else queued or arriving) for a model whose lone requests have been
  predicting in at most ``inline_max_ms`` is predicted on the event loop itself: handing it to
  a worker thread and back costs two thread wake-ups, on a busy machine about half as much as
  a fast model's prediction. Anything slower, and every batch of several requests, goes to
  the threads.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Literal, Protocol

from noria.errors import InvalidArgument
from noria.serving.config import BatchingConfig
from noria.serving.errors import ModelNotReady
from noria.serving.model_input import ModelInput
from noria.serving.predictions import Predictions

logger = logging.getLogger("noria.serving")

DispatchReason = Literal["full", "idle", "timeout"]
PredictFn = Callable[[ModelInput], Predictions]  # blocking; runs in a worker thread
_SMOOTHING = 0.2  # weight of the newest lone prediction in the running estimate


class BatchObserver(Protocol):
    """Receives what the batcher does, for metrics."""

    def queued(self, rows: int) -> None:
        """``rows`` rows are waiting now."""
        ...

    def dispatched(self, rows: int, reason: DispatchReason, waits: Sequence[float]) -> None:
        """A batch of ``rows`` rows left the queue; ``waits`` are its requests' seconds queued."""
        ...


@dataclass(slots=True)
class _Item:
    inputs: ModelInput
    future: asyncio.Future[Predictions]
    enqueued: float = field(default_factory=time.monotonic)


class MicroBatcher:
    """Batches one model's requests; create it, :meth:`start` it in the event loop, then
    :meth:`submit`. With batching disabled each request is predicted on its own."""

    def __init__(
        self,
        predict: PredictFn,
        config: BatchingConfig,
        *,
        executor: Executor,
        observer: BatchObserver | None = None,
        log_failures: bool = True,
        inline: bool = False,
    ) -> None:
        self._predict = predict
        self._config = config
        # Off for shadows, which must never hold up the event loop that serves live traffic.
        self._inline_max_s = config.inline_max_ms / 1000 if inline else 0.0
        self._lone_s: float | None = None  # running estimate of a lone request's predict time
        self._executor = executor
        self._observer = observer
        # Off for shadows, whose failures are counted and reported once a minute instead.
        self._log_failures = log_failures
        self._queue: deque[_Item] = deque()
        self._queued_rows = 0
        self._incoming = 0
        self._wake = asyncio.Event()
        self._none_incoming = asyncio.Event()
        self._none_incoming.set()
        self._task: asyncio.Task[None] | None = None
        self._closed = False

    @property
    def config(self) -> BatchingConfig:
        return self._config

    def start(self) -> None:
        if self._config.enabled and self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._dispatch_forever())

    async def aclose(self) -> None:
        """Refuse new requests, answer the queued ones, then stop."""
        self._closed = True
        self._wake.set()
        if self._task is not None:
            await self._task
            self._task = None

    async def retire(self) -> None:
        """Close once the requests already being received have been queued, then answer them.

        After a hot swap no new request reaches this batcher, but some may still be reading
        their bodies; closing at once would refuse them, so they are waited for first."""
        await self._none_incoming.wait()
        await self.aclose()

    @contextmanager
    def incoming(self) -> Iterator[None]:
        """Mark a request for this model as being received, so a forming batch waits for it
        (up to ``max_wait_ms``) instead of leaving as idle."""
        self._incoming += 1
        self._none_incoming.clear()
        try:
            yield
        finally:
            self._incoming -= 1
            if self._incoming == 0:
                self._none_incoming.set()
            self._wake.set()

    def submit(self, inputs: ModelInput) -> asyncio.Future[Predictions]:
        """Queue ``inputs`` now; the future resolves to exactly their predictions."""
        if self._closed:
            raise ModelNotReady("the server is shutting down; retry on another replica")
        if inputs.rows == 0:
            raise InvalidArgument("a prediction request needs at least one row")
        if not self._config.enabled:
            return asyncio.ensure_future(self._run_alone(inputs))
        size = self._config.max_batch_size
        parts = [
            self._enqueue(inputs.slice(start, start + size))
            for start in range(0, inputs.rows, size)
        ]
        return parts[0] if len(parts) == 1 else asyncio.ensure_future(_joined(parts))

    def _enqueue(self, inputs: ModelInput) -> asyncio.Future[Predictions]:
        future: asyncio.Future[Predictions] = asyncio.get_running_loop().create_future()
        self._queue.append(_Item(inputs, future))
        self._queued_rows += inputs.rows
        if self._observer is not None:
            self._observer.queued(self._queued_rows)
        self._wake.set()
        return future

    async def _run_alone(self, inputs: ModelInput) -> Predictions:
        if self._observer is not None:
            self._observer.dispatched(inputs.rows, "idle", (0.0,))
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._executor, self._predict, inputs)
        except Exception:
            if self._log_failures:
                logger.exception("predict failed on a request of %d rows", inputs.rows)
            raise

    async def _dispatch_forever(self) -> None:
        while True:
            batch = await self._next_batch()
            if batch is None:
                return
            await self._run(batch)

    async def _next_batch(self) -> list[_Item] | None:
        """Wait until a batch is due (full, idle or timed out); None once closed and drained."""
        while True:
            self._drop_cancelled()
            if not self._queue:
                if self._closed:
                    return None
                await self._sleep(None)
                continue
            count, reason = self._due()
            if reason is not None:
                return self._take(count, reason)
            remaining = self._queue[0].enqueued + self._config.max_wait_ms / 1000 - time.monotonic()
            await self._sleep(max(remaining, 0.0))

    def _due(self) -> tuple[int, DispatchReason | None]:
        """How many queued items the next batch takes, and why it would leave now."""
        limit, rows, count = self._config.max_batch_size, 0, 0
        for item in self._queue:
            if rows + item.inputs.rows > limit:
                return count, "full"
            rows += item.inputs.rows
            count += 1
        if rows == limit:
            return count, "full"
        if self._incoming == 0 or self._closed:
            return count, "idle"
        oldest = self._queue[0].enqueued
        if time.monotonic() - oldest >= self._config.max_wait_ms / 1000:
            return count, "timeout"
        return count, None

    async def _sleep(self, timeout: float | None) -> None:
        # Nothing runs between the caller's check and this clear (one event loop, no await),
        # so a wake-up cannot be lost.
        self._wake.clear()
        try:
            await asyncio.wait_for(self._wake.wait(), timeout)
        except TimeoutError:
            return

    def _take(self, count: int, reason: DispatchReason) -> list[_Item]:
        now = time.monotonic()
        batch = [self._queue.popleft() for _ in range(count)]
        rows = sum(item.inputs.rows for item in batch)
        self._queued_rows -= rows
        if self._observer is not None:
            self._observer.queued(self._queued_rows)
            self._observer.dispatched(rows, reason, [now - item.enqueued for item in batch])
        return batch

    def _drop_cancelled(self) -> None:
        """Forget requests whose callers went away before their batch formed."""
        while self._queue and self._queue[0].future.done():
            self._queued_rows -= self._queue.popleft().inputs.rows

    async def _run(self, batch: list[_Item]) -> None:
        inputs = ModelInput.concat([item.inputs for item in batch])
        lone = len(batch) == 1
        try:
            if lone and self._inline_now():
                predictions = self._predict_measured(inputs, lone)
            else:
                loop = asyncio.get_running_loop()
                predictions = await loop.run_in_executor(
                    self._executor, self._predict_measured, inputs, lone
                )
        except Exception as exc:  # the model's failure: it goes to this batch's callers only
            if self._log_failures:
                logger.exception("predict failed on a batch of %d rows", inputs.rows)
            for item in batch:
                if not item.future.done():
                    item.future.set_exception(exc)
            return
        start = 0
        for item in batch:
            stop = start + item.inputs.rows
            if not item.future.done():
                item.future.set_result(predictions.slice(start, stop))
            start = stop

    def _inline_now(self) -> bool:
        """Whether the lone request about to run may be predicted on the event loop."""
        estimate = self._lone_s
        return (
            estimate is not None
            and estimate <= self._inline_max_s
            and not self._queue
            and self._incoming == 0
        )

    def _predict_measured(self, inputs: ModelInput, lone: bool) -> Predictions:
        started = time.perf_counter()
        try:
            return self._predict(inputs)
        finally:
            if lone:
                elapsed = time.perf_counter() - started
                previous = self._lone_s
                self._lone_s = (
                    elapsed if previous is None else previous + (elapsed - previous) * _SMOOTHING
                )


async def _joined(parts: Sequence[asyncio.Future[Predictions]]) -> Predictions:
    """The chunks of a split request joined in order; the first failure if any failed."""
    results = await asyncio.gather(*parts, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return Predictions.concat([result for result in results if isinstance(result, Predictions)])

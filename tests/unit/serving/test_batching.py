"""Micro-batching semantics with a fake predictor: rows, limits, failures, dispatch reasons."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import numpy as np
import pytest

from noria.serving.batching import DispatchReason, MicroBatcher
from noria.serving.config import BatchingConfig
from noria.serving.errors import ModelFailed, ModelNotReady
from noria.serving.model_input import ModelInput
from noria.serving.predictions import Predictions

T = TypeVar("T")


class FakeModel:
    """Answers ten times each row's ``x``; fails a batch holding a negative ``x``."""

    def __init__(self, delay: float = 0.0) -> None:
        self.batches: list[list[float]] = []
        self.delay = delay
        self.release = threading.Event()
        self.release.set()
        self._lock = threading.Lock()

    def predict(self, inputs: ModelInput) -> Predictions:
        self.release.wait(timeout=10)
        values = inputs.arrays["x"]
        with self._lock:
            self.batches.append(values.tolist())
        if self.delay:
            time.sleep(self.delay)
        if (values < 0).any():
            raise ModelFailed(f"negative input in a batch of {inputs.rows} rows")
        return Predictions.from_model(values * 10, inputs.rows)


class Recorder:
    def __init__(self) -> None:
        self.reasons: list[DispatchReason] = []
        self.depths: list[int] = []

    def queued(self, rows: int) -> None:
        self.depths.append(rows)

    def dispatched(self, rows: int, reason: DispatchReason, waits: Sequence[float]) -> None:
        self.reasons.append(reason)


def rows(*values: float) -> ModelInput:
    return ModelInput("table", {"x": np.array(values, dtype="float64")}, len(values))


@pytest.fixture
def executor() -> Iterator[ThreadPoolExecutor]:
    with ThreadPoolExecutor(max_workers=4) as pool:
        yield pool


def run_with(batcher: MicroBatcher, body: Callable[[MicroBatcher], Awaitable[T]]) -> T:
    async def main() -> T:
        batcher.start()
        try:
            return await body(batcher)
        finally:
            await batcher.aclose()

    return asyncio.run(main())


def test_concurrent_callers_each_get_exactly_their_rows(executor: ThreadPoolExecutor) -> None:
    model = FakeModel(delay=0.002)
    batcher = MicroBatcher(model.predict, BatchingConfig(max_batch_size=8), executor=executor)
    requests = [[float(100 * caller + i) for i in range(1 + caller % 5)] for caller in range(60)]

    async def body(batcher: MicroBatcher) -> list[Predictions]:
        return list(await asyncio.gather(*(batcher.submit(rows(*values)) for values in requests)))

    answers = run_with(batcher, body)
    for values, answer in zip(requests, answers, strict=True):
        assert answer.row_values() == [value * 10 for value in values]
    assert all(len(batch) <= 8 for batch in model.batches)
    assert sum(len(batch) for batch in model.batches) == sum(map(len, requests))
    assert len(model.batches) < len(requests)  # requests were merged


def test_multi_row_requests_count_by_rows_and_are_split_when_larger(
    executor: ThreadPoolExecutor,
) -> None:
    model = FakeModel()
    batcher = MicroBatcher(model.predict, BatchingConfig(max_batch_size=4), executor=executor)
    requests = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], list(map(float, range(10, 20))), [7.0]]

    async def body(batcher: MicroBatcher) -> list[Predictions]:
        return list(await asyncio.gather(*(batcher.submit(rows(*values)) for values in requests)))

    answers = run_with(batcher, body)
    for values, answer in zip(requests, answers, strict=True):
        assert answer.row_values() == [value * 10 for value in values]
    assert all(len(batch) <= 4 for batch in model.batches)
    # Three-row requests are never cut: each sits whole in one batch.
    for three in requests[:2]:
        assert any(batch[i : i + 3] == three for batch in model.batches for i in range(len(batch)))
    # The ten-row request went in chunks of at most four rows, in order.
    chunks = [batch for batch in model.batches if batch and batch[0] >= 10]
    assert [value for chunk in chunks for value in chunk if value >= 10] == requests[2]


def test_a_batch_size_of_one_predicts_row_by_row(executor: ThreadPoolExecutor) -> None:
    model = FakeModel()
    batcher = MicroBatcher(model.predict, BatchingConfig(max_batch_size=1), executor=executor)

    async def body(batcher: MicroBatcher) -> list[Predictions]:
        singles = [batcher.submit(rows(float(i))) for i in range(5)]
        triple = batcher.submit(rows(7.0, 8.0, 9.0))
        return list(await asyncio.gather(*singles, triple))

    answers = run_with(batcher, body)
    assert [answer.row_values() for answer in answers] == [
        [0.0], [10.0], [20.0], [30.0], [40.0], [70.0, 80.0, 90.0],
    ]  # fmt: skip
    assert all(len(batch) == 1 for batch in model.batches)
    assert len(model.batches) == 8


def test_a_model_error_fails_only_the_requests_of_its_batch(executor: ThreadPoolExecutor) -> None:
    model = FakeModel()
    model.release.clear()  # hold the first batch so that the rest queue up behind it
    batcher = MicroBatcher(model.predict, BatchingConfig(max_batch_size=2), executor=executor)

    async def body(batcher: MicroBatcher) -> list[object]:
        first = batcher.submit(rows(1.0, 2.0))
        await asyncio.sleep(0.01)  # the first batch is now running (and held)
        bad_batch = [batcher.submit(rows(3.0)), batcher.submit(rows(-4.0))]
        later = batcher.submit(rows(5.0, 6.0))
        model.release.set()
        return list(await asyncio.gather(first, *bad_batch, later, return_exceptions=True))

    first, good_neighbour, bad, later = run_with(batcher, body)
    assert isinstance(first, Predictions) and first.row_values() == [10.0, 20.0]
    for failed in (good_neighbour, bad):  # the two shared a batch, so both fail
        assert isinstance(failed, ModelFailed) and "negative input" in failed.message
    assert isinstance(later, Predictions) and later.row_values() == [50.0, 60.0]
    assert model.batches == [[1.0, 2.0], [3.0, -4.0], [5.0, 6.0]]


def test_a_batch_waits_for_requests_being_received_until_max_wait(
    executor: ThreadPoolExecutor,
) -> None:
    model, recorder = FakeModel(), Recorder()
    config = BatchingConfig(max_batch_size=64, max_wait_ms=30)
    batcher = MicroBatcher(model.predict, config, executor=executor, observer=recorder)

    async def body(batcher: MicroBatcher) -> None:
        await batcher.submit(rows(1.0))  # nothing else arriving: leaves at once
        with batcher.incoming():  # another request is being read: wait for it, up to 30 ms
            await batcher.submit(rows(2.0))
        with batcher.incoming():
            pending = batcher.submit(rows(3.0))
        await pending  # the other request arrived (the block ended): no reason to wait

    run_with(batcher, body)
    assert recorder.reasons == ["idle", "timeout", "idle"]
    assert recorder.depths[-1] == 0


def test_a_full_batch_leaves_without_waiting(executor: ThreadPoolExecutor) -> None:
    model, recorder = FakeModel(), Recorder()
    config = BatchingConfig(max_batch_size=2, max_wait_ms=60_000)
    batcher = MicroBatcher(model.predict, config, executor=executor, observer=recorder)

    async def body(batcher: MicroBatcher) -> None:
        with batcher.incoming():
            answers = [batcher.submit(rows(1.0)), batcher.submit(rows(2.0))]
            await asyncio.gather(*answers)

    run_with(batcher, body)
    assert recorder.reasons == ["full"]


def test_batching_off_predicts_each_request_alone(executor: ThreadPoolExecutor) -> None:
    model = FakeModel()
    config = BatchingConfig(enabled=False, max_batch_size=2)
    batcher = MicroBatcher(model.predict, config, executor=executor)

    async def body(batcher: MicroBatcher) -> list[Predictions]:
        return list(
            await asyncio.gather(batcher.submit(rows(1.0, 2.0, 3.0)), batcher.submit(rows(4.0)))
        )

    answers = run_with(batcher, body)
    assert [answer.row_values() for answer in answers] == [[10.0, 20.0, 30.0], [40.0]]
    assert sorted(model.batches) == [[1.0, 2.0, 3.0], [4.0]]


def test_closing_answers_what_is_queued_then_refuses(executor: ThreadPoolExecutor) -> None:
    model = FakeModel()
    model.release.clear()
    batcher = MicroBatcher(model.predict, BatchingConfig(max_batch_size=1), executor=executor)

    async def main() -> None:
        batcher.start()
        queued = [batcher.submit(rows(float(i))) for i in range(3)]
        closing = asyncio.ensure_future(batcher.aclose())
        await asyncio.sleep(0)
        with pytest.raises(ModelNotReady, match="shutting down"):
            batcher.submit(rows(9.0))
        model.release.set()
        await closing
        assert [(await answer).row_values() for answer in queued] == [[0.0], [10.0], [20.0]]

    asyncio.run(main())


def test_a_wrong_number_of_predictions_is_a_model_error() -> None:
    with pytest.raises(ModelFailed, match="3 input rows with 2 rows"):
        Predictions.from_model(np.array([1, 2]), 3)
    with pytest.raises(ModelFailed, match="a single value"):
        Predictions.from_model(np.float64(1.0), 1)


def test_retiring_waits_for_requests_still_being_received(executor: ThreadPoolExecutor) -> None:
    """After a hot swap, a request that chose this batcher but is still reading its body is
    answered by it; only then does it close and refuse new work."""
    model = FakeModel()
    batcher = MicroBatcher(model.predict, BatchingConfig(max_batch_size=8), executor=executor)

    async def body(batcher: MicroBatcher) -> tuple[Predictions, bool]:
        queued = batcher.submit(rows(1.0))
        with batcher.incoming():  # a second request is being received
            retiring = asyncio.ensure_future(batcher.retire())
            await asyncio.sleep(0.05)
            still_open = not retiring.done()
            late = batcher.submit(rows(2.0))
        await retiring
        assert (await queued).row_values() == [10.0]
        with pytest.raises(ModelNotReady):
            batcher.submit(rows(3.0))
        return await late, still_open

    late, still_open = run_with(batcher, body)
    assert still_open and late.row_values() == [20.0]


class ThreadNoting(FakeModel):
    """A FakeModel that notes which thread predicted each batch."""

    def __init__(self, delay: float = 0.0) -> None:
        super().__init__(delay)
        self.threads: list[int] = []

    def predict(self, inputs: ModelInput) -> Predictions:
        self.threads.append(threading.get_ident())
        return super().predict(inputs)


def test_a_lone_request_to_a_fast_model_is_predicted_on_the_event_loop(
    executor: ThreadPoolExecutor,
) -> None:
    model = ThreadNoting()
    config = BatchingConfig(max_batch_size=8, inline_max_ms=1_000)
    batcher = MicroBatcher(model.predict, config, executor=executor, inline=True)

    async def body(batcher: MicroBatcher) -> list[object]:
        loop_thread = threading.get_ident()
        alone = [(await batcher.submit(rows(float(i)))).row_values() for i in range(3)]
        together = await asyncio.gather(*(batcher.submit(rows(float(i))) for i in (7, 8)))
        return [loop_thread, alone, [answer.row_values() for answer in together]]

    loop_thread, alone, together = run_with(batcher, body)
    assert alone == [[0.0], [10.0], [20.0]] and together == [[70.0], [80.0]]
    # The first lone request measures the model in a worker thread; the next two are quick
    # enough to stay on the event loop; the batch of two goes back to the threads.
    assert model.batches == [[0.0], [1.0], [2.0], [7.0, 8.0]]
    assert model.threads[0] != loop_thread
    assert model.threads[1:3] == [loop_thread, loop_thread]
    assert model.threads[3] != loop_thread


@pytest.mark.parametrize(
    ("config", "inline", "delay"),
    [
        (BatchingConfig(inline_max_ms=1_000), False, 0.0),  # a shadow's batcher
        (BatchingConfig(inline_max_ms=0), True, 0.0),  # turned off
        (BatchingConfig(inline_max_ms=5), True, 0.02),  # the model is slower than the limit
    ],
)
def test_other_requests_are_predicted_in_worker_threads(
    executor: ThreadPoolExecutor, config: BatchingConfig, inline: bool, delay: float
) -> None:
    model = ThreadNoting(delay)
    batcher = MicroBatcher(model.predict, config, executor=executor, inline=inline)

    async def body(batcher: MicroBatcher) -> int:
        for value in range(3):
            await batcher.submit(rows(float(value)))
        return threading.get_ident()

    loop_thread = run_with(batcher, body)
    assert len(model.threads) == 3 and loop_thread not in model.threads


def test_a_model_error_on_the_event_loop_fails_only_its_request(
    executor: ThreadPoolExecutor,
) -> None:
    model = ThreadNoting()
    config = BatchingConfig(inline_max_ms=1_000)
    batcher = MicroBatcher(model.predict, config, executor=executor, inline=True)

    async def body(batcher: MicroBatcher) -> list[object]:
        await batcher.submit(rows(1.0))  # measured in a thread: fast, so the rest go inline
        failed = await asyncio.gather(batcher.submit(rows(-2.0)), return_exceptions=True)
        return [*failed, await batcher.submit(rows(3.0)), threading.get_ident()]

    failed, after, loop_thread = run_with(batcher, body)
    assert isinstance(failed, ModelFailed) and "negative input" in failed.message
    assert isinstance(after, Predictions) and after.row_values() == [30.0]
    assert model.threads[1:] == [loop_thread, loop_thread]

"""Eight processes logging metrics, params and tags to one SQLite store at once."""

from __future__ import annotations

import traceback
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any

import pytest

from noria.backends.sql.store import SqlMetadataStore
from noria.domain.tracking import Metric, Param, RunTag
from tests.processes import run_workers

WORKERS = 8
RUNS = 4  # two workers per run, so writes to one run's rows race too
POINTS = 10_000
BATCH = 1_000
SHARED_EVERY = 10  # every 10th point goes to the key both workers of a run log
T0 = 1_700_000_000_000


def _point(worker: int, index: int) -> Metric:
    key = "shared" if index % SHARED_EVERY == 0 else f"own-{worker}"
    # Both workers of a run log "shared" at the same (step, timestamp): the greater
    # value, the higher worker's, must end up as the latest.
    return Metric(key, worker * 1e6 + index, T0 + index, index)


def _log(store: SqlMetadataStore, run_id: str, worker: int) -> None:
    for start in range(0, POINTS, BATCH):
        batch = start // BATCH
        store.runs.log_batch(
            run_id,
            metrics=[_point(worker, i) for i in range(start, start + BATCH)],
            params=[Param(f"w{worker}-b{batch}", str(batch)), Param("lr", "0.1")],
            tags=[RunTag(f"w{worker}", str(batch)), RunTag("batch", str(batch))],
        )


def _worker(uri: str, run_id: str, worker: int, barrier: Barrier, results: Queue[Any]) -> None:
    errors: list[str] = []
    try:
        with SqlMetadataStore(uri) as store:
            barrier.wait(timeout=120)
            _log(store, run_id, worker)
    except Exception:
        errors.append(traceback.format_exc())
    results.put((worker, errors))


def _run_workers(uri: str, run_ids: list[str]) -> list[tuple[int, list[str]]]:
    args = [(uri, run_ids[w % RUNS], w) for w in range(WORKERS)]
    return run_workers(_worker, args, timeout=240)


@pytest.mark.slow
def test_processes_log_to_one_store_at_once(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'tracking.db'}"
    with SqlMetadataStore(uri) as store:
        store.initialize()
        experiment = store.experiments.create_experiment("concurrency")
        run_ids = [
            store.runs.create_run(experiment.id, name=f"r{i}", user="t", start_time=T0).id
            for i in range(RUNS)
        ]

    outcomes = _run_workers(uri, run_ids)

    assert outcomes == [(worker, []) for worker in range(WORKERS)]
    total = 0
    with SqlMetadataStore(uri) as store:
        for index, run_id in enumerate(run_ids):
            workers = (index, index + RUNS)
            run = store.runs.get_run(run_id)
            for worker in workers:
                own = store.runs.metric_history(run_id, f"own-{worker}")
                assert own.steps == [i for i in range(POINTS) if i % SHARED_EVERY]
                assert run.metrics[f"own-{worker}"] == _point(worker, POINTS - 1)
                assert run.tags[f"w{worker}"] == str(POINTS // BATCH - 1)
                total += len(own)
            shared = store.runs.metric_history(run_id, "shared")
            assert len(shared) == 2 * POINTS // SHARED_EVERY
            last = POINTS - SHARED_EVERY
            assert run.metrics["shared"] == _point(max(workers), last)
            assert run.params["lr"] == "0.1"
            assert len(run.params) == 1 + 2 * POINTS // BATCH
            total += len(shared)
    assert total == WORKERS * POINTS

"""Several processes logging metrics through one live server at once."""

from __future__ import annotations

import traceback
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier
from typing import Any

import pytest

from noria.client import connect
from noria.domain.tracking import Metric
from noria.settings import Settings
from tests.conftest import RunningServer
from tests.processes import run_workers

pytestmark = pytest.mark.slow

WORKERS = 8
POINTS = 10_000
BATCH = 1_000
T = 1_700_000_000_000


def value(worker: int, step: int) -> float:
    return worker + step / POINTS


def _logger(url: str, run_id: str, worker: int, barrier: Barrier, results: Queue[Any]) -> None:
    """Log POINTS points of the worker's own metric, BATCH points per request."""
    errors: list[str] = []
    try:
        with connect(Settings(store_uri=url, user=f"worker-{worker}")) as client:
            barrier.wait(timeout=60)
            for start in range(0, POINTS, BATCH):
                metrics = [
                    Metric(f"loss/{worker}", value(worker, step), T + step, step)
                    for step in range(start, start + BATCH)
                ]
                client.metadata.runs.log_batch(run_id, metrics=metrics)
    except Exception:
        errors.append(traceback.format_exc())
    results.put((worker, errors))


def _run_loggers(url: str, run_id: str) -> list[tuple[int, list[str]]]:
    args = [(url, run_id, worker) for worker in range(WORKERS)]
    return run_workers(_logger, args, timeout=240)


def test_processes_log_through_one_server_at_once(noria_server: RunningServer) -> None:
    with connect(Settings(store_uri=noria_server.url, user="coordinator")) as client:
        experiment = client.metadata.experiments.create_experiment("remote-concurrency")
        run = client.metadata.runs.create_run(experiment.id, name="r", user="u", start_time=T)

        outcomes = _run_loggers(noria_server.url, run.id)

        assert outcomes == [(worker, []) for worker in range(WORKERS)]
        for worker in range(WORKERS):
            history = client.metadata.runs.metric_history(run.id, f"loss/{worker}")
            assert history.steps == list(range(POINTS))
            assert history.timestamps == [T + step for step in range(POINTS)]
            assert history.values == [value(worker, step) for step in range(POINTS)]
        latest = client.metadata.runs.get_run(run.id).metrics
        assert {key: metric.step for key, metric in latest.items()} == {
            f"loss/{worker}": POINTS - 1 for worker in range(WORKERS)
        }

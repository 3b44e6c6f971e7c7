"""The same tracking workloads written once against Noria's SDK and once against MLflow's."""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from _servers import mlflow_server, noria_server

if TYPE_CHECKING:
    from mlflow import MlflowClient

    from noria.client import Client

FILTER = "metrics.m0 > 0.5 AND params.p0 = 'v0'"
ORDER_BY = "metrics.m1 DESC"
SEARCH_LIMIT = 100
HISTORY_KEY = "loss"

RunData = tuple[dict[str, str], dict[str, float]]


def run_data(count: int) -> list[RunData]:
    """10 params and 10 metrics per run; about a quarter match FILTER (p0 = 'v0', m0 > 0.5)."""
    rows = []
    for i in range(count):
        rng = random.Random(i)
        params = {f"p{k}": f"v{i % 2}" if k == 0 else f"value-{k}-{i % 7}" for k in range(10)}
        rows.append((params, {f"m{k}": rng.random() for k in range(10)}))
    return rows


def now_ms() -> int:
    return time.time_ns() // 1_000_000


class Side(Protocol):
    """One tool under test. Timed methods return seconds; the run they log to is made untimed."""

    name: str
    records_environment: bool  # whether start_run can also record the environment

    def single_metrics(self, calls: int) -> float:
        """``calls`` single log_metric calls to one run, then end it (all durable)."""
        ...

    def batch(self, points: int) -> tuple[float, str]:
        """Log ``points`` points of HISTORY_KEY through the batch API; (seconds, run id)."""
        ...

    def history_length(self, run_id: str) -> int:
        """Read the whole HISTORY_KEY series back; returns its length."""
        ...

    def create_runs(
        self, rows: list[RunData], experiment: str, *, environment: bool = False
    ) -> float: ...

    def search(self, experiment: str) -> list[str]:
        """Run names of the FILTER search ordered by ORDER_BY, at most SEARCH_LIMIT."""
        ...


class NoriaSide:
    name = "Noria"
    records_environment = True
    batch_chunk = 10_000  # points per runs.log_batch call (one INSERT, or one HTTP request)

    def __init__(self, client: Client) -> None:
        self.client = client
        self.tracker = client.tracker

    def single_metrics(self, calls: int) -> float:
        run = self.tracker.start_run(experiment="bench-single", record_environment=False)
        start = time.perf_counter()
        for i in range(calls):
            run.log_metric("m", 1.0 / (i + 1), step=i)
        run.end()  # flushes: every point is stored when it returns
        elapsed = time.perf_counter() - start
        if len(self.tracker.metric_history(run.id, "m")) != calls:
            raise RuntimeError("Noria lost single log_metric points")
        return elapsed

    def batch(self, points: int) -> tuple[float, str]:
        from noria.domain.tracking import Metric

        run = self.tracker.start_run(experiment="bench-batch", record_environment=False)
        stamp = now_ms()
        metrics = [Metric(HISTORY_KEY, i * 1e-3, stamp + i, i) for i in range(points)]
        start = time.perf_counter()
        for first in range(0, points, self.batch_chunk):
            self.tracker.runs.log_batch(run.id, metrics=metrics[first : first + self.batch_chunk])
        elapsed = time.perf_counter() - start
        run.end()
        return elapsed, run.id

    def history_length(self, run_id: str) -> int:
        return len(self.tracker.metric_history(run_id, HISTORY_KEY))

    def create_runs(
        self, rows: list[RunData], experiment: str, *, environment: bool = False
    ) -> float:
        start = time.perf_counter()
        for i, (params, metrics) in enumerate(rows):
            # defer: as noria.start_run does, the creation goes with the run's first write.
            run = self.tracker.start_run(
                experiment=experiment, name=f"run-{i}", record_environment=environment, defer=True
            )
            run.log_params(params)
            run.log_metrics(metrics)
            run.end()
        return time.perf_counter() - start

    def search(self, experiment: str) -> list[str]:
        runs = self.tracker.search_runs(
            experiments=experiment, filter=FILTER, order_by=[ORDER_BY], limit=SEARCH_LIMIT
        )
        return [run.info.name for run in runs]


class MlflowSide:
    name = "MLflow"
    records_environment = False  # MlflowClient.create_run records none
    batch_chunk = 1_000  # MLflow's limit of metrics per log_batch

    def __init__(self, client: MlflowClient, artifact_root: Path | None) -> None:
        self.client = client
        self._artifact_root = artifact_root
        self._experiments: dict[str, str] = {}

    def _experiment(self, name: str) -> str:
        if name not in self._experiments:
            # Embedded: artifacts in the temp dir, not ./mlruns; served: the server's proxy.
            location = (self._artifact_root / name).as_uri() if self._artifact_root else None
            self._experiments[name] = self.client.create_experiment(name, location)
        return self._experiments[name]

    def single_metrics(self, calls: int) -> float:
        run_id = self.client.create_run(self._experiment("bench-single")).info.run_id
        start = time.perf_counter()
        for i in range(calls):
            self.client.log_metric(run_id, "m", 1.0 / (i + 1), step=i)
        self.client.set_terminated(run_id)
        return time.perf_counter() - start

    def batch(self, points: int) -> tuple[float, str]:
        from mlflow.entities import Metric

        run_id = self.client.create_run(self._experiment("bench-batch")).info.run_id
        stamp = now_ms()
        metrics = [Metric(HISTORY_KEY, i * 1e-3, stamp + i, i) for i in range(points)]
        start = time.perf_counter()
        for first in range(0, points, self.batch_chunk):
            self.client.log_batch(run_id, metrics=metrics[first : first + self.batch_chunk])
        elapsed = time.perf_counter() - start
        self.client.set_terminated(run_id)
        return elapsed, run_id

    def history_length(self, run_id: str) -> int:
        return len(self.client.get_metric_history(run_id, HISTORY_KEY))

    def create_runs(
        self, rows: list[RunData], experiment: str, *, environment: bool = False
    ) -> float:
        from mlflow.entities import Metric, Param

        experiment_id = self._experiment(experiment)
        start = time.perf_counter()
        for i, (params, metrics) in enumerate(rows):
            run_id = self.client.create_run(experiment_id, run_name=f"run-{i}").info.run_id
            stamp = now_ms()
            self.client.log_batch(
                run_id,
                metrics=[Metric(k, v, stamp, 0) for k, v in metrics.items()],
                params=[Param(k, v) for k, v in params.items()],
            )
            self.client.set_terminated(run_id)
        return time.perf_counter() - start

    def search(self, experiment: str) -> list[str]:
        runs = self.client.search_runs(
            [self._experiment(experiment)],
            filter_string=FILTER,
            order_by=[ORDER_BY],
            max_results=SEARCH_LIMIT,
        )
        return [run.info.run_name for run in runs]


@contextmanager
def open_mlflow(mode: str, root: Path) -> Iterator[MlflowSide]:
    """MLflow writing a SQLite file itself, or the client of an `mlflow server` on one."""
    from mlflow import MlflowClient

    if mode == "embedded":
        (root / "mlflow").mkdir(parents=True)
        uri = f"sqlite:///{root / 'mlflow' / 'mlflow.db'}"
        yield MlflowSide(MlflowClient(uri), root / "mlflow" / "artifacts")
        return
    with mlflow_server(root / "mlflow-served") as url:
        yield MlflowSide(MlflowClient(url), None)


@contextmanager
def open_noria(mode: str, root: Path) -> Iterator[NoriaSide]:
    """Noria on a SQLite file in a fresh home, or the client of a `noria server` on one."""
    import noria
    from noria.settings import Settings

    if mode == "embedded":
        with noria.connect(Settings(home=root / "noria", user="bench")) as client:
            yield NoriaSide(client)
        return
    with noria_server(root / "noria-served") as url:
        remote = Settings(home=root / "noria-client", store_uri=url, user="bench")
        with noria.connect(remote) as client:
            yield NoriaSide(client)

"""Experiment tracking, Noria against MLflow, on the same machine in the same run.

    .venv/bin/pip install -e '.[bench]'
    .venv/bin/python benchmarks/tracking_vs_mlflow.py [--mode embedded|server|both]
        [--quick] [--search-100k] [--out results.json]

`mlflow server` needs the full `mlflow` package; with only `mlflow-skinny` in this
virtualenv, set BENCH_MLFLOW_PYTHON to the python of one that has it.

Both tools use SQLite in a fresh temporary folder: embedded (the client writes the
database itself), then each through its own server (`noria server`, `mlflow server`
with its default workers) on a loopback port. One tool runs at a time, so neither
competes with the other for the CPU. Workloads: single log_metric calls, batched
logging, creating runs with 10 params and 10 metrics, a filtered and ordered search
over those runs, and reading a whole metric history back. The ratio is MLflow time /
Noria time for the same work (above 1: Noria is faster).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TypeVar

from _servers import QUIET_MLFLOW, noria_server
from _tracking_sides import NoriaSide, Side, open_mlflow, open_noria, run_data

T = TypeVar("T")
RATIO_TARGET = 10.0
BIG_SEARCH_RUNS = 100_000


@dataclass(frozen=True)
class Sizes:
    single_noria: int
    single_mlflow: dict[str, int]  # per mode: MLflow is too slow for Noria's count
    points: int
    runs: int
    search_reps: int
    history_reps: int


FULL = Sizes(100_000, {"embedded": 1_000, "server": 500}, 100_000, 2_000, 20, 5)
QUICK = Sizes(10_000, {"embedded": 200, "server": 100}, 10_000, 200, 5, 3)


@dataclass(frozen=True)
class Measured:
    """One tool's raw results for one mode."""

    single: float  # log_metric calls/s, counting the end of the run
    single_seconds: float
    batch: float  # points/s
    runs: float  # runs/s
    runs_env: float | None  # runs/s with the environment recorded (Noria only)
    search_ms: float
    search_names: list[str]
    history_ms: float


@dataclass(frozen=True)
class Figure:
    """One compared workload. ``higher``: the unit is a rate, else a latency."""

    workload: str
    unit: str
    mlflow: float | None
    noria: float
    higher: bool
    target: float
    note: str = ""

    @property
    def ratio(self) -> float | None:
        """MLflow time / Noria time for the same work."""
        if self.mlflow is None:
            return None
        return self.noria / self.mlflow if self.higher else self.mlflow / self.noria

    def verdict(self) -> str:
        absolute = self.noria >= self.target if self.higher else self.noria <= self.target
        parts = [f"abs {'PASS' if absolute else 'MISS'}"]
        if self.ratio is not None:
            parts.append(f"10x {'PASS' if self.ratio >= RATIO_TARGET else 'MISS'}")
        return ", ".join(parts)

    def as_json(self) -> dict[str, object]:
        return {**asdict(self), "ratio": self.ratio, "verdict": self.verdict()}


def _number(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    return f"{value:,.1f} {unit}" if value < 100 else f"{value:,.0f} {unit}"


def _row(figure: Figure) -> str:
    ratio = "-" if figure.ratio is None else f"{figure.ratio:,.1f}x"
    target = f"{'>=' if figure.higher else '<'} {_number(figure.target, figure.unit)}"
    cells = [figure.workload, _number(figure.mlflow, figure.unit)]
    cells += [_number(figure.noria, figure.unit), ratio, target, figure.verdict()]
    return "| " + " | ".join(cells) + " |"


def print_table(title: str, figures: list[Figure]) -> None:
    print(f"\n### {title}\n")
    print("| workload | MLflow | Noria | ratio | Noria target | verdict |")
    print("| --- | ---: | ---: | ---: | --- | --- |")
    for figure in figures:
        print(_row(figure))
    print()
    for figure in figures:
        if figure.note:
            print(f"- {figure.workload.strip()}: {figure.note}")


def timed_median(call: Callable[[], T], reps: int) -> tuple[float, T]:
    """Median seconds of ``reps`` calls (after one untimed warm-up), and the last result."""
    result = call()
    samples = []
    for _ in range(reps):
        start = time.perf_counter()
        result = call()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples), result


def measure(side: Side, sizes: Sizes, calls: int) -> Measured:
    """Every workload for one tool, in order; prints a progress line per workload."""

    def step(label: str, value: float) -> float:
        print(f"  {side.name:6} {label:38} {value:>12,.1f}", flush=True)
        return value

    side.single_metrics(20)  # warm-up: lazy imports, first connection, writer thread
    single_seconds = side.single_metrics(calls)
    single = step(f"single log_metric x {calls:,} (calls/s)", calls / single_seconds)
    batch_seconds, run_id = side.batch(sizes.points)
    batch = step(f"log_batch {sizes.points:,} (points/s)", sizes.points / batch_seconds)
    rows = run_data(sizes.runs)
    runs = step("create runs (runs/s)", sizes.runs / side.create_runs(rows, "bench-runs"))
    runs_env = None
    if side.records_environment:
        env_seconds = side.create_runs(rows, "bench-runs-env", environment=True)
        runs_env = step("create runs, environment (runs/s)", sizes.runs / env_seconds)
    search, names = timed_median(lambda: side.search("bench-runs"), sizes.search_reps)
    step("search_runs (ms)", search * 1e3)
    history, length = timed_median(lambda: side.history_length(run_id), sizes.history_reps)
    step("metric history (ms)", history * 1e3)
    if length != sizes.points:
        raise RuntimeError(f"{side.name} read {length} points back, {sizes.points} logged")
    return Measured(
        single, single_seconds, batch, runs, runs_env, search * 1e3, names, history * 1e3
    )


def compare(m: Measured, n: Measured, sizes: Sizes, mlflow_calls: int) -> list[Figure]:
    agree = "the same runs in the same order" if m.search_names == n.search_names else "DIFFERENT"
    runs = f"create {sizes.runs:,} runs x (10 params + 10 metrics)"
    notes = [
        f"MLflow {mlflow_calls:,} calls; Noria {sizes.single_noria:,} calls then end_run "
        f"({n.single_seconds:.2f} s, every point durable); rates compared",
        "MLflow log_batch 1,000 points per call (its limit), Noria runs.log_batch 10,000",
        "MLflow create_run + log_batch + set_terminated; Noria start_run(record_environment="
        "False, defer=True, as noria.start_run) + log_params + log_metrics + end",
        "Noria's default: also records python/host/git tags and requirements.txt per run",
        f"median of {sizes.search_reps}; both return {len(n.search_names)} rows, {agree}",
        f"median of {sizes.history_reps} full reads of the series log_batch wrote",
    ]
    history = f"read a {sizes.points:,}-point history"
    rows = [
        ("single log_metric", "calls/s", m.single, n.single, True, 50_000),
        (f"log_batch {sizes.points:,} points", "points/s", m.batch, n.batch, True, 500_000),
        (runs, "runs/s", m.runs, n.runs, True, 400),
        ("  same, record_environment=True", "runs/s", m.runs, n.runs_env or 0.0, True, 400),
        (f"search_runs over {sizes.runs:,} runs", "ms", m.search_ms, n.search_ms, False, 20),
        (history, "ms", m.history_ms, n.history_ms, False, 150),
    ]
    return [Figure(*row, note) for row, note in zip(rows, notes, strict=True)]


def big_search(root: Path, modes: list[str], reps: int) -> list[Figure]:
    """Noria alone over 100,000 runs: MLflow would need over half an hour to create them."""
    import noria
    from noria.settings import Settings

    home, figures = root / "noria-100k", []
    with noria.connect(Settings(home=home, user="bench")) as client:
        side = NoriaSide(client)
        build = side.create_runs(run_data(BIG_SEARCH_RUNS), "bench-runs")
        print(f"  built {BIG_SEARCH_RUNS:,} Noria runs in {build:.0f} s", flush=True)
        if "embedded" in modes:
            seconds, _ = timed_median(lambda: side.search("bench-runs"), reps)
            figures.append(Figure("search_runs, embedded", "ms", None, seconds * 1e3, False, 200))
    if "server" in modes:
        with noria_server(home) as url:
            remote = Settings(home=root / "noria-100k-client", store_uri=url, user="bench")
            with noria.connect(remote) as client:
                seconds, _ = timed_median(lambda: NoriaSide(client).search("bench-runs"), reps)
        figures.append(Figure("search_runs, server", "ms", None, seconds * 1e3, False, 200))
    return figures


def _isolate(root: Path) -> None:
    """Quiet MLflow; no NORIA_* variable or ./noria.toml leaking into the settings."""
    os.environ.update(QUIET_MLFLOW)
    for key in [key for key in os.environ if key.startswith("NORIA_")]:
        del os.environ[key]
    os.environ["NORIA_CONFIG"] = str(root / "absent-noria.toml")
    os.environ["MLFLOW_LOGGING_LEVEL"] = "WARNING"  # read when mlflow is imported


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mode", choices=["embedded", "server", "both"], default="both")
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--search-100k", action="store_true", help="also search 100,000 runs")
    parser.add_argument("--out", type=Path, help="also write the results as JSON here")
    return parser.parse_args()


def run_all(args: argparse.Namespace, sizes: Sizes, root: Path) -> dict[str, list[Figure]]:
    modes = ["embedded", "server"] if args.mode == "both" else [args.mode]
    tables = {}
    for mode in modes:
        print(f"\n{mode}:", flush=True)
        with open_mlflow(mode, root / mode) as mlflow_side:
            m = measure(mlflow_side, sizes, sizes.single_mlflow[mode])
        with open_noria(mode, root / mode) as noria_side:
            n = measure(noria_side, sizes, sizes.single_noria)
        tables[mode] = compare(m, n, sizes, sizes.single_mlflow[mode])
    if args.search_100k:
        print(
            f"\nsearch over {BIG_SEARCH_RUNS:,} runs, Noria only (MLflow, at 40 to 60 runs/s "
            "here, would take over half an hour to build them):",
            flush=True,
        )
        tables[f"search over {BIG_SEARCH_RUNS:,} runs"] = big_search(root, modes, sizes.search_reps)
    return tables


def main() -> None:
    args = _arguments()
    sizes = QUICK if args.quick else FULL
    with tempfile.TemporaryDirectory(prefix="noria-bench-") as tmp:
        _isolate(Path(tmp))
        import mlflow

        import noria

        meta: dict[str, object] = {"noria": noria.__version__, "mlflow": mlflow.__version__}
        meta |= {"python": platform.python_version(), "cpus": os.cpu_count(), **asdict(sizes)}
        print(
            f"Noria {noria.__version__} vs MLflow {mlflow.__version__}, Python "
            f"{meta['python']}, {meta['cpus']} CPUs, SQLite; {sizes}"
        )
        before = " ".join(f"{load:.1f}" for load in os.getloadavg())
        tables = run_all(args, sizes, Path(tmp))
        # The machine may be shared: say how busy it was.
        meta["load"] = f"{before} before, {' '.join(f'{x:.1f}' for x in os.getloadavg())} after"
    print(f"\nload average (1, 5, 15 min): {meta['load']}")
    for title, figures in tables.items():
        print_table(title, figures)
    if args.out:
        results = {title: [f.as_json() for f in figures] for title, figures in tables.items()}
        args.out.write_text(json.dumps({"meta": meta, "results": results}, indent=2) + "\n")


if __name__ == "__main__":
    main()

"""Model serving under load: `noria serve` vs `mlflow models serve --env-manager local`.

The same two scikit-learn models — a logistic regression and a 100-tree random forest on
20 numeric features — are served by each tool, one server at a time, and loaded by
``wrk`` from a second process on 127.0.0.1 with single-row requests: at concurrency 1
and at concurrency 64, ``--duration`` seconds each (20 by default). Printed per model and
concurrency: requests/s, p50 and p99 latency, non-2xx answers and socket errors for both
tools, the ratios, and the in-process ``predict`` time of one row: the best of 200 calls
(the floor a server adds its overhead to) and their median (what the machine's load makes
of the same call).

MLflow's server needs the full ``mlflow`` package (FastAPI scoring server, uvicorn); it
runs from its own virtualenv so the project's test environment keeps ``mlflow-skinny``:

    python3 -m venv /tmp/bench-mlflow
    /tmp/bench-mlflow/bin/pip install 'mlflow==3.17.2' scikit-learn
    apt-get install -y wrk
    .venv/bin/python benchmarks/serving_vs_mlflow.py [--duration 20] [--mlflow-python …]

For profiling iterations, ``--only noria --concurrency 1`` measures one side at one
concurrency (no MLflow virtualenv needed then). On a machine shared with other work, run the
whole command under ``nice -n -15`` (the servers and wrk inherit it) and note the load.

Each tool serves with its defaults (one worker process each); Noria's micro-batching is
on by default. Requests: Noria's native ``POST /v1/models/<name>/predict`` with
``{"records": [row]}``; MLflow's ``POST /invocations`` with ``{"dataframe_records":
[row]}`` — each tool's documented single-row call.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from _servers import QUIET_MLFLOW, free_port, stop_process

FEATURES = 20
CONCURRENCY = (1, 64)


@dataclass(frozen=True)
class Load:
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    errors: int


def _models() -> dict[str, Any]:
    from sklearn.datasets import make_classification
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression

    features, labels = make_classification(
        n_samples=5_000, n_features=FEATURES, n_informative=10, random_state=7
    )
    frame = _frame(features)
    return {
        "logreg": (LogisticRegression(max_iter=1_000).fit(frame, labels), frame),
        "forest": (
            RandomForestClassifier(n_estimators=100, random_state=7).fit(frame, labels),
            frame,
        ),
    }


def _frame(features: Any) -> Any:
    import pandas as pd

    return pd.DataFrame(features, columns=[f"f{i}" for i in range(FEATURES)])


def _save_noria(model: Any, frame: Any, target: Path) -> Path:
    from noria.models.format import save_model

    save_model(model, target, input_example=frame.head(5))
    return target


def _save_mlflow(model: Any, frame: Any, target: Path) -> Path:
    import mlflow.sklearn

    # MLflow 3.17 saves with skops and asks to trust tree storage explicitly.
    trusted = ["sklearn.tree._tree.Tree"] if hasattr(model, "estimators_") else None
    mlflow.sklearn.save_model(
        model, str(target), input_example=frame.head(5), skops_trusted_types=trusted
    )
    return target


@dataclass(frozen=True)
class Floor:
    """In-process single-row predictions by the library's own model object (no signature
    check, no Noria code): ``best`` is the floor any server adds its overhead to; ``median``
    shows what the machine's load does to the same call."""

    best_ms: float
    median_ms: float


def _floor(model_dir: Path, row: Any) -> Floor:
    from noria.models.format import load_model

    raw = load_model(model_dir).raw
    times = []
    for _ in range(200):
        started = time.perf_counter()
        raw.predict(row)
        times.append(time.perf_counter() - started)
    times.sort()
    return Floor(times[0] * 1000, times[len(times) // 2] * 1000)


def _wait_ready(url: str, process: subprocess.Popen[bytes], timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args!r} exited early with code {process.returncode}")
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer 200 within {timeout:.0f} s")


@contextmanager
def _server(
    command: list[str], ready_url: str, log: Path, bin_dir: str | None = None
) -> Iterator[None]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("NORIA_")}
    env.update(QUIET_MLFLOW)
    if bin_dir is not None:  # `mlflow models serve` runs `uvicorn` from PATH
        env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            command, env=env, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            _wait_ready(ready_url, process)
            yield
        finally:
            stop_process(process)


_LUA = """wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = [[{body}]]
"""
_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _wrk(url: str, body: str, connections: int, seconds: int, scratch: Path) -> Load:
    script = scratch / "post.lua"
    script.write_text(_LUA.format(body=body))
    threads = min(connections, 2)
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency"]
    command += ["--timeout", "10s", "-s", str(script), url]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return Load(
        requests_per_s=float(_find(r"Requests/sec:\s+([\d.]+)", out)),
        p50_ms=_latency(_find(r"50%\s+([\d.]+\w+)", out)),
        p99_ms=_latency(_find(r"99%\s+([\d.]+\w+)", out)),
        non_2xx=int(_find(r"Non-2xx or 3xx responses:\s+(\d+)", out, "0")),
        errors=sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out)),
    )


def _find(pattern: str, text: str, default: str | None = None) -> str:
    match = re.search(pattern, text)
    if match is None:
        if default is None:
            raise RuntimeError(f"wrk printed no {pattern!r}:\n{text}")
        return default
    return match.group(1)


def _latency(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(\w+)", text).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS[unit]


def _measure(
    url: str, body: str, seconds: int, concurrency: list[int], scratch: Path
) -> dict[int, Load]:
    _wrk(url, body, 8, 2, scratch)  # warm-up: first requests load lazily imported code
    return {c: _wrk(url, body, c, seconds, scratch) for c in concurrency}


def _run_noria(name: str, model_dir: Path, row: dict[str, float], args: Any, scratch: Path):
    port = free_port()
    command = [sys.executable, "-m", "noria.cli.main", "--home", str(scratch / "home"), "serve"]
    command += [f"{name}={model_dir}", "--host", "127.0.0.1", "--port", str(port)]
    base = f"http://127.0.0.1:{port}"
    with _server(command, f"{base}/health/ready", scratch / f"noria-{name}.log"):
        body = json.dumps({"records": [row]})
        url = f"{base}/v1/models/{name}/predict"
        return _measure(url, body, args.duration, args.concurrency, scratch)


def _run_mlflow(name: str, model_dir: Path, row: dict[str, float], args: Any, scratch: Path):
    port = free_port()
    bin_dir = str(Path(args.mlflow_python).parent)
    mlflow_bin = str(Path(bin_dir) / "mlflow")
    command = [mlflow_bin, "models", "serve", "-m", str(model_dir), "--env-manager", "local"]
    command += ["--host", "127.0.0.1", "--port", str(port)]
    base = f"http://127.0.0.1:{port}"
    with _server(command, f"{base}/ping", scratch / f"mlflow-{name}.log", bin_dir):
        body = json.dumps({"dataframe_records": [row]})
        url = f"{base}/invocations"
        return _measure(url, body, args.duration, args.concurrency, scratch)


def _report(name: str, floor: Floor, results: dict[str, dict[int, Load]]) -> None:
    print(
        f"\n{name}: in-process predict of one row {floor.best_ms:.2f} ms "
        f"(best of 200; median {floor.median_ms:.2f} ms)"
    )
    print("concurrency  tool     req/s    p50 ms   p99 ms   non-2xx  errors")
    concurrencies = next(iter(results.values())).keys()
    for concurrency in concurrencies:
        for tool, loads in results.items():
            load = loads[concurrency]
            print(
                f"{concurrency:>11}  {tool:<6} {load.requests_per_s:>8.1f} {load.p50_ms:>9.2f}"
                f" {load.p99_ms:>8.2f} {load.non_2xx:>8} {load.errors:>7}"
            )
        parts = []
        if "noria" in results and "mlflow" in results:
            ours, theirs = results["noria"][concurrency], results["mlflow"][concurrency]
            parts += [
                f"req/s {ours.requests_per_s / theirs.requests_per_s:.1f}x",
                f"p99 {ours.p99_ms / theirs.p99_ms:.3f} of MLflow's",
            ]
        if "noria" in results:
            p50 = results["noria"][concurrency].p50_ms
            parts.append(f"p50 - floor {p50 - floor.best_ms:+.2f} ms")
        print(f"{'':>11}  ratio: {', '.join(parts)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=int, default=20, help="seconds per load")
    parser.add_argument("--mlflow-python", default="/tmp/bench-mlflow/bin/python")
    parser.add_argument("--models", nargs="+", default=["logreg", "forest"])
    parser.add_argument(
        "--only", choices=["noria", "mlflow"], help="measure one tool (profiling iterations)"
    )
    parser.add_argument(
        "--concurrency", type=int, nargs="+", default=list(CONCURRENCY), help="wrk connections"
    )
    args = parser.parse_args()
    tools = [args.only] if args.only else ["noria", "mlflow"]
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install -y wrk")
    if "mlflow" in tools and not Path(args.mlflow_python).exists():
        sys.exit(f"No MLflow virtualenv at {args.mlflow_python}: see this file's docstring.")
    with tempfile.TemporaryDirectory(prefix="noria-serving-bench-") as folder:
        scratch = Path(folder)
        for name, (model, frame) in _models().items():
            if name not in args.models:
                continue
            row = {key: float(value) for key, value in frame.iloc[0].items()}
            noria_dir = _save_noria(model, frame, scratch / f"noria-{name}")
            floor = _floor(noria_dir, frame.head(1))
            results: dict[str, dict[int, Load]] = {}
            if "noria" in tools:
                results["noria"] = _run_noria(name, noria_dir, row, args, scratch)
            if "mlflow" in tools:
                mlflow_dir = _save_mlflow(model, frame, scratch / f"mlflow-{name}")
                results["mlflow"] = _run_mlflow(name, mlflow_dir, row, args, scratch)
            _report(name, floor, results)


if __name__ == "__main__":
    main()

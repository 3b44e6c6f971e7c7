"""Per-step overhead of a 50-step pipeline of trivial steps: Noria's local executor vs ZenML.

Each tool runs the same pipeline — 50 steps in a chain, each adding one to an integer —
in its own fresh process and a fresh store (Noria: a new ``NORIA_HOME`` with SQLite and
local artifacts; ZenML: a new ``ZENML_CONFIG_PATH`` with its default local stack,
SQLite and the local orchestrator), three times:

1. cold: the first run in the fresh store (nothing cached);
2. cold, warm process: the same pipeline with another parameter value, so every step
   misses the cache again, in a process that has already run it once;
3. cached: run 2 again, so every step is a cache hit.

Per-step figures are a run's wall time divided by 50 (the steps do no work, so this is
what the tool adds per step). Only the runs are timed, not the imports. ZenML needs its
own virtualenv:

    python3 -m venv /tmp/bench-zenml
    /tmp/bench-zenml/bin/pip install 'zenml[server]==0.98.0'
    .venv/bin/python benchmarks/pipeline_overhead.py [--steps 50] [--zenml-python …]

Targets (the pipelines issue): Noria's per-step overhead at least 5x lower than ZenML's,
cached steps at least 5x faster, and the fully cached 50-step re-run under 1 s.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

_NORIA = """
import json, sys, time
import noria

@noria.step
def add_one(x: int) -> int:
    return x + 1

@noria.pipeline
def chain(start: int = 0) -> None:
    x = start
    for _ in range({steps}):
        x = add_one(x)

timings = []
for start in (0, 1, 1):
    began = time.perf_counter()
    chain.run(params={{"start": start}})
    timings.append(time.perf_counter() - began)
print("RESULT " + json.dumps(timings))
"""

_ZENML = """
import json, sys, time
from zenml import pipeline, step

@step
def add_one(x: int) -> int:
    return x + 1

@pipeline
def chain(start: int = 0) -> None:
    x = start
    for _ in range({steps}):
        x = add_one(x)

timings = []
for start in (0, 1, 1):
    began = time.perf_counter()
    chain(start=start)
    timings.append(time.perf_counter() - began)
print("RESULT " + json.dumps(timings))
"""

_QUIET_ZENML = {
    "ZENML_ANALYTICS_OPT_IN": "false",
    "ZENML_LOGGING_VERBOSITY": "ERROR",
    "ZENML_ENABLE_RICH_TRACEBACK": "false",
    "AUTO_OPEN_DASHBOARD": "false",
}


def _run(python: str, source: str, folder: Path, env: dict[str, str]) -> list[float]:
    script = folder / "bench.py"
    script.write_text(source)
    done = subprocess.run(
        [python, str(script)],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,  # a failure is reported below with the child's stderr
    )
    for line in done.stdout.splitlines():
        if line.startswith("RESULT "):
            timings: list[float] = json.loads(line[len("RESULT ") :])
            return timings
    raise RuntimeError(f"{python} {script} failed ({done.returncode}):\n{done.stderr[-3000:]}")


def _noria(steps: int, scratch: Path) -> list[float]:
    folder = scratch / "noria"
    folder.mkdir()
    env = {key: value for key, value in os.environ.items() if not key.startswith("NORIA_")}
    env["NORIA_HOME"] = str(folder / "home")
    return _run(sys.executable, _NORIA.format(steps=steps), folder, env)


def _zenml(steps: int, scratch: Path, python: str) -> list[float]:
    folder = scratch / "zenml"
    folder.mkdir()
    env = dict(os.environ, ZENML_CONFIG_PATH=str(folder / "config"), **_QUIET_ZENML)
    zenml = str(Path(python).parent / "zenml")
    subprocess.run([zenml, "init"], cwd=folder, env=env, capture_output=True, check=True)
    return _run(python, _ZENML.format(steps=steps), folder, env)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--zenml-python", default="/tmp/bench-zenml/bin/python")
    args = parser.parse_args()
    if not Path(args.zenml_python).exists():
        sys.exit(f"No ZenML virtualenv at {args.zenml_python}: see this file's docstring.")
    with tempfile.TemporaryDirectory(prefix="noria-pipeline-bench-") as folder:
        scratch = Path(folder)
        noria = _noria(args.steps, scratch)
        zenml = _zenml(args.steps, scratch, args.zenml_python)
    labels = ("cold (fresh store)", "cold (warm process)", "fully cached")
    print(f"{args.steps} trivial steps in a chain; per-step = run time / {args.steps}")
    print(f"{'run':<22} {'Noria s':>9} {'ZenML s':>9} {'Noria ms/step':>14} "
          f"{'ZenML ms/step':>14} {'ratio':>7}")  # fmt: skip
    for label, ours, theirs in zip(labels, noria, zenml, strict=True):
        print(
            f"{label:<22} {ours:>9.3f} {theirs:>9.3f} {ours / args.steps * 1000:>14.2f} "
            f"{theirs / args.steps * 1000:>14.2f} {theirs / ours:>6.1f}x"
        )


if __name__ == "__main__":
    main()

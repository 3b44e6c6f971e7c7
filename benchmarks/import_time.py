"""How long `import noria` takes in a fresh interpreter, next to MLflow's when installed.

    .venv/bin/python benchmarks/import_time.py [--runs 15]

Prints the median wall time of a cold `python -c "import X"` minus the bare
interpreter start, and the ratio to MLflow (the incumbent) when it is importable.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import subprocess
import sys
import time


def _median_seconds(code: str, runs: int) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    runs = parser.parse_args().runs
    baseline = _median_seconds("pass", runs)
    noria_ms = (_median_seconds("import noria", runs) - baseline) * 1000
    # `import noria` is lazy; this is what a first `noria.connect` loads (SQL, HTTP, settings).
    sdk_ms = (_median_seconds("import noria; noria.connect", runs) - baseline) * 1000
    print(f"python start           {baseline * 1000:7.1f} ms (subtracted below)")
    print(f"import noria           {noria_ms:7.1f} ms   target < 300 ms")
    print(f"noria.connect loaded   {sdk_ms:7.1f} ms")
    if importlib.util.find_spec("mlflow") is None:
        print("import mlflow          not installed (pip install '.[bench]' to compare)")
        return
    mlflow_ms = (_median_seconds("import mlflow", runs) - baseline) * 1000
    print(f"import mlflow          {mlflow_ms:7.1f} ms")
    print(f"ratio import           {noria_ms / mlflow_ms:7.3f}  (noria / mlflow)")
    print(f"ratio SDK loaded       {sdk_ms / mlflow_ms:7.3f}  (noria.connect / mlflow)")


if __name__ == "__main__":
    main()

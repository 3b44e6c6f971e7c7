"""Data drift on 100,000 rows x (20 numeric + 5 categorical) columns: Noria vs Evidently.

Evidently needs pandas < 3, so it lives in its own virtualenv with Noria installed beside it:

    python3 -m venv /tmp/bench-venv
    /tmp/bench-venv/bin/pip install -e . 'evidently==0.7.23' 'pandas>=2.1,<3'
    /tmp/bench-venv/bin/python benchmarks/drift_vs_evidently.py [--rows 100000]

Both sides get the same frames (made here with a fixed seed; 3 numeric and 1 categorical
column shifted) and do the same job: a per-column drift report plus its HTML file.

- Noria: ``detect_drift_with_profiles`` on the two frames (the drift tests and both
  profiles, which the HTML is drawn from, from one read of each column),
  ``render_drift_html`` written to disk.
- Evidently: ``Report([DataDriftPreset()]).run(current, reference)`` and ``save_html``.

Each side runs alone in a fresh subprocess, one after the other, so neither competes for
the 2 cores and each peak is its own. The child imports its tool (Evidently:
``evidently.presets``; Noria: ``noria.datasets.drift`` and ``report_html``; whatever
else a tool loads during the job counts as the job's), builds the frames, records its
resident memory, runs the job timed with ``perf_counter``, and reports two figures: the
peak resident set of the process during the job (``VmHWM``, restarted just before it;
interpreter, imports and frames included) and that peak minus the memory held just
before the job, which is what the drift job itself needed. It does so twice: "cold",
the first job in a fresh process, and "warm", after a 2,000-row job has loaded the code
each tool runs (above 1,000 rows both tools pick the tests the measured job runs, so
neither loads code it will not use), timing the best of 3 runs: the figure for a
service or a pipeline that checks drift repeatedly.

The memory target (at most a third of Evidently's) is judged on the job's own peak, the
second figure: the first one also counts the interpreter, pandas and the caller's two
frames, which are the same in both processes (about 215 MiB at 100,000 rows) and which
neither tool can shed. It is printed as well, as the process peak ratio.

The headline is the pandas row: the same two DataFrames in both processes. A third,
labelled row gives Noria the same data as Arrow tables, its native input, read from
Arrow IPC files into memory (the process never imports pandas); its ratios are to the
same Evidently run.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

NUMERIC, CATEGORICAL = 20, 5
SHIFTED_NUMERIC = ("num_0", "num_7", "num_13")
SHIFTED_CATEGORICAL = ("cat_2",)
WARM_UP_ROWS = 2_000  # above 1,000 rows: both tools run the tests the measured job runs
REPEATS = 3
INSTALL = (
    "python3 -m venv /tmp/bench-venv && /tmp/bench-venv/bin/pip install -e . "
    "'evidently==0.7.23' 'pandas>=2.1,<3'"
)


def _columns(rows: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """Reference and current columns (numpy arrays); a few of the current ones shifted."""
    import numpy as np

    rng = np.random.default_rng(42)
    labels = np.array([f"level_{i}" for i in range(12)])
    weights = np.linspace(1, 3, len(labels))

    def one(shift: bool) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for i in range(NUMERIC):
            moved = shift and f"num_{i}" in SHIFTED_NUMERIC
            data[f"num_{i}"] = rng.normal(i + (0.8 if moved else 0.0), 1 + i % 5, rows)
        for i in range(CATEGORICAL):
            p = weights[::-1] if shift and f"cat_{i}" in SHIFTED_CATEGORICAL else weights
            data[f"cat_{i}"] = rng.choice(labels, rows, p=p / p.sum())
        return data

    return one(False), one(True)


def frames(rows: int) -> tuple[Any, Any]:
    """Reference and current pandas DataFrames (strings as Python objects, as usual)."""
    import pandas as pd

    reference, current = _columns(rows)
    return pd.DataFrame(reference), pd.DataFrame(current)


def write_arrow_tables(folder: Path, rows: int) -> None:
    """The same data as Arrow IPC files, for the Arrow-input child to read. (Building
    tables with ``pa.table`` imports pandas whenever it is installed; reading them does not.)"""
    import pyarrow as pa

    for side, columns in zip(("reference", "current"), _columns(rows), strict=True):
        table = pa.table(columns)
        path = str(folder / f"{side}-{rows}.arrow")
        with pa.OSFile(path, "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
            writer.write_table(table)


def arrow_tables(folder: Path, rows: int) -> tuple[Any, Any]:
    """Reference and current Arrow tables, read into memory from the files written above."""
    import pyarrow as pa

    def read(side: str) -> Any:
        with pa.OSFile(str(folder / f"{side}-{rows}.arrow")) as source:
            return pa.ipc.open_file(source).read_all()

    return read("reference"), read("current")


def _memory(field: str) -> int:
    """``VmRSS`` (resident now) or ``VmHWM`` (peak resident) of this process, in bytes."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024  # kB
    raise RuntimeError(f"no {field} in /proc/self/status")


def _reset_peak() -> None:
    """Restart ``VmHWM`` from the current resident set (Linux 4.0+), so that the peak
    measured is the job's, not one left by building the frames (which, for pandas
    frames of strings, is higher than what they hold once built)."""
    with open("/proc/self/clear_refs", "w") as clear_refs:
        clear_refs.write("5")


def _noria(reference: Any, current: Any, html: Path) -> list[str]:
    from noria.datasets.drift import detect_drift_with_profiles
    from noria.datasets.report_html import render_drift_html

    drift = detect_drift_with_profiles(current, reference)
    page = render_drift_html(drift.report, reference=drift.reference, current=drift.current)
    html.write_text(page, encoding="utf-8")
    return sorted(c.column for c in drift.report.columns if c.drifted)


def _evidently(reference: Any, current: Any, html: Path) -> list[str]:
    from evidently import Report
    from evidently.presets import DataDriftPreset

    snapshot = Report([DataDriftPreset()]).run(current, reference)
    snapshot.save_html(str(html))
    flagged = []
    for metric in snapshot.dict()["metrics"]:
        config = metric["config"]
        if config.get("type", "").endswith("ValueDrift") and metric["value"] >= config["threshold"]:
            flagged.append(config["column"])
    return sorted(flagged)


SIDES = ("noria", "evidently", "noria-arrow")


def _child(side: str, rows: int, warm: bool, data: Path) -> None:
    import warnings

    warnings.simplefilter("ignore")  # Evidently's deprecation chatter, not the measurement
    job = _evidently if side == "evidently" else _noria

    def make(size: int) -> tuple[Any, Any]:
        return arrow_tables(data, size) if side == "noria-arrow" else frames(size)

    # Imports are not part of the timed job or of "added by the job" memory.
    if side == "evidently":
        import evidently.presets  # noqa: F401
    else:
        import noria.datasets.drift
        import noria.datasets.report_html  # noqa: F401
    with tempfile.TemporaryDirectory() as scratch:
        html = Path(scratch) / "report.html"
        if warm:  # a first, small job loads the code each tool runs
            job(*make(WARM_UP_ROWS), html)
        reference, current = make(rows)
        _reset_peak()
        before = _memory("VmRSS")
        timings = []
        for _ in range(REPEATS if warm else 1):  # warm: best of a few, as timeit does
            start = time.perf_counter()
            flagged = job(reference, current, html)
            timings.append(time.perf_counter() - start)
        seconds = min(timings)
        html_bytes = html.stat().st_size
    peak = _memory("VmHWM")
    result = {
        "seconds": seconds,
        "peak": peak,
        "added": peak - before,
        "html_bytes": html_bytes,
        "flagged": flagged,
        "loaded": sorted(
            name for name in ("pandas", "duckdb", "scipy", "evidently") if name in sys.modules
        ),
    }
    print(json.dumps(result))


def _run_side(side: str, rows: int, warm: bool, data: Path) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child", side, "--rows", str(rows), "--data", str(data)]
    command += ["--warm"] if warm else []
    out = subprocess.run(command, check=True, capture_output=True, text=True)
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def _mib(size: float) -> str:
    return f"{size / 1024**2:7.1f} MiB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--child", choices=sorted(SIDES), help=argparse.SUPPRESS)
    parser.add_argument("--warm", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child, args.rows, args.warm, args.data)
        return
    if importlib.util.find_spec("evidently") is None:
        sys.exit(
            "evidently is not installed in this interpreter; it needs pandas < 3, so give "
            f"it its own virtualenv:\n  {INSTALL}\n"
            "then run this script with /tmp/bench-venv/bin/python"
        )
    from importlib.metadata import version

    print(
        f"{args.rows:,} rows x ({NUMERIC} numeric + {CATEGORICAL} categorical) columns; "
        f"evidently {version('evidently')}, pandas {version('pandas')}"
    )
    with tempfile.TemporaryDirectory() as data:
        for size in (args.rows, WARM_UP_ROWS):
            write_arrow_tables(Path(data), size)
        for warm in (False, True):
            results = {side: _run_side(side, args.rows, warm, Path(data)) for side in SIDES}
            _print_block(results, warm)
    expected = sorted(SHIFTED_NUMERIC + SHIFTED_CATEGORICAL)
    print(f"\nplanted drift: {', '.join(expected)}")


def _print_block(results: dict[str, dict[str, Any]], warm: bool) -> None:
    if warm:
        print(
            f"\nwarm: after a {WARM_UP_ROWS:,}-row job in the same process; best of {REPEATS} runs"
        )
    else:
        print("\ncold: the first job in a fresh process")
    evidently = results["evidently"]
    for name in ("noria", "evidently"):
        _print_side(name, results[name])
    _print_ratios(results["noria"], evidently, "")
    print("  Noria with Arrow tables in (its native input; no pandas in the process):")
    _print_side("noria", results["noria-arrow"])
    _print_ratios(results["noria-arrow"], evidently, " (vs evidently on pandas)")


def _print_side(name: str, side: dict[str, Any]) -> None:
    print(
        f"  {name:<10} {side['seconds']:7.2f} s   peak RSS {_mib(side['peak'])}   "
        f"added by the job {_mib(side['added'])}   HTML {_mib(side['html_bytes'])}"
    )
    print(f"  {'':<10} drifted: {', '.join(side['flagged']) or '(none)'}")
    print(f"  {'':<10} loaded: {', '.join(side['loaded']) or '(none of pandas, duckdb, scipy)'}")


def _print_ratios(noria: dict[str, Any], evidently: dict[str, Any], versus: str) -> None:
    speed_up = evidently["seconds"] / noria["seconds"]
    print(f"  speed-up           {speed_up:7.1f}x   target >= 10x{versus}")
    # The target compares the memory each tool needs for the job: the peak during it
    # above what the process held before (interpreter, libraries, the caller's frames,
    # which are the same data in both processes and no tool's doing).
    added_ratio = noria["added"] / max(evidently["added"], 1)
    print(f"  job peak ratio     {added_ratio:7.3f}    target <= 0.333{versus}")
    peak_ratio = noria["peak"] / evidently["peak"]
    print(f"  process peak ratio {peak_ratio:7.3f}    (with the frames and imports){versus}")


if __name__ == "__main__":
    main()

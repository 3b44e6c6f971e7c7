"""Profile a 10,000,000-row x 20-column Parquet file: wall time and peak memory.

    .venv/bin/python benchmarks/profile_large.py [--rows 10000000] [--keep DIR] [--sketch]

Writes the file in chunks of 500,000 rows (the writer stays small), then profiles it
with `noria.datasets.profiles.profile_parquet` in a fresh subprocess that reports its
own wall time and peak resident memory (`ru_maxrss`). Targets: under 60 s on 2 cores,
under 2 GB peak. By default 10 M rows are under the exact limit, so each numeric column
is loaded and sorted (exact quantiles); `--sketch` profiles as Noria does above that
limit, streaming everything through DuckDB (t-digest quantiles), as for data larger
than memory. For scale it also prints the table's size in pandas, extrapolated from
one chunk's `memory_usage(deep=True)`.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

CHUNK = 500_000
TARGET_SECONDS = 60.0
TARGET_RSS_BYTES = 2 * 1024**3


def _chunk(rows: int, rng: np.random.Generator) -> pa.Table:
    """12 float, 3 integer, 3 string, 1 boolean and 1 timestamp columns."""
    columns: dict[str, object] = {}
    for i in range(12):
        columns[f"num_{i}"] = rng.normal(i, 1 + i, rows)
    for i in range(3):
        columns[f"int_{i}"] = rng.integers(0, 10 ** (i + 1), rows)
    columns["country"] = rng.choice([f"country_{i}" for i in range(50)], rows)
    columns["city"] = rng.choice([f"city_{i}" for i in range(5000)], rows)
    columns["tier"] = rng.choice(["gold", "silver", "bronze", "none"], rows, p=[0.1, 0.2, 0.3, 0.4])
    columns["active"] = rng.random(rows) < 0.3
    seconds = rng.integers(0, 86_400 * 365, rows).astype("timedelta64[s]")
    columns["seen_at"] = np.datetime64("2024-01-01T00:00:00") + seconds
    return pa.table(columns)


def write_parquet(path: Path, rows: int) -> float:
    """Write ``rows`` rows chunk by chunk; returns the in-pandas size extrapolated (bytes)."""
    rng = np.random.default_rng(0)
    pandas_bytes_per_row = 0.0
    writer: pq.ParquetWriter | None = None
    try:
        for start in range(0, rows, CHUNK):
            chunk = _chunk(min(CHUNK, rows - start), rng)
            if writer is None:
                writer = pq.ParquetWriter(path, chunk.schema)
                frame = chunk.to_pandas()
                pandas_bytes_per_row = frame.memory_usage(deep=True).sum() / len(frame)
                del frame
            writer.write_table(chunk)
    finally:
        if writer is not None:
            writer.close()
    return pandas_bytes_per_row * rows


def _child(path: str, sketch: bool) -> None:
    from noria.datasets.profiles import EXACT_QUANTILE_LIMIT, profile_parquet

    start = time.perf_counter()
    profile = profile_parquet(path, exact_quantile_limit=0 if sketch else EXACT_QUANTILE_LIMIT)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB
    result = {
        "seconds": seconds,
        "peak_rss": peak,
        "rows": profile.row_count,
        "columns": len(profile.columns),
    }
    print(json.dumps(result))


def _gib(size: float) -> str:
    return f"{size / 1024**3:.2f} GiB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--keep", type=Path, help="write the Parquet file here and keep it")
    parser.add_argument("--sketch", action="store_true", help="stream: t-digest quantiles")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child, args.sketch)
        return
    with tempfile.TemporaryDirectory(prefix="noria-profile-bench-") as scratch:
        folder = args.keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "large.parquet"
        start = time.perf_counter()
        pandas_size = write_parquet(path, args.rows)
        print(f"wrote {args.rows:,} rows x 20 columns in {time.perf_counter() - start:.1f} s")
        print(f"parquet file           {_gib(path.stat().st_size)}")
        print(f"same data in pandas    {_gib(pandas_size)} (extrapolated from one chunk)")
        out = subprocess.run(
            [sys.executable, __file__, "--child", str(path)]
            + (["--sketch"] if args.sketch else []),
            check=True,
            capture_output=True,
            text=True,
        )
        result = json.loads(out.stdout.strip().splitlines()[-1])
    seconds, peak = result["seconds"], result["peak_rss"]
    mode = "sketched quantiles (streaming)" if args.sketch else "exact quantiles"
    print(f"profiled               {result['rows']:,} rows x {result['columns']} columns, {mode}")
    verdict = "ok" if seconds < TARGET_SECONDS else "MISSED"
    print(f"profile wall time      {seconds:.1f} s   target < {TARGET_SECONDS:.0f} s  {verdict}")
    verdict = "ok" if peak < TARGET_RSS_BYTES else "MISSED"
    print(f"profile peak RSS       {_gib(peak)}   target < {_gib(TARGET_RSS_BYTES)}  {verdict}")
    print(f"peak RSS / pandas size {peak / pandas_size:.2f}")


if __name__ == "__main__":
    main()

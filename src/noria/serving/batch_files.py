"""The files of a batch-scoring job: which inputs, where their outputs go, read in chunks.

An input is a Parquet or CSV file, or a folder of them (searched recursively, hidden files
skipped). A folder's outputs mirror its layout under the output folder, one Parquet file per
input. Inputs are read ``rows`` at a time and outputs written a chunk at a time, to a hidden
temporary file renamed into place at the end, so memory stays bounded by the chunk size and a
failed job never leaves a half-written output behind.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from noria.errors import AlreadyExists, InvalidArgument, NotFound

if TYPE_CHECKING:
    import pyarrow as pa
    import pyarrow.parquet as pq

PARQUET_SUFFIXES = (".parquet", ".pq")
CSV_SUFFIXES = (".csv", ".csv.gz", ".csv.bz2", ".csv.zst", ".tsv")
_CSV_BLOCK_BYTES = 4 << 20


@dataclass(frozen=True, slots=True)
class ScoringTask:
    """One input file and the Parquet file its predictions go to."""

    input: Path
    output: Path


def plan_files(source: Path, target: Path, *, overwrite: bool = False) -> list[ScoringTask]:
    """The input → output pairs for ``source`` (a file or a folder) and ``target``.

    A file's output is ``target`` itself, or ``target/<stem>.parquet`` when ``target`` is an
    existing folder. Existing outputs are refused unless ``overwrite``.
    """
    if not source.exists():
        raise NotFound(f"Input {source} does not exist: check the path.")
    if source.is_dir():
        inputs = _inputs_under(source)
        if target.is_file():
            raise InvalidArgument(
                f"Input {source} is a folder, so --output must be a folder; {target} is a file."
            )
        tasks = [
            ScoringTask(path, target / _output_name(path.relative_to(source))) for path in inputs
        ]
    else:
        _check_format(source)
        output = target / _output_name(Path(source.name)) if target.is_dir() else target
        tasks = [ScoringTask(source, output)]
    for task in tasks:
        if task.output.resolve() == task.input.resolve():
            raise InvalidArgument(f"Output {task.output} is the input file; choose another path.")
        if task.output.exists() and not overwrite:
            raise AlreadyExists(
                f"Output {task.output} already exists; pass --overwrite to replace it."
            )
    return tasks


def _inputs_under(folder: Path) -> list[Path]:
    found = sorted(
        path
        for path in folder.rglob("*")
        if path.is_file()
        and not any(part.startswith((".", "_")) for part in path.relative_to(folder).parts)
        and path.name.lower().endswith(PARQUET_SUFFIXES + CSV_SUFFIXES)
    )
    if not found:
        raise NotFound(
            f"Folder {folder} holds no Parquet (.parquet, .pq) or CSV (.csv, .tsv) files."
        )
    return found


def _check_format(path: Path) -> None:
    if not path.name.lower().endswith(PARQUET_SUFFIXES + CSV_SUFFIXES):
        raise InvalidArgument(
            f"Cannot tell the format of {path}: name it *.parquet or *.csv (or .tsv, .csv.gz)."
        )


def _output_name(relative: Path) -> Path:
    name = relative.name
    for suffix in PARQUET_SUFFIXES + CSV_SUFFIXES:
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
            break
    return relative.with_name(f"{name}.parquet")


def is_parquet(path: Path) -> bool:
    return path.name.lower().endswith(PARQUET_SUFFIXES)


def input_columns(path: Path) -> list[str]:
    """The column names of an input file, from its footer or first CSV block."""
    import pyarrow as pa

    try:
        if is_parquet(path):
            return list(_parquet(path).schema_arrow.names)
        with contextlib.closing(_csv_reader(path)) as reader:
            return list(reader.schema.names)
    except (pa.ArrowException, OSError) as exc:
        raise _unreadable(path, exc) from None


def row_count(path: Path) -> int | None:
    """Rows in a Parquet file (from its footer); None for CSV, which would need a full read."""
    if not is_parquet(path):
        return None
    return int(_parquet(path).metadata.num_rows)


def read_chunks(path: Path, rows: int) -> Iterator[pa.Table]:
    """The file's rows, ``rows`` at a time (the last chunk may be shorter)."""
    import pyarrow as pa

    try:
        if is_parquet(path):
            batches = _parquet(path).iter_batches(batch_size=rows)
        else:
            batches = iter(_csv_reader(path))
        yield from rechunk(batches, rows)
    except (pa.ArrowException, OSError) as exc:
        raise _unreadable(path, exc) from None


def rechunk(batches: Iterator[pa.RecordBatch], rows: int) -> Iterator[pa.Table]:
    """Tables of exactly ``rows`` rows from batches of any size (the last may be shorter)."""
    import pyarrow as pa

    waiting: list[pa.RecordBatch] = []
    count = 0
    for batch in batches:
        waiting.append(batch)
        count += batch.num_rows
        while count >= rows:
            table = pa.Table.from_batches(waiting)
            yield table.slice(0, rows)
            rest = table.slice(rows)
            waiting, count = rest.to_batches(), rest.num_rows
    if count:
        yield pa.Table.from_batches(waiting)


def _parquet(path: Path) -> pq.ParquetFile:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        return pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as exc:
        raise _unreadable(path, exc) from None


def _csv_reader(path: Path) -> pa.RecordBatchReader:
    import pyarrow as pa
    from pyarrow import csv

    tab = path.name.lower().endswith(".tsv")
    return csv.open_csv(
        pa.input_stream(str(path), compression="detect"),
        read_options=csv.ReadOptions(block_size=_CSV_BLOCK_BYTES),
        parse_options=csv.ParseOptions(delimiter="\t" if tab else ","),
    )


def _unreadable(path: Path, exc: BaseException) -> InvalidArgument:
    kind = "Parquet" if is_parquet(path) else "CSV"
    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return InvalidArgument(f"{path} is not readable as {kind}: {detail.rstrip('.')}.")


class ChunkWriter:
    """Writes tables to ``path`` as one Parquet file, visible only once :meth:`commit` runs."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._partial = path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}.part")
        self._writer: pq.ParquetWriter | None = None
        self._schema: pa.Schema | None = None

    def write(self, table: pa.Table) -> None:
        import pyarrow.parquet as pq

        if self._writer is None or self._schema is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._schema = table.schema
            self._writer = pq.ParquetWriter(self._partial, self._schema, compression="zstd")
        elif not table.schema.equals(self._schema):
            table = _conformed(table, self._schema, self.path)
        self._writer.write_table(table)

    def commit(self) -> None:
        if self._writer is None:
            raise InvalidArgument(f"Nothing was written for {self.path}.")
        self._writer.close()
        os.replace(self._partial, self.path)

    def discard(self) -> None:
        if self._writer is not None:
            with contextlib.suppress(Exception):
                self._writer.close()
        with contextlib.suppress(OSError):
            self._partial.unlink()


def _conformed(table: pa.Table, schema: pa.Schema, path: Path) -> pa.Table:
    """A later chunk cast to the first chunk's column types (e.g. an all-null chunk)."""
    import pyarrow as pa

    if table.column_names != schema.names:
        raise InvalidArgument(
            f"Output {path}: a chunk has columns {table.column_names}, the first had "
            f"{schema.names}; the model's output changed shape between chunks."
        )
    try:
        return table.cast(schema)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as exc:
        raise InvalidArgument(
            f"Output {path}: a chunk's types differ from the first chunk's ({exc}); make the "
            "column types consistent across the input."
        ) from None

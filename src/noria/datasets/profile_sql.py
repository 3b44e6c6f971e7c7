"""DuckDB sources for profiling and the one-scan query of every column's basic statistics.

DuckDB runs with two threads, a memory limit and a spill folder, so a profile of data
larger than memory streams through it in batches instead of loading it.
"""

from __future__ import annotations

import glob
import tempfile
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from noria.datasets.profile_kinds import column_kind
from noria.errors import InvalidArgument, NotFound

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

    from noria.datasets.profiles import ColumnKind

THREADS = 2
MEMORY_LIMIT = "1GB"
RELATION = "noria_profile_source"


@dataclass(frozen=True)
class ColumnSpec:
    """A column as the SQL sees it: quoted name, kind, and the expression of its usable values."""

    name: str
    kind: ColumnKind
    arrow_type: str
    is_float: bool

    @property
    def quoted(self) -> str:
        return '"' + self.name.replace('"', '""') + '"'

    @property
    def value(self) -> str:
        """Usable values: for floats NaN and ±inf become NULL; numbers are DOUBLE."""
        if self.is_float:
            return f"CASE WHEN isfinite({self.quoted}) THEN CAST({self.quoted} AS DOUBLE) END"
        if self.kind == "numeric":
            return f"CAST({self.quoted} AS DOUBLE)"
        if self.kind == "boolean":
            return f"CASE WHEN {self.quoted} THEN 'true' WHEN NOT {self.quoted} THEN 'false' END"
        if self.kind == "categorical":
            return f"CAST({self.quoted} AS VARCHAR)"
        return self.quoted


@dataclass(frozen=True)
class Source:
    """A DuckDB connection with the data as ``RELATION``; one query at a time, from any thread."""

    connection: duckdb.DuckDBPyConnection
    columns: list[ColumnSpec]
    rows: int  # known before scanning, from the Arrow table or the Parquet footers
    lock: threading.Lock = field(default_factory=threading.Lock)

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        with self.lock:
            return self.connection.execute(sql).fetchall()

    def arrow(self, sql: str) -> pa.Table:
        with self.lock:
            return self.connection.sql(sql).to_arrow_table()


@dataclass(frozen=True)
class Basics:
    """What the first scan learns of one column."""

    count: int
    null_count: int
    infinite_count: int
    distinct_estimate: int
    mean: float | None = None
    std: float | None = None
    min: float | str | None = None
    max: float | str | None = None
    loaded: bool = False  # numeric: nothing scanned; the values are loaded and counted later
    distinct_exact: bool = False  # counted, not estimated (in-memory tables)


def column_spec(name: str, arrow_type: pa.DataType) -> ColumnSpec:
    import pyarrow as pa

    is_dictionary = pa.types.is_dictionary(arrow_type)
    value_type = arrow_type.value_type if is_dictionary else arrow_type
    return ColumnSpec(
        name=name,
        kind=column_kind(arrow_type),
        arrow_type=str(arrow_type),
        is_float=pa.types.is_floating(value_type),
    )


def _specs(schema: pa.Schema) -> list[ColumnSpec]:
    return [column_spec(entry.name, entry.type) for entry in schema]


@contextmanager
def _connection() -> Iterator[duckdb.DuckDBPyConnection]:
    import duckdb

    with tempfile.TemporaryDirectory(prefix="noria-profile-") as spill:
        config: dict[str, str | bool | int | float | list[str]] = {
            "threads": THREADS,
            "memory_limit": MEMORY_LIMIT,
            "temp_directory": spill,
            "preserve_insertion_order": False,
        }
        connection = duckdb.connect(config=config)
        try:
            _utc(connection)
            yield connection
        finally:
            connection.close()


def _utc(connection: duckdb.DuckDBPyConnection) -> None:
    """Time-zone-aware minima and maxima in UTC, whatever the machine's zone, as the
    in-memory engine writes them (without the ICU extension DuckDB uses UTC anyway)."""
    import duckdb

    with suppress(duckdb.Error):
        connection.execute("SET TimeZone = 'UTC'")


@contextmanager
def arrow_source(table: pa.Table) -> Iterator[Source]:
    with _connection() as connection:
        connection.register(RELATION, table)
        yield Source(connection, _specs(table.schema), table.num_rows)


def resolve_parquet_files(path: str | Path | Sequence[str | Path]) -> list[str]:
    """Every Parquet file a path, folder, glob or list of them names, in a stable order."""
    items = [path] if isinstance(path, str | Path) else list(path)
    if not items:
        raise InvalidArgument("no Parquet path given; pass a file, a folder, a glob or a list")
    files: list[str] = []
    for item in items:
        text = str(item)
        if any(char in text for char in "*?["):
            matches = sorted(glob.glob(text, recursive=True))
            if not matches:
                raise NotFound(f"the glob {text!r} matches no file")
            files.extend(matches)
        elif Path(text).is_dir():
            found = sorted(str(p) for p in Path(text).rglob("*.parquet") if p.is_file())
            if not found:
                raise NotFound(f"the folder {text!r} holds no *.parquet file")
            files.extend(found)
        elif Path(text).is_file():
            files.append(text)
        else:
            raise NotFound(f"no such Parquet file or folder: {text!r}")
    return files


def _parquet_schema(files: list[str]) -> tuple[pa.Schema, int]:
    """The files' common schema and their total row count, from the footers alone."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schemas, rows = [], 0
    for file in files:
        try:
            metadata = pq.read_metadata(file)
            schemas.append(metadata.schema.to_arrow_schema())
            rows += metadata.num_rows
        except (pa.ArrowInvalid, OSError) as exc:
            raise InvalidArgument(
                f"{file!r} is not a readable Parquet file ({exc}); "
                "write it with pyarrow/pandas .to_parquet or pick another path"
            ) from None
    try:
        return pa.unify_schemas(schemas), rows
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise InvalidArgument(
            f"the Parquet files disagree on their columns' types ({exc}); "
            "profile them separately or rewrite them with one schema"
        ) from None


@contextmanager
def parquet_source(path: str | Path | Sequence[str | Path]) -> Iterator[Source]:
    files = resolve_parquet_files(path)
    schema, rows = _parquet_schema(files)
    with _connection() as connection:
        connection.read_parquet(files, union_by_name=True).create_view(RELATION)
        yield Source(connection, _specs(schema), rows)


def _aggregates(spec: ColumnSpec, index: int) -> list[str]:
    """Select-list items ``c{index}_*`` for one column."""
    q, v, p = spec.quoted, spec.value, f"c{index}_"
    nulls = f"count(*) FILTER (WHERE {q} IS NULL OR isnan({q}))" if spec.is_float else None
    items = [
        f"count({v}) AS {p}count",
        f"{nulls or f'count(*) - count({q})'} AS {p}nulls",
        f"count(*) FILTER (WHERE isinf({q})) AS {p}inf" if spec.is_float else f"0 AS {p}inf",
    ]
    if spec.kind == "numeric":
        items += [
            f"approx_count_distinct({v}) AS {p}distinct",
            f"avg({v}) AS {p}mean",
            f"stddev_pop({v}) AS {p}std",
            f"min({v}) AS {p}min",
            f"max({v}) AS {p}max",
        ]
    elif spec.kind == "datetime":
        items += [
            f"approx_count_distinct({q}) AS {p}distinct",
            f"CAST(min({q}) AS VARCHAR) AS {p}min",
            f"CAST(max({q}) AS VARCHAR) AS {p}max",
        ]
    elif spec.kind == "other":
        items.append(f"approx_count_distinct(hash({q})) AS {p}distinct")
    else:
        items.append(f"approx_count_distinct({q}) AS {p}distinct")
    return items


def scan_basics(source: Source, *, exact_quantile_limit: int) -> tuple[int, list[Basics]]:
    """One scan of the whole table: its row count and every column's :class:`Basics`."""
    items = ["count(*) AS row_count"]
    loaded = source.rows <= exact_quantile_limit
    for index, spec in enumerate(source.columns):
        if not (loaded and spec.kind == "numeric"):
            items += _aggregates(spec, index)
    table = source.arrow(f"SELECT {', '.join(items)} FROM {RELATION}")
    values = {name: table.column(name)[0].as_py() for name in table.column_names}
    basics = []
    for index in range(len(source.columns)):
        p = f"c{index}_"
        if p + "count" not in values:
            basics.append(Basics(0, 0, 0, 0, loaded=True))
            continue
        basics.append(
            Basics(
                count=int(values[p + "count"]),
                null_count=int(values[p + "nulls"]),
                infinite_count=int(values[p + "inf"]),
                distinct_estimate=int(values.get(p + "distinct", 0)),
                mean=values.get(p + "mean"),
                std=values.get(p + "std"),
                min=values.get(p + "min"),
                max=values.get(p + "max"),
            )
        )
    return int(values["row_count"]), basics

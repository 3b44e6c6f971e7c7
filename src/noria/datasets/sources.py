"""Open what users ingest — a DataFrame, an Arrow table, CSV, Parquet, a SQL query — as
one stream of Arrow record batches, with errors that name the file, column and fix."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from noria.datasets.arrow_types import dataframe_to_arrow, is_dataframe
from noria.domain.datasets import SourceType
from noria.errors import InvalidArgument, NotFound

if TYPE_CHECKING:
    import pyarrow as pa

CSV_SUFFIXES = (".csv", ".csv.gz", ".csv.bz2", ".csv.zst", ".tsv", ".txt")
PARQUET_SUFFIXES = (".parquet", ".pq")
_CSV_BLOCK_BYTES = 16 << 20  # types are inferred from the first block: make it a big one


@dataclass(frozen=True)
class SqlQuery:
    """Rows of ``query`` on the database at ``url`` (any SQLAlchemy URL)."""

    url: str
    query: str


@dataclass
class OpenedSource:
    """A source as Arrow batches; ``batches`` may be read once."""

    schema: pa.Schema
    batches: Iterator[pa.RecordBatch]
    source_type: SourceType
    description: str


def open_source(source: Any) -> OpenedSource:
    """A DataFrame, Arrow table or batch, CSV/Parquet path (file or folder), or SqlQuery."""
    import pyarrow as pa

    if isinstance(source, SqlQuery):
        return _from_sql(source)
    if isinstance(source, str | Path):
        return _from_path(Path(source).expanduser())
    if isinstance(source, pa.Table):
        return _from_table(source, SourceType.ARROW, "arrow table")
    if isinstance(source, pa.RecordBatch):
        return _from_table(pa.Table.from_batches([source]), SourceType.ARROW, "arrow batch")
    if is_dataframe(source):
        return _from_table(dataframe_to_arrow(source), SourceType.PANDAS, "pandas DataFrame")
    raise InvalidArgument(
        f"Cannot ingest a {type(source).__name__}: pass a pandas DataFrame, a pyarrow Table, "
        "a CSV or Parquet path (file or folder), or SqlQuery(url, query)."
    )


def _from_table(table: pa.Table, source_type: SourceType, description: str) -> OpenedSource:
    return OpenedSource(table.schema, iter(table.to_batches()), source_type, description)


def _from_path(path: Path) -> OpenedSource:
    if not path.exists():
        raise NotFound(f"{path} does not exist: check the path.")
    name = path.name.lower()
    if path.is_dir() or name.endswith(PARQUET_SUFFIXES):
        return _from_parquet(path)
    if name.endswith(CSV_SUFFIXES):
        return _from_csv(path)
    raise InvalidArgument(
        f"Cannot tell the format of {path}: name it *.csv (or .tsv, .csv.gz) or *.parquet, "
        "or pass a folder of Parquet files."
    )


def _from_parquet(path: Path) -> OpenedSource:
    import pyarrow as pa
    import pyarrow.dataset as ds

    try:
        dataset = ds.dataset(path, format="parquet", exclude_invalid_files=False)
        if path.is_dir() and not dataset.files:
            raise InvalidArgument(f"Folder {path} holds no Parquet files.")
        scanner = dataset.scanner(batch_size=65_536)
        schema = scanner.projected_schema
    except (pa.ArrowInvalid, OSError) as exc:
        raise InvalidArgument(f"{path} is not readable as Parquet: {_first_line(exc)}.") from None
    return OpenedSource(
        schema,
        _guarded(scanner.to_batches(), path, "Parquet"),
        SourceType.PARQUET,
        path.resolve().as_uri(),
    )


def _from_csv(path: Path) -> OpenedSource:
    import pyarrow as pa
    from pyarrow import csv

    tab = path.name.lower().endswith(".tsv")
    try:
        reader = csv.open_csv(
            pa.input_stream(str(path), compression="detect"),
            read_options=csv.ReadOptions(block_size=_CSV_BLOCK_BYTES),
            parse_options=csv.ParseOptions(delimiter="\t" if tab else ","),
        )
    except (pa.ArrowInvalid, OSError) as exc:
        raise InvalidArgument(f"{path} is not readable as CSV: {_first_line(exc)}.") from None
    return OpenedSource(
        reader.schema, _guarded(iter(reader), path, "CSV"), SourceType.CSV, path.resolve().as_uri()
    )


def _guarded(batches: Iterator[pa.RecordBatch], path: Path, kind: str) -> Iterator[pa.RecordBatch]:
    """Errors found mid-file (a value of another type far down a column) as one line."""
    import pyarrow as pa

    try:
        yield from batches
    except (pa.ArrowInvalid, OSError) as exc:
        message = _first_line(exc)
        hint = ""
        if "conversion error" in message:
            hint = (
                " The column mixes value types: fix the value, or ingest the column as text "
                "(read it with pandas, .astype(str), then ingest the DataFrame)."
            )
        raise InvalidArgument(f"{kind} file {path}: {message}.{hint}") from None


def _from_sql(source: SqlQuery) -> OpenedSource:
    import pandas as pd
    import sqlalchemy
    from sqlalchemy.exc import SQLAlchemyError

    try:
        engine = sqlalchemy.create_engine(source.url)
    except (SQLAlchemyError, ValueError) as exc:
        raise InvalidArgument(
            f"Invalid SQL source URL {source.url!r}: {_first_line(exc)}; "
            "use a SQLAlchemy URL such as sqlite:///data.db."
        ) from None
    try:
        with engine.connect() as connection:
            result = connection.execute(sqlalchemy.text(source.query))
            frame = pd.DataFrame.from_records(result.fetchall(), columns=list(result.keys()))
    except SQLAlchemyError as exc:
        raise InvalidArgument(
            f"The SQL query failed on {engine.url.render_as_string(hide_password=True)}: "
            f"{_first_line(exc)}."
        ) from None
    finally:
        engine.dispose()
    table = dataframe_to_arrow(frame)
    description = f"{engine.url.render_as_string(hide_password=True)} :: {source.query}"
    return _from_table(table, SourceType.SQL, description)


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0].rstrip(".") if str(exc).strip() else type(exc).__name__


def read_table(source: Any) -> pa.Table:
    """All of a source's rows in memory, as one Arrow table."""
    import pyarrow as pa

    opened = open_source(source)
    return pa.Table.from_batches(list(opened.batches), schema=opened.schema)

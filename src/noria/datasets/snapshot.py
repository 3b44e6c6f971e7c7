"""Write a source's batches to one Parquet file while computing its content digest.

The digest hashes the rows in a canonical form (Arrow IPC of fixed-size chunks, without
schema metadata, ``large_string`` as ``string``, dictionaries decoded), so the same rows and
types give the same digest whether they came from a DataFrame, CSV or Parquet, in any chunking.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from noria.domain.datasets import ColumnInfo
from noria.errors import InvalidArgument

if TYPE_CHECKING:
    import pyarrow as pa

    from noria.datasets.sources import OpenedSource

CANONICAL_CHUNK_ROWS = 65_536
ROW_GROUP_ROWS = 131_072


@dataclass(frozen=True)
class Snapshot:
    path: Path
    digest: str
    row_count: int
    size_bytes: int
    columns: tuple[ColumnInfo, ...]


class _HashSink:
    """A write-only file that only hashes what it is given."""

    def __init__(self) -> None:
        self.hash = hashlib.sha256()
        self.closed = False

    def write(self, data: bytes) -> int:
        self.hash.update(data)
        return len(data)

    def flush(self) -> None:
        """Nothing is buffered."""

    def close(self) -> None:
        self.closed = True


def canonical_schema(schema: pa.Schema) -> pa.Schema:
    import pyarrow as pa

    fields = []
    for field in schema:
        type_ = field.type
        if pa.types.is_dictionary(type_):
            type_ = type_.value_type  # stored plainly: Parquet dictionary-encodes on its own
        if pa.types.is_large_string(type_):
            type_ = pa.string()
        elif pa.types.is_large_binary(type_):
            type_ = pa.binary()
        fields.append(pa.field(field.name, type_, nullable=True))
    return pa.schema(fields)


def write_snapshot(
    opened: OpenedSource, path: Path, *, progress: Callable[[int], None] | None = None
) -> Snapshot:
    """Stream ``opened`` into ``path`` (zstd Parquet); memory stays at a few chunks."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = canonical_schema(opened.schema)
    _check_columns(schema)
    sink = _HashSink()
    rows = 0
    with (
        pa.ipc.new_stream(sink, schema) as hasher,
        pq.ParquetWriter(path, schema, compression="zstd", write_statistics=True) as writer,
    ):
        for chunk in _rechunk(_cast(opened.batches, schema), CANONICAL_CHUNK_ROWS):
            hasher.write_batch(chunk)
            writer.write_batch(chunk, row_group_size=ROW_GROUP_ROWS)
            rows += chunk.num_rows
            if progress is not None:
                progress(rows)
    if rows == 0:
        raise InvalidArgument(
            f"{opened.description} has no rows: there is nothing to version. "
            "Check the file or the query."
        )
    columns = tuple(ColumnInfo(field.name, str(field.type)) for field in schema)
    return Snapshot(path, sink.hash.hexdigest(), rows, path.stat().st_size, columns)


def _check_columns(schema: pa.Schema) -> None:
    if len(schema) == 0:
        raise InvalidArgument("The table has no columns: there is nothing to version.")
    names = schema.names
    if dupes := sorted({name for name in names if names.count(name) > 1}):
        raise InvalidArgument(
            f"Column names must be unique; {', '.join(map(repr, dupes))} appear more than once."
        )
    if "" in names:
        raise InvalidArgument("A column has an empty name: name every column.")


def _cast(batches: Iterator[pa.RecordBatch], schema: pa.Schema) -> Iterator[pa.RecordBatch]:
    for batch in batches:
        yield batch if batch.schema.equals(schema) else batch.cast(schema)


def _rechunk(batches: Iterator[pa.RecordBatch], size: int) -> Iterator[pa.RecordBatch]:
    """Batches of exactly ``size`` rows (the last may be shorter), as fresh buffers."""

    pending: list[pa.RecordBatch] = []
    count = 0
    for batch in batches:
        offset = 0
        while offset < batch.num_rows:
            take = min(size - count, batch.num_rows - offset)
            pending.append(batch.slice(offset, take))
            count += take
            offset += take
            if count == size:
                yield _combine(pending)
                pending, count = [], 0
    if count:
        yield _combine(pending)


def _combine(pieces: list[pa.RecordBatch]) -> pa.RecordBatch:
    import pyarrow as pa

    # A slice keeps its parent's buffers and offsets, which IPC writes as they are;
    # concatenating with an empty array copies into fresh buffers, so the bytes hashed
    # do not depend on where the source's own batches happened to start.
    table = pa.Table.from_batches(pieces)
    arrays = [
        pa.concat_arrays([*column.chunks, pa.array([], column.type)]) for column in table.columns
    ]
    return pa.RecordBatch.from_arrays(arrays, schema=table.schema)

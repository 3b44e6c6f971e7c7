"""Module-level data API on the default client (``NORIA_*`` settings), like ``noria.start_run``.

>>> import noria.data
>>> version = noria.data.ingest("credit.csv", name="credit")
>>> report = noria.data.drift("new.parquet", reference=version.uri)

Every function takes ``client=`` to use an explicit :class:`~noria.client.Client` instead.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from noria.client import Client, default_client
from noria.datasets import analysis
from noria.datasets.analysis import DriftResult
from noria.datasets.service import TableFormat
from noria.datasets.sources import SqlQuery
from noria.domain.datasets import Dataset, DatasetVersion, SchemaRevision
from noria.domain.paging import Page
from noria.fluent import active_run

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

    from noria.datasets.profiles import DatasetProfile
    from noria.datasets.schema import DatasetSchema
    from noria.datasets.validation import Check, ValidationReport

__all__ = [
    "DriftResult",
    "SqlQuery",
    "drift",
    "get",
    "ingest",
    "list_datasets",
    "load",
    "profile",
    "schema",
    "set_schema",
    "validate",
    "versions",
]


def _client(client: Client | None) -> Client:
    return client if client is not None else default_client()


def ingest(
    source: Any, *, name: str, description: str = "", client: Client | None = None
) -> DatasetVersion:
    """Snapshot a DataFrame, Arrow table, CSV/Parquet path or :class:`SqlQuery` as a version.

    Identical content is the same version, stored once. Inside ``noria.start_run()`` the
    version records the run that made it (lineage: run → produced → version).
    """
    run = active_run()
    version, _ = _client(client).datasets.ingest(
        source, name=name, description=description, run_id=run.id if run else None
    )
    return version


def get(uri: str, *, client: Client | None = None) -> DatasetVersion:
    """``datasets:/name/3``, ``datasets:/name@latest`` or a bare name (its newest version)."""
    return _client(client).datasets.get(uri)


def load(
    uri: str | DatasetVersion,
    *,
    format: TableFormat = "pandas",
    columns: list[str] | None = None,
    client: Client | None = None,
) -> pd.DataFrame | pa.Table:
    return _client(client).datasets.load(uri, format=format, columns=columns)


def list_datasets(*, name_like: str | None = None, client: Client | None = None) -> Page[Dataset]:
    return _client(client).datasets.list_datasets(name_like=name_like)


def versions(name: str, *, client: Client | None = None) -> Page[DatasetVersion]:
    """Newest first."""
    return _client(client).datasets.versions(name)


def schema(uri: str | DatasetVersion, *, client: Client | None = None) -> DatasetSchema:
    return _client(client).datasets.schema(uri)


def set_schema(
    uri: str | DatasetVersion,
    new_schema: DatasetSchema | str,
    *,
    note: str = "",
    client: Client | None = None,
) -> SchemaRevision:
    """Store an edited schema (object or YAML text) as the version's next revision."""
    return _client(client).datasets.set_schema(uri, new_schema, note=note)


def profile(data: Any, *, client: Client | None = None) -> DatasetProfile:
    """A version's stored profile, or a new one of a path, DataFrame or table."""
    return analysis.profile_of(_client(client).datasets, data)


def validate(
    data: Any,
    reference: Any,
    *,
    checks: Sequence[Check] = (),
    client: Client | None = None,
) -> ValidationReport:
    """Anomalies of ``data`` against a version's schema, a schema file or a DatasetSchema."""
    return analysis.validate(_client(client).datasets, data, reference, checks=checks)


def drift(
    current: Any,
    reference: Any,
    *,
    columns: Sequence[str] | None = None,
    tests: Mapping[str, str] | None = None,
    thresholds: Mapping[str, float] | None = None,
    share_threshold: float = 0.5,
    client: Client | None = None,
) -> DriftResult:
    """Per-column drift tests; ``.report`` for the figures, ``.html()`` for the page."""
    return analysis.drift(
        _client(client).datasets,
        current,
        reference,
        columns=columns,
        tests=tests,
        thresholds=thresholds,
        share_threshold=share_threshold,
    )

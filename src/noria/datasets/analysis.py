"""Validation and drift against a dataset version, reusing what ingest stored.

Drift against a version reads its stored profile, so the reference rows are never
re-read or re-profiled.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from noria.datasets.service import DatasetService
from noria.datasets.sources import read_table
from noria.domain.datasets import DatasetVersion
from noria.errors import InvalidArgument

if TYPE_CHECKING:
    import pyarrow as pa

    from noria.datasets.drift import DriftReport
    from noria.datasets.profiles import DatasetProfile
    from noria.datasets.schema import DatasetSchema
    from noria.datasets.validation import Check, ValidationReport

SCHEMA_SUFFIXES = (".yaml", ".yml")


def is_dataset_uri(value: object) -> bool:
    return isinstance(value, DatasetVersion) or (
        isinstance(value, str) and value.startswith("datasets:")
    )


def table_of(service: DatasetService, data: Any) -> pa.Table:
    """Rows of a dataset URI or version, a path, a DataFrame or an Arrow table."""
    if is_dataset_uri(data):
        table: pa.Table = service.load(data, format="arrow")
        return table
    return read_table(data)


def schema_of(service: DatasetService, reference: Any) -> DatasetSchema:
    """A schema object, a schema YAML file, or a dataset version's current schema."""
    from noria.datasets.schema import DatasetSchema
    from noria.datasets.schema_yaml import schema_from_yaml

    if isinstance(reference, DatasetSchema):
        return reference
    if is_dataset_uri(reference):
        return service.schema(reference)
    if isinstance(reference, str | Path) and str(reference).lower().endswith(SCHEMA_SUFFIXES):
        path = Path(reference).expanduser()
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise InvalidArgument(f"Cannot read schema file {path}: {exc.strerror}.") from None
        return schema_from_yaml(text, source=str(path))
    raise InvalidArgument(
        f"Cannot use {reference!r} as a schema: pass a dataset URI (datasets:/name/3), "
        "a schema YAML file, or a DatasetSchema."
    )


def validate(
    service: DatasetService, data: Any, reference: Any, *, checks: Sequence[Check] = ()
) -> ValidationReport:
    """Check ``data`` against the reference's schema; see :mod:`noria.datasets.validation`."""
    from noria.datasets.validation import validate_table

    schema = schema_of(service, reference)
    return validate_table(table_of(service, data), schema, checks=checks)


def profile_of(service: DatasetService, data: Any) -> DatasetProfile:
    """A version's stored profile, or a fresh one of a path, DataFrame or table."""
    from noria.datasets.profiles import DatasetProfile, profile_parquet, profile_table

    if isinstance(data, DatasetProfile):
        return data
    if is_dataset_uri(data):
        return service.profile(data)
    if isinstance(data, str | Path) and _is_parquet(Path(data)):
        return profile_parquet(Path(data).expanduser())  # streamed: bounded memory
    return profile_table(read_table(data))


def _is_parquet(path: Path) -> bool:
    return path.is_dir() or path.name.lower().endswith((".parquet", ".pq"))


@dataclass(frozen=True)
class DriftResult:
    report: DriftReport
    reference: DatasetProfile
    current: DatasetProfile

    def html(self, *, title: str = "Noria drift report") -> str:
        from noria.datasets.report_html import render_drift_html

        return render_drift_html(
            self.report, reference=self.reference, current=self.current, title=title
        )


def drift(
    service: DatasetService,
    current: Any,
    reference: Any,
    *,
    columns: Sequence[str] | None = None,
    tests: Mapping[str, str] | None = None,
    thresholds: Mapping[str, float] | None = None,
    share_threshold: float = 0.5,
) -> DriftResult:
    """Per-column drift of ``current`` against ``reference`` (a version's stored profile,
    or a table), with both profiles for the report."""
    from noria.datasets.drift import detect_drift_with_profiles

    reference_side: Any = (
        profile_of(service, reference)
        if is_dataset_uri(reference)
        else table_of(service, reference)
    )
    profiled = detect_drift_with_profiles(
        table_of(service, current),
        reference_side,
        columns=columns,
        tests=tests,
        thresholds=thresholds,
        share_threshold=share_threshold,
    )
    return DriftResult(profiled.report, profiled.reference, profiled.current)

"""Dataset versions end to end: ingest, resolve, load, and the schema and profile of each.

>>> version = client.datasets.ingest("credit.csv", name="credit")
>>> client.datasets.load("datasets:/credit@latest").shape
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from noria.artifacts import ArtifactStore
from noria.audit import AuditLog
from noria.datasets.snapshot import write_snapshot
from noria.datasets.sources import open_source
from noria.domain.artifacts import Digest
from noria.domain.datasets import (
    Dataset,
    DatasetVersion,
    NewDatasetVersion,
    SchemaRevision,
    check_dataset_name,
)
from noria.domain.entities import EntityKind, EntityRef
from noria.domain.lineage import Relation
from noria.domain.paging import Page
from noria.domain.uris import DatasetAliasUri, DatasetUri, DatasetVersionUri, parse_uri
from noria.errors import InvalidArgument
from noria.lineage import LineageService
from noria.ports.datasets import DatasetRepo

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

    from noria.datasets.profiles import DatasetProfile
    from noria.datasets.schema import DatasetSchema

Progress = Callable[[str, int | None], None]  # (stage, rows so far)
TableFormat = Literal["pandas", "arrow"]


class DatasetService:
    """Datasets over one catalogue repo and one artifact store."""

    def __init__(
        self,
        repo: DatasetRepo,
        artifacts: ArtifactStore,
        lineage: LineageService,
        audit: AuditLog,
        *,
        user: str,
        cache_dir: Path,
    ) -> None:
        self.repo = repo
        self._artifacts = artifacts
        self._lineage = lineage
        self._audit = audit
        self._user = user
        self._cache_dir = cache_dir

    # -- ingest ------------------------------------------------------------------

    def ingest(
        self,
        source: Any,
        *,
        name: str,
        description: str = "",
        run_id: str | None = None,
        progress: Progress | None = None,
    ) -> tuple[DatasetVersion, bool]:
        """Snapshot ``source`` as a version of ``name``; same content → the same version.

        Returns the version and whether it is new. ``run_id`` records the run that made it.
        """
        check_dataset_name(name)
        opened = open_source(source)
        with tempfile.TemporaryDirectory(prefix="noria-ingest-") as folder:
            path = Path(folder) / "data.parquet"
            rows = None if progress is None else (lambda n: progress("reading", n))
            snapshot = write_snapshot(opened, path, progress=rows)
            existing = self.repo.find_version(name, snapshot.digest)
            if existing is not None:
                return existing, False
            _report(progress, "profiling", snapshot.row_count)
            profile_json, schema_yaml = _describe(path)
            _report(progress, "storing", snapshot.row_count)
            data = self._artifacts.put_file(path, media_type="application/vnd.apache.parquet")
        new = NewDatasetVersion(
            name=name,
            digest=snapshot.digest,
            data_digest=data.digest.hex,
            profile_digest=self._artifacts.put_bytes(profile_json.encode()).digest.hex,
            schema_digest=self._artifacts.put_bytes(schema_yaml.encode()).digest.hex,
            row_count=snapshot.row_count,
            size_bytes=snapshot.size_bytes,
            columns=snapshot.columns,
            source_type=opened.source_type,
            source=opened.description[:2000],
            created_by=self._user,
            run_id=run_id,
            description=description,
        )
        version, created = self.repo.add_version(new)
        if created:
            self._record_creation(version)
        return version, created

    def _record_creation(self, version: DatasetVersion) -> None:
        after = {"digest": version.digest, "rows": version.row_count, "source": version.source}
        self._audit.record("dataset.version_created", version.entity(), after=after)
        if version.run_id is not None:
            run = EntityRef(EntityKind.RUN, version.run_id)
            self._lineage.record(run, Relation.PRODUCED, version.entity())

    # -- reading -----------------------------------------------------------------

    def get(self, uri_or_name: str | DatasetVersion, version: int | None = None) -> DatasetVersion:
        """A version by URI (``datasets:/name/3``, ``datasets:/name@latest``,
        ``datasets:/name``) or by name and number (newest when ``version`` is None)."""
        if isinstance(uri_or_name, DatasetVersion):
            return uri_or_name
        if not uri_or_name.startswith("datasets:"):
            return self.repo.get_version(check_dataset_name(uri_or_name), version)
        parsed = parse_uri(uri_or_name)
        if isinstance(parsed, DatasetVersionUri):
            return self.repo.get_version(parsed.name, parsed.version)
        if isinstance(parsed, DatasetAliasUri | DatasetUri):
            return self.repo.get_version(parsed.name)
        raise InvalidArgument(f"{uri_or_name!r} is not a dataset URI: use datasets:/<name>/<n>.")

    def list_datasets(
        self, *, name_like: str | None = None, limit: int = 100, page_token: str | None = None
    ) -> Page[Dataset]:
        return self.repo.list_datasets(name_like=name_like, limit=limit, page_token=page_token)

    def versions(
        self, name: str, *, limit: int = 100, page_token: str | None = None
    ) -> Page[DatasetVersion]:
        return self.repo.list_versions(name, limit=limit, page_token=page_token)

    def local_path(self, version: str | DatasetVersion) -> Path:
        """The version's Parquet file in the local cache, fetched and verified once."""
        resolved = self.get(version)
        path = self._cache_dir / "datasets" / f"{resolved.data_digest}.parquet"
        if not path.exists():
            self._artifacts.get_file(Digest(resolved.data_digest), path)
        return path

    def load(
        self,
        version: str | DatasetVersion,
        *,
        format: TableFormat = "pandas",
        columns: list[str] | None = None,
    ) -> pd.DataFrame | pa.Table:
        """The version's rows as a pandas DataFrame (default) or an Arrow table."""
        import pyarrow.parquet as pq

        if format not in ("pandas", "arrow"):
            raise InvalidArgument(f"Unknown table format {format!r}: use 'pandas' or 'arrow'.")
        resolved = self.get(version)
        if columns is not None and (missing := sorted(set(columns) - set(resolved.column_names))):
            raise InvalidArgument(
                f"{resolved.uri} has no column {', '.join(map(repr, missing))}; "
                f"its columns are {', '.join(resolved.column_names)}."
            )
        table = pq.read_table(self.local_path(resolved), columns=columns)
        return table.to_pandas() if format == "pandas" else table

    def profile(self, version: str | DatasetVersion) -> DatasetProfile:
        """The statistics profile computed at ingest (never recomputed)."""
        from noria.datasets.profiles import DatasetProfile

        resolved = self.get(version)
        return DatasetProfile.from_json(self._artifacts.get_bytes(Digest(resolved.profile_digest)))

    # -- schema ------------------------------------------------------------------

    def schema_yaml(self, version: str | DatasetVersion) -> str:
        resolved = self.get(version)
        return self._artifacts.get_bytes(Digest(resolved.schema_digest)).decode()

    def schema(self, version: str | DatasetVersion) -> DatasetSchema:
        """The version's current schema (the inferred one until someone edits it)."""
        from noria.datasets.schema_yaml import schema_from_yaml

        resolved = self.get(version)
        return schema_from_yaml(self.schema_yaml(resolved), source=f"{resolved.uri} schema")

    def set_schema(
        self, version: str | DatasetVersion, schema: DatasetSchema | str, *, note: str = ""
    ) -> SchemaRevision:
        """Store an edited schema (object or YAML text) as the version's next revision."""
        from noria.datasets.schema_yaml import schema_from_yaml, schema_to_yaml

        resolved = self.get(version)
        if isinstance(schema, str):
            schema = schema_from_yaml(schema, source="the new schema")
        text = schema_to_yaml(schema)
        digest = self._artifacts.put_bytes(text.encode(), media_type="application/yaml").digest
        revision = self.repo.add_schema_revision(
            resolved.name, resolved.version, digest=digest.hex, created_by=self._user, note=note
        )
        self._audit.record(
            "dataset.schema_revised",
            resolved.entity(),
            before={"revision": resolved.schema_revision, "digest": resolved.schema_digest},
            after={"revision": revision.revision, "digest": digest.hex, "note": note},
        )
        return revision

    def schema_history(self, version: str | DatasetVersion) -> list[SchemaRevision]:
        resolved = self.get(version)
        return self.repo.list_schema_revisions(resolved.name, resolved.version)


def _describe(path: Path) -> tuple[str, str]:
    """The profile (JSON) and inferred schema (YAML) of a Parquet snapshot."""
    import pyarrow.parquet as pq

    from noria.datasets.profiles import profile_parquet
    from noria.datasets.schema import infer_schema
    from noria.datasets.schema_yaml import schema_to_yaml

    profile = profile_parquet(path)
    schema = infer_schema(pq.read_table(path))
    return profile.to_json(), schema_to_yaml(schema)


def _report(progress: Progress | None, stage: str, rows: int | None) -> None:
    if progress is not None:
        progress(stage, rows)

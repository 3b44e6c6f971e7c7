"""The dataset catalogue in SQL: numbered, content-addressed versions and schema revisions."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Row, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from noria.backends.sql.database import SqlDatabase
from noria.backends.sql.dataset_tables import (
    NOTE_LENGTH,
    SOURCE_LENGTH,
    dataset_schemas,
    dataset_versions,
    datasets,
    now_us,
)
from noria.backends.sql.experiments import decode_offset, encode_offset
from noria.domain.datasets import (
    ColumnInfo,
    Dataset,
    DatasetVersion,
    NewDatasetVersion,
    SchemaRevision,
    SourceType,
    check_dataset_name,
    check_description,
)
from noria.domain.paging import Page, check_page_size
from noria.errors import InvalidArgument, NotFound

_ATTEMPTS = 5
_d = datasets.c
_v = dataset_versions.c
_s = dataset_schemas.c

# The newest schema revision of each version, joined onto every version read.
_current_schema = (
    select(_s.version_id, func.max(_s.revision).label("revision"))
    .group_by(_s.version_id)
    .subquery("current_schema")
)
_VERSION_COLUMNS = (
    _d.name,
    dataset_versions,
    _s.revision.label("schema_revision"),
    _s.digest.label("schema_digest"),
)


def _version_query() -> Any:
    return (
        select(*_VERSION_COLUMNS)
        .select_from(dataset_versions)
        .join(datasets, _d.id == _v.dataset_id)
        .join(_current_schema, _current_schema.c.version_id == _v.id)
        .join(
            dataset_schemas,
            (_s.version_id == _v.id) & (_s.revision == _current_schema.c.revision),
        )
    )


def _version(row: Row[Any]) -> DatasetVersion:
    return DatasetVersion(
        name=row.name,
        version=row.version,
        digest=row.digest,
        data_digest=row.data_digest,
        profile_digest=row.profile_digest,
        schema_digest=row.schema_digest,
        schema_revision=row.schema_revision,
        row_count=row.row_count,
        size_bytes=row.size_bytes,
        columns=tuple(ColumnInfo(name, type_) for name, type_ in json.loads(row.columns_json)),
        source_type=SourceType(row.source_type),
        source=row.source,
        created_by=row.created_by,
        created_at=row.created_at,
        run_id=row.run_id,
        description=row.description,
    )


def _dataset_not_found(name: str) -> NotFound:
    return NotFound(
        f"Dataset {name!r} not found: list datasets with `noria data list`, "
        "or ingest it with `noria data ingest PATH --name NAME`."
    )


def _dataset_id(connection: Connection, name: str) -> int:
    found = connection.execute(select(_d.id).where(_d.name == name)).scalar()
    if found is None:
        raise _dataset_not_found(name)
    return int(found)


def _check_new(new: NewDatasetVersion) -> None:
    check_dataset_name(new.name)
    check_description(new.description)
    if len(new.source) > SOURCE_LENGTH:
        raise InvalidArgument(
            f"Dataset source description has {len(new.source)} characters; "
            f"the limit is {SOURCE_LENGTH}."
        )
    if new.row_count < 0 or new.size_bytes < 0:
        raise InvalidArgument("A dataset version's row count and size cannot be negative.")


class _LostRace(Exception):
    """Another writer created the dataset, the content or the number first."""


class SqlDatasetRepo:
    """A :class:`~noria.ports.datasets.DatasetRepo` over one SQL database."""

    def __init__(self, db: SqlDatabase) -> None:
        self._db = db

    def add_version(self, new: NewDatasetVersion) -> tuple[DatasetVersion, bool]:
        _check_new(new)
        self._db.ensure_ready()
        for _ in range(_ATTEMPTS - 1):
            try:
                return self._db.write(lambda connection: self._add(connection, new))
            except _LostRace:
                continue  # the next attempt finds their version, or takes the next number
        return self._db.write(lambda connection: self._add(connection, new))

    def _add(self, connection: Connection, new: NewDatasetVersion) -> tuple[DatasetVersion, bool]:
        try:
            return self._insert(connection, new)
        except IntegrityError as exc:
            # PostgreSQL lets concurrent transactions both pass the checks below.
            raise _LostRace(new.name) from exc

    def _insert(
        self, connection: Connection, new: NewDatasetVersion
    ) -> tuple[DatasetVersion, bool]:
        now = now_us()
        dataset_id = connection.execute(select(_d.id).where(_d.name == new.name)).scalar()
        if dataset_id is None:
            dataset_id = connection.execute(
                insert(datasets).values(
                    name=new.name, description="", created_at=now, updated_at=now
                )
            ).inserted_primary_key[0]  # type: ignore[index]
        else:
            existing = self._find(connection, new.name, new.digest)
            if existing is not None:
                return existing, False
        latest = connection.execute(
            select(func.max(_v.version)).where(_v.dataset_id == dataset_id)
        ).scalar()
        version_id = connection.execute(
            insert(dataset_versions).values(
                dataset_id=dataset_id,
                version=(latest or 0) + 1,
                digest=new.digest,
                data_digest=new.data_digest,
                profile_digest=new.profile_digest,
                row_count=new.row_count,
                size_bytes=new.size_bytes,
                columns_json=json.dumps([[c.name, c.type] for c in new.columns]),
                source_type=new.source_type.value,
                source=new.source,
                description=new.description,
                created_by=new.created_by,
                run_id=new.run_id,
                created_at=now,
            )
        ).inserted_primary_key[0]  # type: ignore[index]
        connection.execute(
            insert(dataset_schemas).values(
                version_id=version_id,
                revision=1,
                digest=new.schema_digest,
                created_by=new.created_by,
                created_at=now,
                note="inferred at ingest",
            )
        )
        connection.execute(update(datasets).where(_d.id == dataset_id).values(updated_at=now))
        row = connection.execute(_version_query().where(_v.id == version_id)).one()
        return _version(row), True

    def get_version(self, name: str, version: int | None = None) -> DatasetVersion:
        self._db.ensure_ready()
        return self._db.read(lambda connection: self._get(connection, name, version))

    def _get(self, connection: Connection, name: str, version: int | None) -> DatasetVersion:
        query = _version_query().where(_d.name == name)
        if version is None:
            query = query.order_by(_v.version.desc()).limit(1)
        else:
            query = query.where(_v.version == version)
        row = connection.execute(query).first()
        if row is not None:
            return _version(row)
        dataset_id = _dataset_id(connection, name)  # raises for an unknown dataset
        latest = connection.execute(
            select(func.max(_v.version)).where(_v.dataset_id == dataset_id)
        ).scalar()
        raise NotFound(
            f"Dataset {name!r} has no version {version}: its versions are 1 to {latest}."
        )

    def find_version(self, name: str, digest: str) -> DatasetVersion | None:
        self._db.ensure_ready()
        return self._db.read(lambda connection: self._find(connection, name, digest))

    def _find(self, connection: Connection, name: str, digest: str) -> DatasetVersion | None:
        query = _version_query().where(_d.name == name, _v.digest == digest)
        row = connection.execute(query).first()
        return None if row is None else _version(row)

    def list_datasets(
        self, *, name_like: str | None = None, limit: int = 100, page_token: str | None = None
    ) -> Page[Dataset]:
        check_page_size(limit)
        offset = decode_offset(page_token)
        self._db.ensure_ready()
        stats = (
            select(
                _v.dataset_id,
                func.count().label("version_count"),
                func.max(_v.version).label("latest_version"),
            )
            .group_by(_v.dataset_id)
            .subquery("stats")
        )
        query = (
            select(datasets, stats.c.version_count, stats.c.latest_version)
            .outerjoin(stats, stats.c.dataset_id == _d.id)
            .order_by(_d.name)
            .offset(offset)
            .limit(limit + 1)
        )
        if name_like is not None:
            query = query.where(_d.name.like(name_like))
        rows = self._db.read(lambda connection: connection.execute(query).all())
        items = [
            Dataset(
                name=row.name,
                description=row.description,
                created_at=row.created_at,
                updated_at=row.updated_at,
                version_count=row.version_count or 0,
                latest_version=row.latest_version,
            )
            for row in rows[:limit]
        ]
        token = encode_offset(offset + limit) if len(rows) > limit else None
        return Page(items, token)

    def list_versions(
        self, name: str, *, limit: int = 100, page_token: str | None = None
    ) -> Page[DatasetVersion]:
        check_page_size(limit)
        offset = decode_offset(page_token)
        self._db.ensure_ready()

        def read(connection: Connection) -> Sequence[Row[Any]]:
            _dataset_id(connection, name)
            query = (
                _version_query()
                .where(_d.name == name)
                .order_by(_v.version.desc())
                .offset(offset)
                .limit(limit + 1)
            )
            return connection.execute(query).all()

        rows = self._db.read(read)
        token = encode_offset(offset + limit) if len(rows) > limit else None
        return Page([_version(row) for row in rows[:limit]], token)

    def add_schema_revision(
        self, name: str, version: int, *, digest: str, created_by: str, note: str = ""
    ) -> SchemaRevision:
        if len(note) > NOTE_LENGTH:
            raise InvalidArgument(
                f"Schema revision note has {len(note)} characters; the limit is {NOTE_LENGTH}."
            )
        self._db.ensure_ready()

        def write(connection: Connection) -> SchemaRevision:
            version_id = self._version_id(connection, name, version)
            latest = connection.execute(
                select(func.max(_s.revision)).where(_s.version_id == version_id)
            ).scalar()
            values = {
                "version_id": version_id,
                "revision": (latest or 0) + 1,
                "digest": digest,
                "created_by": created_by,
                "created_at": now_us(),
                "note": note,
            }
            connection.execute(insert(dataset_schemas).values(**values))
            return _revision(name, version, values)

        return self._db.write(write)

    def list_schema_revisions(self, name: str, version: int) -> list[SchemaRevision]:
        self._db.ensure_ready()

        def read(connection: Connection) -> list[SchemaRevision]:
            version_id = self._version_id(connection, name, version)
            rows = connection.execute(
                select(dataset_schemas).where(_s.version_id == version_id).order_by(_s.revision)
            ).mappings()
            return [_revision(name, version, row) for row in rows]

        return self._db.read(read)

    def _version_id(self, connection: Connection, name: str, version: int) -> int:
        found = connection.execute(
            select(_v.id)
            .join(datasets, _d.id == _v.dataset_id)
            .where(_d.name == name, _v.version == version)
        ).scalar()
        if found is None:
            self._get(connection, name, version)  # raises the precise NotFound
        return int(found)  # type: ignore[arg-type]


def _revision(name: str, version: int, row: Any) -> SchemaRevision:
    return SchemaRevision(
        name=name,
        version=version,
        revision=row["revision"],
        digest=row["digest"],
        created_by=row["created_by"],
        created_at=row["created_at"],
        note=row["note"],
    )

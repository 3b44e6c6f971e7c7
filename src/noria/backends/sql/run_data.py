"""What a run read and wrote beyond numbers: dataset inputs and artifact files."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Row, select

from noria.backends.sql.database import SqlDatabase
from noria.backends.sql.driver import Driver
from noria.backends.sql.run_loading import ID_CHUNK, chunked, find_run, require_active_run
from noria.backends.sql.tables import dialect_insert, run_artifacts, run_inputs
from noria.domain.artifacts import Digest
from noria.domain.tracking import MAX_NAME_LENGTH, RunArtifact, RunInput, check_value
from noria.errors import InvalidArgument

_a = run_artifacts.c
MAX_PATH_LENGTH = 1000
# Every run that records its environment runs this: plain SQL (see the driver module).
_UPSERT_ARTIFACT = (
    "INSERT INTO run_artifacts (run_id, path, digest, size, media_type) VALUES (?, ?, ?, ?, ?) "
    "ON CONFLICT (run_id, path) DO UPDATE SET digest = excluded.digest, "
    "size = excluded.size, media_type = excluded.media_type"
)
# Column widths of run_inputs for the fields that have one.
_INPUT_LIMITS = {"name": MAX_NAME_LENGTH, "digest": 128, "source_type": 64, "context": 64}


def _check_input(item: RunInput) -> dict[str, Any]:
    if not isinstance(item.name, str) or not item.name:
        raise InvalidArgument(f"Invalid run input name {item.name!r}: it must be non-empty.")
    row: dict[str, Any] = {}
    for field in ("name", "digest", "source_type", "source", "schema", "profile", "context"):
        value = getattr(item, field)
        if not isinstance(value, str):
            raise InvalidArgument(
                f"Run input {item.name!r} has {field} {value!r}: it must be a string."
            )
        if field in _INPUT_LIMITS:
            check_value(value, f"input {item.name!r}", field, _INPUT_LIMITS[field])
        row[field] = value
    return row


def check_artifact_path(path: str) -> str:
    """A relative '/'-separated path inside the run, without '.', '..' or empty parts."""
    if (
        not isinstance(path, str)
        or not path
        or len(path) > MAX_PATH_LENGTH
        or "\\" in path
        or "\x00" in path
        or any(part in ("", ".", "..") for part in path.split("/"))
    ):
        raise InvalidArgument(
            f"Invalid run artifact path {path!r}: use a relative '/'-separated path of "
            f"1 to {MAX_PATH_LENGTH} characters, without empty, '.' or '..' parts."
        )
    return path


def check_artifact_row(item: RunArtifact) -> dict[str, Any]:
    path = check_artifact_path(item.path)
    size = item.size
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise InvalidArgument(f"Run artifact {path!r} has size {size!r}: use a byte count ≥ 0.")
    if not isinstance(item.media_type, str) or len(item.media_type) > 255:
        raise InvalidArgument(
            f"Run artifact {path!r} has media type {item.media_type!r}: use a string of "
            "at most 255 characters."
        )
    digest = str(Digest.parse(item.digest)) if isinstance(item.digest, str) else ""
    if not digest:
        raise InvalidArgument(f"Run artifact {path!r} has digest {item.digest!r}: not a string.")
    return {"path": path, "digest": digest, "size": size, "media_type": item.media_type}


def check_artifacts(artifacts: Sequence[RunArtifact]) -> dict[str, dict[str, Any]]:
    """Checked entries by path. Last one wins for a path given twice: PostgreSQL refuses
    one upsert touching the same row twice."""
    return {row["path"]: row for row in map(check_artifact_row, artifacts)}


def upsert_artifacts(driver: Driver, run_id: str, by_path: dict[str, dict[str, Any]]) -> None:
    """Write checked entries in the caller's transaction, to a run it found active."""
    rows = [
        (run_id, path, row["digest"], row["size"], row["media_type"])
        for path, row in sorted(by_path.items())
    ]
    if rows:
        driver.run_many(_UPSERT_ARTIFACT, rows)


def artifact_from_row(row: Row[Any]) -> RunArtifact:
    return RunArtifact(path=row.path, digest=row.digest, size=row.size, media_type=row.media_type)


class SqlRunDataRepo:
    def __init__(self, database: SqlDatabase) -> None:
        self._db = database

    def log_inputs(self, run_id: str, inputs: Sequence[RunInput]) -> None:
        """Record inputs; one already recorded (same name, digest, context) is kept once."""
        unique: dict[tuple[str, str, str], dict[str, Any]] = {}
        for item in inputs:
            row = _check_input(item)
            unique.setdefault((row["name"], row["digest"], row["context"]), row)
        self._db.ensure_ready()

        def work(connection: Connection) -> None:
            require_active_run(Driver(connection), run_id)
            rows = [{"run_id": run_id, **row} for row in unique.values()]
            statement = dialect_insert(connection, run_inputs).on_conflict_do_nothing()
            for chunk in chunked(rows, ID_CHUNK):
                connection.execute(statement, list(chunk))

        self._db.write(work)

    def record_artifacts(self, run_id: str, artifacts: Sequence[RunArtifact]) -> None:
        """Upsert by path: a file logged again at the same path replaces the entry."""
        by_path = check_artifacts(artifacts)
        self._db.ensure_ready()

        def work(connection: Connection) -> None:
            driver = Driver(connection)
            require_active_run(driver, run_id)
            upsert_artifacts(driver, run_id, by_path)

        self._db.write(work)

    def list_artifacts(self, run_id: str, prefix: str = "") -> list[RunArtifact]:
        """Files under the folder ``prefix`` ("" for all), sorted by path."""
        folder = prefix.rstrip("/")
        query = select(run_artifacts).where(_a.run_id == run_id)
        if folder:
            check_artifact_path(folder)
            query = query.where(_a.path.startswith(f"{folder}/", autoescape=True))
        self._db.ensure_ready()

        def work(connection: Connection) -> list[RunArtifact]:
            find_run(Driver(connection), run_id)
            # Sorted here: PostgreSQL's collation may order paths unlike SQLite's bytes.
            return sorted(map(artifact_from_row, connection.execute(query)), key=lambda a: a.path)

        return self._db.read(work)

    def find_artifact(self, run_id: str, path: str) -> RunArtifact | None:
        check_artifact_path(path)
        query = select(run_artifacts).where(_a.run_id == run_id, _a.path == path)
        self._db.ensure_ready()

        def work(connection: Connection) -> RunArtifact | None:
            find_run(Driver(connection), run_id)
            row = connection.execute(query).first()
            return None if row is None else artifact_from_row(row)

        return self._db.read(work)

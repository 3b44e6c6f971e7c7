"""URI scheme → backend, in one place, imported lazily.

Entry points (CLI, server, SDK client) call these; nothing else names a concrete
backend. Plugins add schemes through the ``noria.backends`` entry-point groups
``noria.metadata_stores`` and ``noria.blob_stores``: each entry is a callable
``(uri, settings) -> store``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from noria.errors import InvalidArgument, Unsupported
from noria.settings import Settings

if TYPE_CHECKING:
    from noria.backends.http.transport import HttpTransport
    from noria.ports.blobs import BlobStore
    from noria.ports.executors import Executor
    from noria.ports.metadata import MetadataStore

SQL_SCHEMES = ("sqlite", "postgresql", "postgresql+psycopg", "postgres")
HTTP_SCHEMES = ("http", "https")
FSSPEC_SCHEMES = ("s3", "s3a", "gs", "gcs", "az", "abfs", "abfss", "file")


@dataclass
class Backends:
    """The stores one entry point works with; close it when done."""

    metadata: MetadataStore
    blobs: BlobStore
    transport: HttpTransport | None = None

    def close(self) -> None:
        self.metadata.close()
        if self.transport is not None:
            self.transport.close()


def _scheme(uri: str) -> str:
    if "://" not in uri:
        return ""
    return urlsplit(uri).scheme.lower()


def _plugin(group: str, scheme: str) -> Callable[[str, Settings], Any] | None:
    for entry in entry_points(group=group):
        if entry.name == scheme:
            factory: Callable[[str, Settings], Any] = entry.load()
            return factory
    return None


def metadata_store_for(
    uri: str, settings: Settings, *, transport: HttpTransport | None = None
) -> MetadataStore:
    scheme = _scheme(uri)
    if scheme in SQL_SCHEMES:
        from noria.backends.sql.store import SqlMetadataStore

        return SqlMetadataStore(uri)
    if scheme in HTTP_SCHEMES:
        from noria.backends.http.metadata import HttpMetadataStore
        from noria.backends.http.transport import HttpTransport

        return HttpMetadataStore(transport or HttpTransport.for_settings(uri, settings))
    if plugin := _plugin("noria.metadata_stores", scheme):
        store: MetadataStore = plugin(uri, settings)
        return store
    raise InvalidArgument(
        f"Unsupported metadata store URI {uri!r}: use sqlite:///path/noria.db, "
        "postgresql+psycopg://user@host/db or http(s)://noria-server:5005."
    )


def blob_store_for(
    uri: str | None, settings: Settings, *, transport: HttpTransport | None = None
) -> BlobStore:
    """The blob store at ``uri``; ``None`` means artifacts go through the remote server."""
    if uri is None:
        if transport is None:
            raise InvalidArgument("No artifact URI: set NORIA_ARTIFACT_URI or NORIA_HOME.")
        from noria.backends.http.blobs import HttpBlobStore

        return HttpBlobStore(transport)
    scheme = _scheme(uri)
    if scheme == "":
        from noria.backends.blobs.local import LocalBlobStore

        return LocalBlobStore(Path(uri).expanduser())
    if scheme == "memory":
        from noria.backends.blobs.memory import MemoryBlobStore

        return MemoryBlobStore(uri)
    if scheme in HTTP_SCHEMES:
        from noria.backends.http.blobs import HttpBlobStore
        from noria.backends.http.transport import HttpTransport

        return HttpBlobStore(transport or HttpTransport.for_settings(uri, settings))
    if scheme in FSSPEC_SCHEMES:
        from noria.backends.blobs.fsspec import FsspecBlobStore

        return FsspecBlobStore(uri)
    if plugin := _plugin("noria.blob_stores", scheme):
        store: BlobStore = plugin(uri, settings)
        return store
    raise Unsupported(
        f"Unsupported artifact URI {uri!r}: use a local path, memory://name, "
        "s3://bucket/prefix, gs://…, az://… or http(s)://noria-server:5005."
    )


def executor_for(spec: str, settings: Settings, *, max_workers: int | None = None) -> Executor:
    """The pipeline executor ``spec`` names: ``local`` (a thread per step, the default),
    ``local:processes`` (a process per step), ``ray`` (a Ray task per step; ``ray:HOST:PORT``
    or ``ray://HOST:PORT`` for a cluster), or one a plugin adds through the
    ``noria.executors`` entry-point group (a callable ``(spec, settings) -> executor``)."""
    if spec in ("local", "local:threads"):
        from noria.backends.executors.local import ThreadExecutor

        return ThreadExecutor(max_workers)
    if spec == "local:processes":
        from noria.backends.executors.local import ProcessExecutor

        return ProcessExecutor(max_workers)
    if spec.partition(":")[0].lower() == "ray":  # ray, ray:local, ray:HOST:PORT, ray://HOST:PORT
        from noria.backends.executors.ray import ray_executor

        return ray_executor(spec, max_workers=max_workers)
    if plugin := _plugin("noria.executors", spec.partition(":")[0].lower()):
        executor: Executor = plugin(spec, settings)
        return executor
    raise InvalidArgument(
        f"Unknown executor {spec!r}: use local (a thread per step, the default), "
        "local:processes (a process per step) or ray (ray:HOST:PORT, ray://HOST:PORT for a "
        "cluster)."
    )


def open_backends(settings: Settings) -> Backends:
    """Build (without I/O) the metadata and blob stores that ``settings`` name."""
    store_uri = settings.resolved_store_uri()
    transport = None
    if _scheme(store_uri) in HTTP_SCHEMES:
        from noria.backends.http.transport import HttpTransport

        transport = HttpTransport.for_settings(store_uri, settings)
    metadata = metadata_store_for(store_uri, settings, transport=transport)
    blobs = blob_store_for(settings.resolved_artifact_uri(), settings, transport=transport)
    return Backends(metadata=metadata, blobs=blobs, transport=transport)

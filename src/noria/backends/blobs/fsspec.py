"""Blobs on any fsspec filesystem: S3, GCS, Azure, a local folder, fsspec's memory."""

from __future__ import annotations

import contextlib
import io
import uuid
from collections.abc import Iterator
from typing import Any, BinaryIO, cast

from noria.domain.blob_keys import TMP_DIR, check_key
from noria.errors import BackendError, InvalidArgument, NotFound

CHUNK_SIZE = 1024 * 1024

# On these a streamed upload becomes visible only once complete, so it is atomic as is.
# Anything else (a local disk, fsspec's memory, sftp ...) shows partial writes, so puts
# go through ``<root>/.tmp`` and a move.
OBJECT_STORE_PROTOCOLS = frozenset(
    {"s3", "s3a", "gs", "gcs", "az", "abfs", "abfss", "adl", "oss", "oci", "r2"}
)


class FsspecBlobStore:
    """A :class:`~noria.ports.blobs.BlobStore` keeping each blob at ``<uri>/<key>``.

    The filesystem is created on first use, so building the store costs nothing.
    """

    def __init__(self, uri: str, storage_options: dict[str, Any] | None = None) -> None:
        self._uri = uri
        self._storage_options = dict(storage_options or {})
        self._fs: Any = None
        self._root = ""

    @property
    def uri(self) -> str:
        return self._uri

    def put(self, key: str, source: BinaryIO) -> int:
        """Stream ``source`` in chunks; readers never see a partial blob."""
        path = self._path(key)
        fs = self._filesystem()
        with self._translated("write", key):
            if self._is_object_store():
                return _upload(fs, path, source, discard_on_failure=True)
            tmp = f"{self._root}/{TMP_DIR}/{uuid.uuid4().hex}"
            fs.makedirs(f"{self._root}/{TMP_DIR}", exist_ok=True)
            try:
                size = _upload(fs, tmp, source, discard_on_failure=False)
                fs.makedirs(path.rpartition("/")[0], exist_ok=True)
                fs.mv(tmp, path)
            except BaseException:
                with contextlib.suppress(OSError):
                    fs.rm(tmp)
                raise
            return size

    def open(self, key: str) -> BinaryIO:
        path = self._path(key)
        fs = self._filesystem()
        with self._translated("read", key, missing_is_not_found=True):
            if "memory" in _protocols(fs):
                # fsspec's memory filesystem hands every reader the same file object
                # (one shared position), so each reader gets its own copy instead.
                return io.BytesIO(fs.cat_file(path))
            return cast(BinaryIO, fs.open(path, "rb"))

    def exists(self, key: str) -> bool:
        path = self._path(key)
        fs = self._filesystem()
        with self._translated("check", key):
            # Listing caches could predate another process's put or delete.
            fs.invalidate_cache(path)
            return bool(fs.isfile(path))

    def list(self, prefix: str = "") -> Iterator[str]:
        """Keys starting with ``prefix``; never anything under ``.tmp``."""
        fs = self._filesystem()
        folder, _, _ = prefix.rpartition("/")
        try:
            base = self._path(folder) if folder else self._root
        except InvalidArgument:
            base = self._root
        with self._translated("list", prefix):
            fs.invalidate_cache(base)
            try:
                paths = fs.find(base, withdirs=False)
            except FileNotFoundError:
                paths = []
        start = len(self._root) + 1
        for path in paths:
            key = str(path)[start:]
            if key.startswith(prefix) and not key.startswith(f"{TMP_DIR}/"):
                yield key

    def delete(self, key: str) -> None:
        path = self._path(key)
        fs = self._filesystem()
        with self._translated("delete", key), contextlib.suppress(FileNotFoundError):
            fs.rm(path)

    def _filesystem(self) -> Any:
        if self._fs is None:
            import fsspec.core

            try:
                fs, root = fsspec.core.url_to_fs(self._uri, **self._storage_options)
            except (ImportError, ValueError, OSError) as exc:
                raise BackendError(f"Cannot open the blob store at {self._uri}: {exc}") from exc
            self._root = str(root).rstrip("/")
            self._fs = fs
        return self._fs

    def _path(self, key: str) -> str:
        self._filesystem()
        return f"{self._root}/{check_key(key)}"

    def _is_object_store(self) -> bool:
        return not OBJECT_STORE_PROTOCOLS.isdisjoint(_protocols(self._filesystem()))

    @contextlib.contextmanager
    def _translated(
        self, action: str, key: str, *, missing_is_not_found: bool = False
    ) -> Iterator[None]:
        """Turn the filesystem's OSErrors into Noria's errors, naming the store and key."""
        try:
            yield
        except (FileNotFoundError, IsADirectoryError) as exc:
            if not missing_is_not_found:
                raise self._backend_error(action, key, exc) from exc
            raise NotFound(f"Blob {key!r} not found in the blob store at {self._uri}.") from exc
        except OSError as exc:
            raise self._backend_error(action, key, exc) from exc

    def _backend_error(self, action: str, key: str, exc: OSError) -> BackendError:
        return BackendError(
            f"Could not {action} blob {key!r} in the blob store at {self._uri}: {exc}"
        )


def _protocols(fs: Any) -> set[str]:
    protocol = fs.protocol
    return {protocol} if isinstance(protocol, str) else set(protocol)


def _upload(fs: Any, path: str, source: BinaryIO, *, discard_on_failure: bool) -> int:
    """Stream ``source`` to ``path`` in chunks; returns the byte count.

    With ``discard_on_failure`` a failed upload is thrown away instead of committed.
    """
    out = fs.open(path, "wb")
    size = 0
    try:
        while chunk := source.read(CHUNK_SIZE):
            out.write(chunk)
            size += len(chunk)
    except BaseException:
        if discard_on_failure:
            _abandon(out)
        else:
            out.close()
        raise
    out.close()
    return size


def _abandon(out: Any) -> None:
    # close() would commit what was buffered so far (a partial object on S3/GCS/Azure):
    # discard the upload, then mark the handle closed so garbage collection does not.
    discard = getattr(out, "discard", None)
    if callable(discard):
        discard()
    out.closed = True

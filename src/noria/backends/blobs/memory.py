"""Blobs in a dict: for tests, demos and throw-away runs."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from typing import BinaryIO

from noria.domain.blob_keys import check_key
from noria.errors import NotFound

CHUNK_SIZE = 1024 * 1024


class MemoryBlobStore:
    """A thread-safe in-process :class:`~noria.ports.blobs.BlobStore`.

    Every instance has its own contents, whatever its ``uri``; they vanish with it.
    """

    def __init__(self, uri: str = "memory://") -> None:
        self._uri = uri
        self._blobs: dict[str, bytes] = {}
        self._lock = threading.Lock()

    @property
    def uri(self) -> str:
        return self._uri

    def put(self, key: str, source: BinaryIO) -> int:
        """Read all of ``source``, then store it in one step (atomic by construction)."""
        check_key(key)
        # Bounded reads, like the other stores, so sources never see a read-everything call.
        chunks = []
        while chunk := source.read(CHUNK_SIZE):
            chunks.append(chunk)
        data = b"".join(chunks)
        with self._lock:
            self._blobs[key] = data
        return len(data)

    def open(self, key: str) -> BinaryIO:
        check_key(key)
        with self._lock:
            data = self._blobs.get(key)
        if data is None:
            raise NotFound(f"Blob {key!r} not found in the blob store at {self._uri}.")
        return io.BytesIO(data)

    def exists(self, key: str) -> bool:
        check_key(key)
        with self._lock:
            return key in self._blobs

    def list(self, prefix: str = "") -> Iterator[str]:
        """Keys starting with ``prefix``, from a snapshot taken when iteration starts."""
        with self._lock:
            keys = [key for key in self._blobs if key.startswith(prefix)]
        yield from keys

    def delete(self, key: str) -> None:
        check_key(key)
        with self._lock:
            self._blobs.pop(key, None)

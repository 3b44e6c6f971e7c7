"""Hashing while bytes flow: digests of streams and a reader that checks what it reads."""

from __future__ import annotations

import hashlib
import io
from typing import TYPE_CHECKING, BinaryIO

from noria.domain.artifacts import Digest
from noria.errors import CorruptedArtifact

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

CHUNK_SIZE = 1024 * 1024


def copy_hashing(source: BinaryIO, out: BinaryIO | None = None) -> tuple[Digest, int]:
    """Read ``source`` in chunks (copying them to ``out`` if given); returns digest and size."""
    hasher = hashlib.sha256()
    size = 0
    while chunk := source.read(CHUNK_SIZE):
        hasher.update(chunk)
        if out is not None:
            out.write(chunk)
        size += len(chunk)
    return Digest(hasher.hexdigest()), size


class HashingReader(io.RawIOBase):
    """Passes ``source`` through unchanged, hashing it; :attr:`digest` once fully read."""

    def __init__(self, source: BinaryIO) -> None:
        self._source = source
        self._hasher = hashlib.sha256()
        self.size = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        view = memoryview(buffer).cast("B")
        chunk = self._source.read(len(view))
        view[: len(chunk)] = chunk
        self._hasher.update(chunk)
        self.size += len(chunk)
        return len(chunk)

    def readall(self) -> bytes:
        # The default reads 8 KiB at a time; whole-blob reads deserve bigger chunks.
        parts = []
        buffer = bytearray(CHUNK_SIZE)
        while count := self.readinto(buffer):
            parts.append(bytes(buffer[:count]))
        return b"".join(parts)

    @property
    def digest(self) -> Digest:
        return Digest(self._hasher.hexdigest())


class VerifyingReader(HashingReader):
    """Reads a stored blob and raises CorruptedArtifact at its end if the digest differs.

    Only a reader that reaches the end is verified: stopping early checks nothing.
    Closing it closes the underlying blob stream.
    """

    def __init__(self, source: BinaryIO, *, expected: Digest, store_uri: str) -> None:
        super().__init__(source)
        self._expected = expected
        self._store_uri = store_uri
        self._verified = False

    def readinto(self, buffer: WriteableBuffer) -> int:
        if self._verified:
            return 0
        count = super().readinto(buffer)
        if count == 0 and len(memoryview(buffer)) > 0:
            self._check()
        return count

    def close(self) -> None:
        if not self.closed:
            self._source.close()
        super().close()

    def _check(self) -> None:
        actual = self.digest
        if actual != self._expected:
            # Every later read fails the same way: no caller can miss the corruption.
            raise corrupted(self._expected, actual, self._store_uri)
        self._verified = True


def corrupted(expected: Digest, actual: Digest, store_uri: str) -> CorruptedArtifact:
    """The error for a blob whose bytes no longer hash to the digest it is stored under."""
    return CorruptedArtifact(
        f"Artifact {expected} is corrupted: its stored bytes hash to {actual} "
        f"(blob {expected.blob_key} in the artifact store at {store_uri}). "
        "Restore the blob from a backup, or delete it and log the artifact again."
    )


def verifying_open(source: BinaryIO, *, expected: Digest, store_uri: str) -> BinaryIO:
    """Wrap an open blob stream in a buffered :class:`VerifyingReader`."""
    raw = VerifyingReader(source, expected=expected, store_uri=store_uri)
    return io.BufferedReader(raw, CHUNK_SIZE)

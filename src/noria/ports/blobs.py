"""The byte-level storage port. Content addressing and verification live above it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO, Protocol, runtime_checkable


@runtime_checkable
class BlobStore(Protocol):
    """Bytes by key. Keys are '/'-separated relative paths chosen by the caller.

    ``put`` is atomic: readers see the old state or the whole new blob, never a part,
    even if the writer dies mid-way. ``open`` raises ``NotFound`` for a missing key.
    """

    @property
    def uri(self) -> str: ...

    def put(self, key: str, source: BinaryIO) -> int:
        """Store everything ``source`` yields under ``key``; returns the byte count."""
        ...

    def open(self, key: str) -> BinaryIO:
        """A readable binary stream; the caller closes it."""
        ...

    def exists(self, key: str) -> bool: ...

    def list(self, prefix: str = "") -> Iterator[str]:
        """Keys starting with ``prefix``, in no particular order."""
        ...

    def delete(self, key: str) -> None:
        """Remove ``key``; removing a missing key is not an error."""
        ...

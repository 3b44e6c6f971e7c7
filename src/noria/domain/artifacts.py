"""Content digests and the keys under which artifact bytes are stored."""

from __future__ import annotations

import re
from dataclasses import dataclass

from noria.errors import InvalidArgument

_HEX = re.compile(r"[0-9a-f]{64}")
TREE_MEDIA_TYPE = "application/vnd.noria.tree+json"
DEFAULT_MEDIA_TYPE = "application/octet-stream"


@dataclass(frozen=True, slots=True, order=True)
class Digest:
    """A sha256 content digest, written ``sha256:<64 hex>``."""

    hex: str

    def __post_init__(self) -> None:
        if not _HEX.fullmatch(self.hex):
            raise InvalidArgument(
                f"Invalid digest {self.hex!r}: expected 64 lowercase hex characters."
            )

    @classmethod
    def parse(cls, text: str) -> Digest:
        """Accepts ``sha256:<hex>`` or a bare ``<hex>``."""
        return cls(text.removeprefix("sha256:"))

    @property
    def blob_key(self) -> str:
        """Where the bytes live in a blob store; two-level fan-out keeps folders small."""
        return f"sha256/{self.hex[:2]}/{self.hex[2:4]}/{self.hex}"

    def __str__(self) -> str:
        return f"sha256:{self.hex}"


def digest_from_blob_key(key: str) -> Digest:
    parts = key.split("/")
    if len(parts) != 4 or parts[0] != "sha256":
        raise InvalidArgument(f"Blob key {key!r} is not a content key 'sha256/ab/cd/<hex>'.")
    digest = Digest(parts[3])
    if digest.blob_key != key:
        raise InvalidArgument(f"Blob key {key!r} does not match its digest's fan-out.")
    return digest


@dataclass(frozen=True, slots=True)
class ArtifactRef:
    """What a put returns: enough to find, verify and describe the bytes."""

    digest: Digest
    size: int
    media_type: str = DEFAULT_MEDIA_TYPE


@dataclass(frozen=True, slots=True)
class TreeEntry:
    """One file of a stored directory: its path inside the tree, digest and size."""

    path: str
    digest: Digest
    size: int

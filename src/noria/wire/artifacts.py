"""Artifact shapes: what an upload returns."""

from __future__ import annotations

from noria.domain.artifacts import ArtifactRef, Digest
from noria.wire.common import WireModel


class ArtifactBody(WireModel):
    digest: str
    size: int
    media_type: str

    @classmethod
    def from_domain(cls, ref: ArtifactRef) -> ArtifactBody:
        return cls(digest=str(ref.digest), size=ref.size, media_type=ref.media_type)

    def to_domain(self) -> ArtifactRef:
        return ArtifactRef(Digest.parse(self.digest), self.size, self.media_type)

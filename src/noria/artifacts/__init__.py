"""Content-addressed artifact storage: sha256 digests, dedupe and verified reads."""

from noria.artifacts.store import ArtifactStore

__all__ = ["ArtifactStore"]

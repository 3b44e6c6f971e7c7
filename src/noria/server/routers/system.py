"""Liveness, version and store information."""

from __future__ import annotations

from fastapi import APIRouter

from noria import __version__
from noria.server.deps import ClientDep
from noria.wire.common import API_VERSION, SchemaBody, ServerVersionBody, StoreCounts

router = APIRouter(tags=["system"])


@router.get("/health")
def health() -> dict[str, str]:
    """Answers while the process is up; no store access."""
    return {"status": "ok"}


@router.get("/api/v1/version")
def version(client: ClientDep) -> ServerVersionBody:
    state = client.metadata.schema_state()
    return ServerVersionBody(
        noria_version=__version__,
        api_version=API_VERSION,
        schema_state=SchemaBody.from_domain(state),
    )


@router.get("/api/v1/store/counts")
def counts(client: ClientDep) -> StoreCounts:
    return StoreCounts(
        lineage_edges=client.metadata.lineage.count(),
        audit_events=client.metadata.audit.count(),
    )

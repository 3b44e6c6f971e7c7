"""Content-addressed upload and verified download, e.g. with curl."""

from __future__ import annotations

from fastapi import APIRouter, Request, status
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from noria.domain.artifacts import DEFAULT_MEDIA_TYPE, Digest
from noria.server.deps import ClientDep
from noria.server.streams import iter_file, spool_body
from noria.wire.artifacts import ArtifactBody

router = APIRouter(prefix="/api/v1/artifacts", tags=["artifacts"])


@router.post("", status_code=status.HTTP_201_CREATED)
async def upload(request: Request, client: ClientDep) -> ArtifactBody:
    """Store the request body; the answer names its sha256 digest."""
    media_type = request.headers.get("content-type") or DEFAULT_MEDIA_TYPE
    body = await spool_body(request)
    try:
        ref = await run_in_threadpool(client.artifacts.put_stream, body, media_type=media_type)
    finally:
        body.close()
    return ArtifactBody.from_domain(ref)


@router.get("/{digest}")
def download(digest: str, client: ClientDep) -> StreamingResponse:
    """Stream the bytes; a blob that fails verification aborts the response mid-way."""
    source = client.artifacts.open(Digest.parse(digest))
    return StreamingResponse(iter_file(source), media_type="application/octet-stream")

"""Byte-level blob access for remote clients (the HttpBlobStore backend).

Content keys (``sha256/ab/cd/<hex>``) are checked against the uploaded bytes, so a
client cannot store bytes under another content's digest.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from noria.domain.artifacts import digest_from_blob_key
from noria.server.deps import ClientDep
from noria.server.streams import iter_file, spool_body

router = APIRouter(prefix="/api/v1/blobs", tags=["blobs"])


@router.put("/{key:path}")
async def put_blob(key: str, request: Request, client: ClientDep) -> dict[str, int | str]:
    body = await spool_body(request)
    try:
        if key.startswith("sha256/"):
            digest = digest_from_blob_key(key)
            ref = await run_in_threadpool(client.artifacts.put_stream, body, expected=digest)
            return {"key": key, "size": ref.size}
        size = await run_in_threadpool(client.blobs.put, key, body)
        return {"key": key, "size": size}
    finally:
        body.close()


@router.get("/{key:path}")
def get_blob(key: str, client: ClientDep) -> StreamingResponse:
    source = client.blobs.open(key)
    return StreamingResponse(iter_file(source), media_type="application/octet-stream")


@router.head("/{key:path}")
def head_blob(key: str, client: ClientDep) -> Response:
    found = client.blobs.exists(key)
    return Response(status_code=status.HTTP_200_OK if found else status.HTTP_404_NOT_FOUND)


@router.delete("/{key:path}", status_code=status.HTTP_204_NO_CONTENT)
def delete_blob(key: str, client: ClientDep) -> None:
    client.blobs.delete(key)


@router.get("")
def list_blobs(
    client: ClientDep, prefix: Annotated[str, Query(max_length=1024)] = ""
) -> StreamingResponse:
    """Keys under ``prefix``, one per line, streamed."""
    lines = (f"{key}\n" for key in client.blobs.list(prefix))
    return StreamingResponse(lines, media_type="application/x-ndjson")

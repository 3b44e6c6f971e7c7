"""Moving request and response bodies without holding them in memory."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from typing import IO, BinaryIO, cast

from fastapi import Request

SPOOL_IN_MEMORY = 8 << 20  # bodies up to 8 MiB stay in RAM; larger ones go to a temp file
CHUNK = 1 << 20


async def spool_body(request: Request) -> BinaryIO:
    """The request body as a rewound file; the caller closes it."""
    # Not a `with` block: the spool outlives this function and the caller closes it.
    spool: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115
    try:
        async for chunk in request.stream():
            spool.write(chunk)
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    return cast(BinaryIO, spool)


def iter_file(source: BinaryIO) -> Iterator[bytes]:
    """Chunks of ``source``, closing it at the end (or when the client goes away)."""
    try:
        while chunk := source.read(CHUNK):
            yield chunk
    finally:
        source.close()

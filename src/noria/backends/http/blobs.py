"""The BlobStore port over a remote server: streamed uploads and downloads."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import BinaryIO
from urllib.parse import quote

import httpx

from noria.backends.http.transport import HttpTransport, iter_chunks
from noria.domain.blob_keys import check_key

CHUNK = 1 << 20


class _ResponseReader(io.RawIOBase):
    """A readable file over a streamed response body; closing it closes the response."""

    def __init__(self, response: httpx.Response) -> None:
        self._response = response
        self._chunks = iter_chunks(response, CHUNK)
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        while not self._pending:
            try:
                self._pending = next(self._chunks)
            except StopIteration:
                return 0
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size

    def close(self) -> None:
        if not self.closed:
            self._response.close()
        super().close()


def _read_chunks(source: BinaryIO) -> Iterator[bytes]:
    while chunk := source.read(CHUNK):
        yield chunk


class HttpBlobStore:
    """Blobs kept by a Noria server; content keys are verified by the server on upload."""

    def __init__(self, transport: HttpTransport) -> None:
        self._http = transport

    @property
    def uri(self) -> str:
        return f"{self._http.base_url}/api/v1/blobs"

    @staticmethod
    def _path(key: str) -> str:
        # Checked here, not only by the server: httpx would collapse "a/../b" to "b".
        return "/api/v1/blobs/" + quote(check_key(key), safe="/")

    def put(self, key: str, source: BinaryIO) -> int:
        response = self._http.request("PUT", self._path(key), content=_read_chunks(source))
        size: int = response.json()["size"]
        return size

    def open(self, key: str) -> BinaryIO:
        reader = _ResponseReader(self._http.stream("GET", self._path(key)))
        return io.BufferedReader(reader, CHUNK)

    def exists(self, key: str) -> bool:
        return self._http.probe(self._path(key))

    def list(self, prefix: str = "") -> Iterator[str]:
        """Keys arrive as a streamed newline-delimited list, so memory stays flat."""
        response = self._http.stream("GET", "/api/v1/blobs", params={"prefix": prefix})
        try:
            for line in response.iter_lines():
                if line:
                    yield line
        finally:
            response.close()

    def delete(self, key: str) -> None:
        self._http.request("DELETE", self._path(key))

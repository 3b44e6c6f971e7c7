"""One httpx client per remote server, with Noria's error translation."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx

from noria import __version__
from noria.errors import BackendError, NoriaError, error_class_for
from noria.settings import Settings

# Connection failures on idempotent calls are retried; a server restart takes a moment.
_RETRY_DELAYS = (0.2, 0.5, 1.0)
_IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE"})


class HttpTransport:
    """Sends requests to ``base_url`` and turns error bodies into Noria errors."""

    def __init__(self, base_url: str, *, timeout: float, token: str | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        headers = {"User-Agent": f"noria/{__version__}"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._client = httpx.Client(base_url=self.base_url, timeout=timeout, headers=headers)

    @classmethod
    def for_settings(cls, base_url: str, settings: Settings) -> HttpTransport:
        return cls(base_url, timeout=settings.http_timeout, token=settings.http_token)

    def close(self) -> None:
        self._client.close()

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Send one request; a 4xx/5xx answer raises the matching Noria error."""
        attempts = len(_RETRY_DELAYS) + 1 if method in _IDEMPOTENT else 1
        for attempt in range(attempts):
            try:
                response = self._client.request(method, path, **kwargs)
            except httpx.TransportError as exc:
                if attempt + 1 == attempts or not _rewindable(kwargs):
                    raise self._unreachable(exc) from None
                time.sleep(_RETRY_DELAYS[attempt])
                continue
            raise_for_error(response)
            return response
        raise AssertionError("unreachable")  # pragma: no cover - the loop always returns

    def probe(self, path: str) -> bool:
        """``True`` when ``HEAD path`` answers 2xx, ``False`` on 404; other errors raise."""
        try:
            response = self._client.head(path)
        except httpx.TransportError as exc:
            raise self._unreachable(exc) from None
        if response.status_code == 404:
            return False
        raise_for_error(response)
        return True

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        return self.request(method, path, **kwargs).json()

    def stream(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Open a streamed response; the caller reads it and then closes it."""
        try:
            response = self._client.send(
                self._client.build_request(method, path, **kwargs), stream=True
            )
        except httpx.TransportError as exc:
            raise self._unreachable(exc) from None
        if response.is_error:
            response.read()
            response.close()
            raise_for_error(response)
        return response

    def _unreachable(self, exc: httpx.TransportError) -> BackendError:
        reason = str(exc) or type(exc).__name__
        return BackendError(
            f"Cannot reach the Noria server at {self.base_url}: {reason}. "
            "Start it with `noria server` or fix NORIA_STORE_URI."
        )


def _rewindable(kwargs: dict[str, Any]) -> bool:
    """A streamed body was consumed by the failed attempt and cannot be resent."""
    content = kwargs.get("content")
    return content is None or isinstance(content, bytes | str)


def raise_for_error(response: httpx.Response) -> None:
    if not response.is_error:
        return
    try:
        body = response.json()
        code, message = body["error_code"], body["message"]
    except (ValueError, KeyError, TypeError):
        snippet = response.text[:200].strip()
        raise BackendError(
            f"The Noria server answered {response.status_code} for "
            f"{response.request.method} {response.request.url.path}: {snippet or 'no body'}"
        ) from None
    error: NoriaError = error_class_for(str(code))(str(message))
    raise error


def iter_chunks(response: httpx.Response, chunk_size: int = 1 << 20) -> Iterator[bytes]:
    try:
        yield from response.iter_bytes(chunk_size)
    finally:
        response.close()

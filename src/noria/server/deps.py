"""Request-scoped access to what the app opened at startup."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from noria.client import Client


async def _client(request: Request) -> Client:
    """The app's client. Async on purpose: FastAPI runs a sync dependency in the thread
    pool, one more thread hop (and GIL hand-off) on every request."""
    client: Client = request.app.state.client
    return client


ClientDep = Annotated[Client, Depends(_client)]

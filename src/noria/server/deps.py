"""Request-scoped access to what the app opened at startup."""

from __future__ import annotations

from typing import Annotated, cast

from fastapi import Depends, Request

from noria.client import Client


def _client(request: Request) -> Client:
    return cast(Client, request.app.state.client)


ClientDep = Annotated[Client, Depends(_client)]

"""What a worker needs besides its task: open stores, and the step functions.

A worker in the driver's own process (the thread executor) finds the driver's client
and the live step functions under the task's ``session``, so steps defined inside
functions work and no second set of connections is opened. A worker anywhere else
connects from the task's store address (once per process) and imports the step.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from noria.domain.pipelines import StepTask, StoreAddress
from noria.pipelines.loading import resolve_step

if TYPE_CHECKING:
    from noria.client import Client


@dataclass(frozen=True)
class _Session:
    client: Client
    functions: Mapping[str, Callable[..., Any]]


_lock = threading.Lock()
_sessions: dict[str, _Session] = {}
_connected: dict[StoreAddress, Client] = {}


def open_session(client: Client, functions: Mapping[str, Callable[..., Any]]) -> str:
    """Register the driver's client and step functions (by ``module:qualname``)."""
    token = secrets.token_hex(16)
    with _lock:
        _sessions[token] = _Session(client, dict(functions))
    return token


def close_session(token: str) -> None:
    with _lock:
        _sessions.pop(token, None)


def _session(token: str) -> _Session | None:
    with _lock:
        return _sessions.get(token)


def client_for(task: StepTask) -> Client:
    session = _session(task.session)
    if session is not None:
        return session.client
    with _lock:
        client = _connected.get(task.store)
        if client is None:
            from noria.client import connect
            from noria.settings import load_settings

            address = task.store
            settings = load_settings(
                home=address.home,
                store_uri=address.store_uri,
                artifact_uri=address.artifact_uri,
                user=address.user,
            )
            client = connect(settings, initialize=False)
            _connected[address] = client
    return client


def function_for(task: StepTask) -> Callable[..., Any]:
    session = _session(task.session)
    if session is not None and (found := session.functions.get(str(task.step))) is not None:
        return found
    function: Callable[..., Any] = resolve_step(task.step)
    return function

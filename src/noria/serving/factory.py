"""The app factory uvicorn's worker processes call: ``noria serve --workers N`` runs
``uvicorn noria.serving.factory:app_from_environment --factory``.

Worker processes are started by uvicorn, not by us, so the configuration reaches them as JSON
in one environment variable, written by :func:`launch_environment` in the parent.
"""

from __future__ import annotations

import os

from fastapi import FastAPI
from pydantic import BaseModel, ConfigDict, ValidationError

from noria.errors import InvalidArgument
from noria.serving.app import create_serving_app
from noria.serving.config import ServingConfig
from noria.settings import Settings

LAUNCH_VARIABLE = "NORIA_SERVING_LAUNCH"
FACTORY = "noria.serving.factory:app_from_environment"


class _Launch(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    config: ServingConfig
    settings: Settings


def launch_environment(config: ServingConfig, settings: Settings) -> dict[str, str]:
    """The environment variable that carries ``config`` and ``settings`` to the workers."""
    return {LAUNCH_VARIABLE: _Launch(config=config, settings=settings).model_dump_json()}


def app_from_environment() -> FastAPI:
    """A serving app built from :data:`LAUNCH_VARIABLE` (set by ``noria serve``)."""
    document = os.environ.get(LAUNCH_VARIABLE)
    if not document:
        raise InvalidArgument(
            f"{LAUNCH_VARIABLE} is not set; start worker processes with `noria serve "
            "--workers N`, which sets it, rather than calling this factory directly"
        )
    try:
        launch = _Launch.model_validate_json(document)
    except ValidationError as exc:
        raise InvalidArgument(
            f"{LAUNCH_VARIABLE} is not a valid launch description: {exc}"
        ) from None
    return create_serving_app(launch.config, settings=launch.settings)

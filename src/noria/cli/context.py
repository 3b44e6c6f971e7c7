"""What every command shares: the global options and how to open the stores."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import typer

from noria.client import Client, connect
from noria.settings import Settings, load_settings


@dataclass(frozen=True, slots=True)
class GlobalOptions:
    home: Path | None = None
    store_uri: str | None = None
    artifact_uri: str | None = None
    debug: bool = False  # --debug: tracebacks instead of one-line errors

    def settings(self, **overrides: str | None) -> Settings:
        merged: dict[str, Path | str | None] = {
            "home": self.home,
            "store_uri": self.store_uri,
            "artifact_uri": self.artifact_uri,
        }
        merged.update({key: value for key, value in overrides.items() if value is not None})
        return load_settings(**merged)


def options(ctx: typer.Context) -> GlobalOptions:
    found = ctx.find_object(GlobalOptions)
    return found if found is not None else GlobalOptions()


def open_client(ctx: typer.Context, *, initialize: bool = True) -> Client:
    return connect(options(ctx).settings(), initialize=initialize)

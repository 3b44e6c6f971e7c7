"""Noria's one settings object.

Built once at an entry point (CLI, server, SDK client) and passed down; nothing
reads the environment anywhere else. Sources, strongest first: explicit keyword
arguments, ``NORIA_*`` environment variables, ``noria.toml`` in the working
directory (or the file named by ``NORIA_CONFIG``), defaults.
"""

from __future__ import annotations

import getpass
import os
from pathlib import Path
from typing import Any

from pydantic import Field, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from noria.errors import InvalidArgument


def _config_file() -> Path:
    return Path(os.environ.get("NORIA_CONFIG", "noria.toml"))


def os_user() -> str:
    """The operating-system user name, or 'unknown' where there is none."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry, e.g. in some containers
        return "unknown"


class Settings(BaseSettings):
    """Where Noria keeps its state and who is acting.

    >>> Settings(home=Path("/tmp/x")).resolved_store_uri()
    'sqlite:////tmp/x/noria.db'
    """

    model_config = SettingsConfigDict(env_prefix="NORIA_", extra="forbid", frozen=True)

    home: Path = Field(default=Path(".noria"), description="Folder for noria.db and artifacts/.")
    store_uri: str | None = Field(default=None, description="Metadata store URI.")
    artifact_uri: str | None = Field(default=None, description="Artifact store URI or path.")
    user: str = Field(default_factory=os_user, description="Actor recorded in audit events.")
    http_timeout: float = Field(default=60.0, gt=0, description="Seconds per remote call.")
    http_token: str | None = Field(default=None, description="Bearer token for a remote server.")

    @field_validator("store_uri", "artifact_uri")
    @classmethod
    def _blank_is_unset(cls, value: str | None) -> str | None:
        return value.strip() or None if value is not None else None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml = TomlConfigSettingsSource(settings_cls, toml_file=_config_file())
        return (init_settings, env_settings, toml)

    def resolved_store_uri(self) -> str:
        """The metadata store URI, defaulting to ``<home>/noria.db``."""
        if self.store_uri:
            return self.store_uri
        return f"sqlite:///{self.home.expanduser().absolute() / 'noria.db'}"

    def resolved_artifact_uri(self) -> str | None:
        """The artifact store URI; ``None`` means "whatever the metadata store implies"."""
        if self.artifact_uri:
            return self.artifact_uri
        if self.store_uri and self.store_uri.startswith(("http://", "https://")):
            return None  # artifacts travel through the remote server
        return str(self.home.expanduser().absolute() / "artifacts")


def load_settings(**overrides: Any) -> Settings:
    """Build settings, turning pydantic's validation report into one Noria error."""
    from pydantic import ValidationError

    clean = {key: value for key, value in overrides.items() if value is not None}
    try:
        return Settings(**clean)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "settings"
        raise InvalidArgument(
            f"Invalid setting {where}={first.get('input')!r}: {first['msg']}. "
            f"Fix the NORIA_{where.upper()} variable or {_config_file()}."
        ) from None

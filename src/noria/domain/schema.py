"""Rules for comparing a store's schema revision with the one this code expects."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class SchemaStatus(StrEnum):
    EMPTY = "empty"  # no Noria tables yet: initialize() creates them
    CURRENT = "current"
    OUTDATED = "outdated"  # older revision: `noria db upgrade`
    TOO_NEW = "too_new"  # written by a newer Noria: refuse


@dataclass(frozen=True, slots=True)
class SchemaState:
    revision: str | None
    head: str
    status: SchemaStatus

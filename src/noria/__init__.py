"""Noria: one self-hosted platform for the whole machine-learning lifecycle.

Importing ``noria`` is cheap: the SDK's heavier pieces load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from noria.client import Client, connect
    from noria.domain.entities import EntityKind, EntityRef
    from noria.domain.lineage import LineageEdge, Relation
    from noria.domain.uris import parse_uri
    from noria.settings import Settings

_LAZY = {
    "Client": "noria.client",
    "connect": "noria.client",
    "EntityKind": "noria.domain.entities",
    "EntityRef": "noria.domain.entities",
    "LineageEdge": "noria.domain.lineage",
    "Relation": "noria.domain.lineage",
    "parse_uri": "noria.domain.uris",
    "Settings": "noria.settings",
}

__all__ = [
    "Client",
    "EntityKind",
    "EntityRef",
    "LineageEdge",
    "Relation",
    "Settings",
    "__version__",
    "connect",
    "parse_uri",
]


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'noria' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value

"""Parse and print the URIs users type: ``runs:/…``, ``models:/…``, ``datasets:/…``.

>>> parse_uri("models:/credit-risk@champion")
ModelAliasUri(name='credit-risk', alias='champion')
>>> str(parse_uri("models:/credit-risk/3"))
'models:/credit-risk/3'
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from noria.domain.entities import EntityKind, EntityRef
from noria.domain.ids import is_id
from noria.errors import InvalidUri

_NAME = r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}"
_NAME_PATTERN = re.compile(_NAME)
_VERSIONED = re.compile(rf"(?P<name>{_NAME})/(?P<version>[1-9][0-9]{{0,9}})")
_ALIAS = re.compile(rf"(?P<name>{_NAME})@(?P<alias>[A-Za-z][A-Za-z0-9_-]{{0,63}})")

ACCEPTED_FORMS = (
    "runs:/<run-id>[/<path>]",
    "models:/<name>",
    "models:/<name>/<version>",
    "models:/<name>@<alias>",
    "datasets:/<name>",
    "datasets:/<name>/<version>",
    "datasets:/<name>@latest",
)


@dataclass(frozen=True, slots=True)
class RunUri:
    run_id: str
    path: str = ""

    def __str__(self) -> str:
        return f"runs:/{self.run_id}/{self.path}" if self.path else f"runs:/{self.run_id}"

    def entity(self) -> EntityRef:
        return EntityRef(EntityKind.RUN, self.run_id)


@dataclass(frozen=True, slots=True)
class RegisteredModelUri:
    name: str

    def __str__(self) -> str:
        return f"models:/{self.name}"

    def entity(self) -> EntityRef:
        return EntityRef(EntityKind.REGISTERED_MODEL, self.name)


@dataclass(frozen=True, slots=True)
class ModelVersionUri:
    name: str
    version: int

    def __str__(self) -> str:
        return f"models:/{self.name}/{self.version}"

    def entity(self) -> EntityRef:
        return EntityRef(EntityKind.MODEL_VERSION, f"{self.name}/{self.version}")


@dataclass(frozen=True, slots=True)
class ModelAliasUri:
    """An alias moves between versions, so it names no fixed entity by itself."""

    name: str
    alias: str

    def __str__(self) -> str:
        return f"models:/{self.name}@{self.alias}"


@dataclass(frozen=True, slots=True)
class DatasetUri:
    name: str

    def __str__(self) -> str:
        return f"datasets:/{self.name}"

    def entity(self) -> EntityRef:
        return EntityRef(EntityKind.DATASET, self.name)


@dataclass(frozen=True, slots=True)
class DatasetVersionUri:
    name: str
    version: int

    def __str__(self) -> str:
        return f"datasets:/{self.name}/{self.version}"

    def entity(self) -> EntityRef:
        return EntityRef(EntityKind.DATASET_VERSION, f"{self.name}/{self.version}")


@dataclass(frozen=True, slots=True)
class DatasetAliasUri:
    """``datasets:/<name>@latest``: the newest version when it is resolved."""

    name: str
    alias: str

    def __str__(self) -> str:
        return f"datasets:/{self.name}@{self.alias}"


DATASET_ALIASES = ("latest",)

NoriaUri = (
    RunUri
    | RegisteredModelUri
    | ModelVersionUri
    | ModelAliasUri
    | DatasetUri
    | DatasetVersionUri
    | DatasetAliasUri
)


def _invalid(text: str, problem: str) -> InvalidUri:
    forms = ", ".join(ACCEPTED_FORMS)
    return InvalidUri(f"Invalid URI {text!r}: {problem}. Accepted forms: {forms}.")


def parse_uri(text: str) -> NoriaUri:
    """Parse one of the forms in :data:`ACCEPTED_FORMS`, or raise :class:`InvalidUri`."""
    scheme, sep, rest = text.partition(":/")
    if not sep or not rest or rest.startswith("/"):
        raise _invalid(text, "expected '<scheme>:/<rest>'")
    if scheme == "runs":
        return _parse_run(text, rest)
    if scheme == "models":
        return _parse_model(text, rest)
    if scheme == "datasets":
        return _parse_dataset(text, rest)
    raise _invalid(text, f"unknown scheme {scheme!r}")


def _parse_run(text: str, rest: str) -> RunUri:
    run_id, _, path = rest.partition("/")
    if not is_id(run_id):
        raise _invalid(text, f"run id {run_id!r} is not 32 lowercase hex characters")
    path = path.strip("/")
    if any(part in ("", ".", "..") for part in path.split("/")) and path:
        raise _invalid(text, f"artifact path {path!r} has an empty, '.' or '..' segment")
    return RunUri(run_id, path)


def _parse_model(text: str, rest: str) -> RegisteredModelUri | ModelVersionUri | ModelAliasUri:
    if match := _VERSIONED.fullmatch(rest):
        return ModelVersionUri(match["name"], int(match["version"]))
    if match := _ALIAS.fullmatch(rest):
        return ModelAliasUri(match["name"], match["alias"])
    if _NAME_PATTERN.fullmatch(rest):
        return RegisteredModelUri(rest)
    raise _invalid(text, "expected a model name, then '/<version>' (1, 2, …) or '@<alias>'")


def _parse_dataset(text: str, rest: str) -> DatasetUri | DatasetVersionUri | DatasetAliasUri:
    if match := _VERSIONED.fullmatch(rest):
        return DatasetVersionUri(match["name"], int(match["version"]))
    if match := _ALIAS.fullmatch(rest):
        if match["alias"] not in DATASET_ALIASES:
            raise _invalid(text, f"dataset alias {match['alias']!r} is unknown; use '@latest'")
        return DatasetAliasUri(match["name"], match["alias"])
    if _NAME_PATTERN.fullmatch(rest):
        return DatasetUri(rest)
    raise _invalid(
        text, "expected a dataset name, then optionally '/<version>' (1, 2, …) or '@latest'"
    )


def parse_entity_uri(text: str) -> EntityRef:
    """An entity from a URI: the forms above, or ``<kind-scheme>:/<key>`` for other kinds.

    Other kinds use their plural scheme, e.g. ``pipeline-runs:/<id>``, ``artifacts:/sha256:…``.
    """
    scheme, sep, rest = text.partition(":/")
    if scheme in ("runs", "models", "datasets"):
        parsed = parse_uri(text)
        if isinstance(parsed, ModelAliasUri | DatasetAliasUri):
            raise InvalidUri(
                f"{text!r} names an alias, which moves between versions; "
                "resolve it first or name a version: <scheme>:/<name>/<version>."
            )
        return parsed.entity()
    for kind in EntityKind:
        if kind.uri_scheme == scheme and sep and rest:
            return EntityRef(kind, rest)
    schemes = sorted({kind.uri_scheme for kind in EntityKind})
    raise InvalidUri(
        f"Invalid entity URI {text!r}: expected '<scheme>:/<key>' with a scheme among "
        f"{', '.join(schemes)}."
    )

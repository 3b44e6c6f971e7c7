"""References to any entity Noria records, and their URI forms."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from noria.errors import InvalidArgument

_KEY_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@/-]{0,511}")
_NAME = r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}"


class EntityKind(StrEnum):
    """Every kind of thing that lineage edges and audit events can point at."""

    STORE = "store"
    EXPERIMENT = "experiment"
    RUN = "run"
    DATASET = "dataset"
    DATASET_VERSION = "dataset_version"
    FEATURE_VIEW = "feature_view"
    ARTIFACT = "artifact"
    REGISTERED_MODEL = "registered_model"
    MODEL_VERSION = "model_version"
    PIPELINE = "pipeline"
    PIPELINE_RUN = "pipeline_run"
    STEP_RUN = "step_run"
    DEPLOYMENT = "deployment"
    MONITOR = "monitor"
    ALERT = "alert"
    SCHEDULE = "schedule"
    EVENT = "event"

    @property
    def uri_scheme(self) -> str:
        """``run`` → ``runs``, ``pipeline_run`` → ``pipeline-runs`` (the URI prefix)."""
        return _SCHEME_BY_KIND.get(self, self.value.replace("_", "-") + "s")


# Kinds whose URI shares a scheme with a parent kind (models:/name vs models:/name/3).
_SCHEME_BY_KIND = {
    EntityKind.REGISTERED_MODEL: "models",
    EntityKind.MODEL_VERSION: "models",
    EntityKind.DATASET: "datasets",
    EntityKind.DATASET_VERSION: "datasets",
}


# Kinds whose keys have a fixed shape, so that every ref prints a URI that parses back.
_KEY_RULES: dict[EntityKind, tuple[re.Pattern[str], str]] = {
    EntityKind.RUN: (re.compile(r"[0-9a-f]{32}"), "32 lowercase hex characters"),
    EntityKind.REGISTERED_MODEL: (re.compile(_NAME), "a name"),
    EntityKind.DATASET: (re.compile(_NAME), "a name"),
    EntityKind.MODEL_VERSION: (re.compile(rf"{_NAME}/[1-9][0-9]{{0,9}}"), "'<name>/<version>'"),
    EntityKind.DATASET_VERSION: (re.compile(rf"{_NAME}/[1-9][0-9]{{0,9}}"), "'<name>/<version>'"),
}


@dataclass(frozen=True, slots=True)
class EntityRef:
    """A pointer to one entity: its kind and its stable key.

    The key is the entity's id, or for named and versioned things ``name/version``.
    """

    kind: EntityKind
    key: str

    def __post_init__(self) -> None:
        if rule := _KEY_RULES.get(self.kind):
            pattern, shape = rule
            if not pattern.fullmatch(self.key):
                raise InvalidArgument(
                    f"Invalid {self.kind.value} key {self.key!r}: expected {shape}."
                )
        elif not _KEY_PATTERN.fullmatch(self.key):
            raise InvalidArgument(
                f"Invalid {self.kind.value} key {self.key!r}: use letters, digits and "
                "'._:@/-', starting with a letter or digit (at most 512 characters)."
            )

    @property
    def uri(self) -> str:
        return f"{self.kind.uri_scheme}:/{self.key}"

    def __str__(self) -> str:
        return self.uri

"""MLflow 3 logged models: a model logged on its own (not as a run's files), with an id.

MLflow's 3.x client creates one for every ``log_model`` call, uploads the model's files
under it, and registers versions from ``models:/<model_id>``. Noria keeps them so that
MLflow code runs unchanged against a Noria server; Noria's own ``log_model`` stores a
model as run files instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

from noria.domain.ids import new_id
from noria.errors import InvalidArgument

MODEL_ID_PREFIX = "m-"
_MODEL_ID = re.compile(r"m-[0-9a-f]{32}")
MAX_NAME_LENGTH = 500
MAX_TAG_KEY_LENGTH = 250
MAX_TAG_VALUE_LENGTH = 5000
MAX_PARAM_VALUE_LENGTH = 6000


class LoggedModelStatus(StrEnum):
    """MLflow's states: PENDING while files upload, then READY or FAILED."""

    PENDING = "PENDING"
    READY = "READY"
    FAILED = "FAILED"


@dataclass(frozen=True, slots=True)
class LoggedModel:
    id: str
    experiment_id: str
    name: str
    source_run_id: str | None
    model_type: str
    status: LoggedModelStatus
    status_message: str
    created_at: int  # ms since the epoch, as MLflow has them
    updated_at: int
    deleted: bool = False
    tags: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)

    @property
    def uri(self) -> str:
        """``models:/<id>``, the form MLflow registers versions from."""
        return f"models:/{self.id}"


@dataclass(frozen=True, slots=True)
class NewLoggedModel:
    experiment_id: str
    name: str
    source_run_id: str | None = None
    model_type: str = ""
    tags: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)


def new_model_id() -> str:
    return f"{MODEL_ID_PREFIX}{new_id()}"


def is_model_id(text: str) -> bool:
    return _MODEL_ID.fullmatch(text) is not None


def logged_model_id(source: str) -> str | None:
    """The id in a ``models:/<id>`` source, else ``None`` (``models:/name/3`` is not one)."""
    rest = source.removeprefix("models:/")
    return rest if rest != source and is_model_id(rest) else None


def check_new_logged_model(new: NewLoggedModel) -> NewLoggedModel:
    if not new.name or len(new.name) > MAX_NAME_LENGTH or "/" in new.name:
        raise InvalidArgument(
            f"Logged model name {new.name!r} is invalid: use 1 to {MAX_NAME_LENGTH} "
            "characters without '/'."
        )
    for key, value in new.tags.items():
        check_entry("tag", key, value, MAX_TAG_VALUE_LENGTH)
    for key, value in new.params.items():
        check_entry("param", key, value, MAX_PARAM_VALUE_LENGTH)
    return new


def check_entry(what: str, key: str, value: str, max_value: int) -> tuple[str, str]:
    if not key or len(key) > MAX_TAG_KEY_LENGTH:
        raise InvalidArgument(
            f"Logged model {what} key {key!r} is invalid: use 1 to {MAX_TAG_KEY_LENGTH} characters."
        )
    if len(value) > max_value:
        raise InvalidArgument(
            f"Logged model {what} {key!r} has a value of {len(value)} characters: the "
            f"limit is {max_value}."
        )
    return key, value

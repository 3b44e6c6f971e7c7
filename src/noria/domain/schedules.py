"""Schedules: what starts a pipeline by itself, and the record of every time it did.

A :class:`Schedule` starts a pipeline (``module:pipeline``) on one kind of trigger: a cron
expression (UTC), a new version of a named dataset, or a named :class:`Event` (raised by
``client.triggers.raise_event``, e.g. by a monitoring alert). Each time it fires, one
:class:`Firing` is stored under the occurrence it answers — the cron time, the dataset
version, the event id — and the store refuses a second firing of the same occurrence, so
two schedulers never start the same run twice.

Times are integer milliseconds since the Unix epoch (UTC), as in the pipeline records.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from noria.domain.entities import EntityKind, EntityRef
from noria.errors import InvalidArgument

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
_EVENT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
_PARAM_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")
_PIPELINE_REF = re.compile(r"[^:\s][^\s]*:[A-Za-z_][A-Za-z0-9_.]*")
MAX_PIPELINE_REF_LENGTH = 1000
MAX_CRON_LENGTH = 200
MAX_EXECUTOR_LENGTH = 200
MAX_OCCURRENCE_LENGTH = 200
MAX_PARAMS = 100
MAX_PARAM_VALUE_LENGTH = 6000
MAX_PAYLOAD_BYTES = 256 * 1024


class TriggerKind(StrEnum):
    CRON = "cron"  # on a cron expression, in UTC
    DATASET = "dataset"  # on each new version of a named dataset
    EVENT = "event"  # on each raised event of a name


class FiringStatus(StrEnum):
    RUNNING = "RUNNING"  # claimed; its pipeline run is under way
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"  # the run failed, or could not start (the error says which)
    COALESCED = "COALESCED"  # an event answered by a firing for a newer event

    @property
    def is_terminal(self) -> bool:
        return self is not FiringStatus.RUNNING


def check_schedule_name(name: str) -> str:
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise InvalidArgument(
            f"Invalid schedule name {name!r}: use 1 to 128 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit."
        )
    return name


def check_event_name(name: str) -> str:
    if not isinstance(name, str) or not _EVENT_NAME.fullmatch(name):
        raise InvalidArgument(
            f"Invalid event name {name!r}: use 1 to 128 letters, digits, '.', '_', ':' or '-', "
            "starting with a letter or digit (e.g. monitor.alert or retrain-credit)."
        )
    return name


def check_pipeline_ref(ref: str) -> str:
    if (
        not isinstance(ref, str)
        or len(ref) > MAX_PIPELINE_REF_LENGTH
        or not _PIPELINE_REF.fullmatch(ref)
    ):
        raise InvalidArgument(
            f"Invalid pipeline reference {ref!r}: use module:pipeline (e.g. flows.train:training) "
            "or path/to/file.py:pipeline."
        )
    return ref


def check_params(params: Mapping[str, str]) -> dict[str, str]:
    """Parameters as ``--param`` text: parsed to each parameter's type when the run starts."""
    if len(params) > MAX_PARAMS:
        raise InvalidArgument(f"A schedule takes at most {MAX_PARAMS} parameters.")
    checked = {}
    for name, value in params.items():
        if not isinstance(name, str) or not _PARAM_NAME.fullmatch(name):
            raise InvalidArgument(
                f"Invalid parameter name {name!r}: use a Python identifier, e.g. --param lr=0.1."
            )
        if not isinstance(value, str) or len(value) > MAX_PARAM_VALUE_LENGTH:
            raise InvalidArgument(
                f"Parameter {name!r} must be text of at most {MAX_PARAM_VALUE_LENGTH} characters "
                "(as written after --param NAME=)."
            )
        checked[name] = value
    return checked


def check_payload(payload: Mapping[str, Any]) -> str:
    """The payload as JSON text; refuses what JSON cannot hold and oversized payloads."""
    if not isinstance(payload, Mapping):
        raise InvalidArgument(
            f"An event payload is a JSON object, got {type(payload).__name__}: "
            'e.g. {"reason": "drift"}.'
        )
    try:
        text = json.dumps(dict(payload), sort_keys=True, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidArgument(
            f"The event payload is not JSON ({exc}): use strings, numbers, booleans, null, "
            "lists and objects."
        ) from None
    if len(text.encode()) > MAX_PAYLOAD_BYTES:
        raise InvalidArgument(
            f"The event payload is {len(text.encode())} bytes; the limit is {MAX_PAYLOAD_BYTES}: "
            "send a reference (a URI) to large data instead."
        )
    return text


@dataclass(frozen=True, slots=True)
class Schedule:
    """A pipeline started by a trigger, with its firing state.

    ``cursor`` is what the schedule has answered: for cron, the time (ms) of the newest
    occurrence fired (or the time it was created or resumed); for datasets, the newest
    version number fired (or the newest one when created or resumed). Event triggers answer
    every event raised at or after ``active_since`` once; they keep no cursor.
    """

    name: str
    pipeline: str  # module:pipeline or path/to/file.py:pipeline
    kind: TriggerKind
    cron: str | None = None
    dataset: str | None = None
    event: str | None = None
    params: Mapping[str, str] = field(default_factory=dict)
    executor: str = "local"
    cooldown_ms: int = 0
    enabled: bool = True
    created_by: str = ""
    created_at: int = 0
    active_since: int = 0  # created or last resumed
    cursor: int | None = None
    last_fired_at: int | None = None
    last_occurrence: str | None = None

    def __post_init__(self) -> None:
        check_schedule_name(self.name)
        check_pipeline_ref(self.pipeline)
        object.__setattr__(self, "kind", TriggerKind(self.kind))
        object.__setattr__(self, "params", check_params(self.params))
        wanted = {
            TriggerKind.CRON: "cron",
            TriggerKind.DATASET: "dataset",
            TriggerKind.EVENT: "event",
        }[self.kind]
        given = [name for name in ("cron", "dataset", "event") if getattr(self, name)]
        if given != [wanted]:
            raise InvalidArgument(
                f"A {self.kind.value} schedule takes exactly one trigger, {wanted}; "
                f"got {', '.join(given) or 'none'}."
            )
        if self.dataset is not None:
            check_schedule_name(self.dataset)  # dataset names have the same shape
        if self.event is not None:
            check_event_name(self.event)
        if self.cron is not None and len(self.cron) > MAX_CRON_LENGTH:
            raise InvalidArgument(f"A cron expression has at most {MAX_CRON_LENGTH} characters.")
        if not self.executor or len(self.executor) > MAX_EXECUTOR_LENGTH:
            raise InvalidArgument(f"Invalid executor {self.executor!r}: use e.g. local.")
        if self.cooldown_ms < 0:
            raise InvalidArgument(f"The cooldown {self.cooldown_ms} ms is negative; use e.g. 10m.")

    @property
    def trigger(self) -> str:
        """What it fires on, for people: ``cron '0 3 * * *'``, ``dataset credit``, …"""
        if self.kind is TriggerKind.CRON:
            return f"cron '{self.cron}'"
        return f"{self.kind.value} {self.dataset or self.event}"

    def entity(self) -> EntityRef:
        return EntityRef(EntityKind.SCHEDULE, self.name)


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One thing a schedule may fire for, as the scheduler found it.

    ``key`` identifies it among the schedule's firings (the cron time as ISO text, the
    dataset version URI, the event id). ``cursor`` must exceed the schedule's cursor for
    the claim to succeed (cron time, dataset version); events have none. ``raised_at``
    bounds the older unanswered events that this firing answers too (coalesced).
    """

    key: str
    cursor: int | None = None
    raised_at: int | None = None

    def __post_init__(self) -> None:
        if not self.key or len(self.key) > MAX_OCCURRENCE_LENGTH:
            raise InvalidArgument(
                f"Invalid occurrence {self.key!r}: 1 to {MAX_OCCURRENCE_LENGTH} characters."
            )


@dataclass(frozen=True, slots=True)
class Firing:
    """One occurrence a schedule answered, and the pipeline run it started."""

    id: int
    schedule: str
    occurrence: str
    status: FiringStatus
    fired_at: int
    scheduler: str  # host:pid of the scheduler that claimed it
    ended_at: int | None = None
    pipeline_run_id: str | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Event:
    """A named event with a JSON payload; event triggers of that name fire on it.

    ``handled_by`` lists the schedules that have fired for it (or answered it with a
    firing for a newer event); an event nobody listens to stays unhandled.
    """

    id: str
    name: str
    payload: Mapping[str, Any]
    raised_at: int
    raised_by: str
    handled_by: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        check_event_name(self.name)

    def entity(self) -> EntityRef:
        return EntityRef(EntityKind.EVENT, self.id)

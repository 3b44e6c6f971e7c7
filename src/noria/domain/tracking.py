"""Experiments, runs, params, metrics and tags: the tracker's frozen types.

Times are integer milliseconds since the Unix epoch (UTC), as MLflow's protocol
has them, so values cross the wire and the database without conversion.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, overload

from noria.domain.paging import check_page_size
from noria.errors import InvalidArgument


class RunStatus(StrEnum):
    RUNNING = "RUNNING"
    SCHEDULED = "SCHEDULED"
    FINISHED = "FINISHED"
    FAILED = "FAILED"
    KILLED = "KILLED"

    @property
    def is_terminal(self) -> bool:
        return self in (RunStatus.FINISHED, RunStatus.FAILED, RunStatus.KILLED)


class LifecycleStage(StrEnum):
    ACTIVE = "active"
    DELETED = "deleted"


class ViewType(StrEnum):
    """Which lifecycle stages a listing or search includes."""

    ACTIVE_ONLY = "active_only"
    DELETED_ONLY = "deleted_only"
    ALL = "all"

    def stages(self) -> tuple[LifecycleStage, ...]:
        if self is ViewType.ACTIVE_ONLY:
            return (LifecycleStage.ACTIVE,)
        if self is ViewType.DELETED_ONLY:
            return (LifecycleStage.DELETED,)
        return (LifecycleStage.ACTIVE, LifecycleStage.DELETED)


DEFAULT_EXPERIMENT_ID = "0"
DEFAULT_EXPERIMENT_NAME = "Default"


@dataclass(frozen=True, slots=True)
class Experiment:
    id: str
    name: str
    artifact_location: str
    lifecycle_stage: LifecycleStage
    creation_time: int
    last_update_time: int
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Metric:
    """One point of a metric series. NaN and ±inf are legitimate values."""

    key: str
    value: float
    timestamp: int
    step: int = 0


class MetricBatch(Sequence[Metric]):
    """Metric points as four parallel columns, the shape they travel in over the wire.

    A sequence of :class:`Metric` to whoever iterates it; a store that can take the
    columns as they are (the SQL store does) skips making 100,000 objects and reading
    them back apart. ``MetricBatch(["loss"], [0.5], [1700000000000], [3])``.
    """

    __slots__ = ("keys", "steps", "timestamps", "values")

    def __init__(
        self, keys: list[str], values: list[float], timestamps: list[int], steps: list[int]
    ) -> None:
        if not len(keys) == len(values) == len(timestamps) == len(steps):
            raise InvalidArgument(
                f"A metric batch needs one key, value, timestamp and step per point; got "
                f"{len(keys)}, {len(values)}, {len(timestamps)} and {len(steps)}."
            )
        self.keys = keys
        self.values = values
        self.timestamps = timestamps
        self.steps = steps

    def __len__(self) -> int:
        return len(self.keys)

    @overload
    def __getitem__(self, index: int) -> Metric: ...

    @overload
    def __getitem__(self, index: slice) -> MetricBatch: ...

    def __getitem__(self, index: int | slice) -> Metric | MetricBatch:
        if isinstance(index, slice):
            return MetricBatch(
                self.keys[index], self.values[index], self.timestamps[index], self.steps[index]
            )
        return Metric(
            self.keys[index], self.values[index], self.timestamps[index], self.steps[index]
        )

    def __iter__(self) -> Iterator[Metric]:
        return map(Metric, self.keys, self.values, self.timestamps, self.steps)

    def __repr__(self) -> str:
        return f"MetricBatch({len(self)} points)"


@dataclass(frozen=True, slots=True)
class Param:
    key: str
    value: str


@dataclass(frozen=True, slots=True)
class RunTag:
    key: str
    value: str


@dataclass(frozen=True, slots=True)
class RunInput:
    """A dataset a run read: a Noria dataset version or an external source (MLflow)."""

    name: str
    digest: str
    source_type: str = ""
    source: str = ""
    schema: str = ""
    profile: str = ""
    context: str = ""  # e.g. "training", "validation"


@dataclass(frozen=True, slots=True)
class RunInfo:
    id: str
    experiment_id: str
    name: str
    status: RunStatus
    start_time: int
    end_time: int | None
    lifecycle_stage: LifecycleStage
    user: str
    parent_id: str | None = None


@dataclass(frozen=True, slots=True)
class Run:
    """A run with its params, tags and the latest value of each metric."""

    info: RunInfo
    params: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, Metric] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    inputs: list[RunInput] = field(default_factory=list)

    @property
    def id(self) -> str:
        return self.info.id


@dataclass(frozen=True, slots=True)
class MetricHistory:
    """A metric's points as parallel columns, ordered by (step, timestamp)."""

    key: str
    steps: list[int]
    timestamps: list[int]
    values: list[float]

    def __len__(self) -> int:
        return len(self.steps)

    def points(self) -> list[Metric]:
        return [
            Metric(self.key, value, timestamp, step)
            for step, timestamp, value in zip(self.steps, self.timestamps, self.values, strict=True)
        ]


@dataclass(frozen=True, slots=True)
class RunArtifact:
    """A file logged to a run: its path inside the run and its content digest."""

    path: str
    digest: str
    size: int
    media_type: str


@dataclass(frozen=True, slots=True)
class NewRun:
    """What creating a run needs besides its id, which comes with the :class:`RunWrite`."""

    experiment_id: str
    name: str
    user: str
    start_time: int
    tags: tuple[RunTag, ...] = ()
    parent_id: str | None = None


@dataclass(frozen=True, slots=True)
class RunWrite:
    """Writes to one run gathered into one transaction (one request to a server).

    Applied in this order, all or nothing: create the run (``create``), params, tags,
    metric points, artifact entries, then the end (``status`` and ``end_time``)."""

    run_id: str
    create: NewRun | None = None
    params: Sequence[Param] = ()
    tags: Sequence[RunTag] = ()
    metrics: Sequence[Metric] = ()
    artifacts: Sequence[RunArtifact] = ()
    status: RunStatus | None = None
    end_time: int | None = None


@dataclass(frozen=True, slots=True)
class RunSearch:
    """What to search: experiments, a filter in the search DSL, an ordering, a page."""

    experiment_ids: tuple[str, ...]
    filter: str = ""
    order_by: tuple[str, ...] = ()
    view: ViewType = ViewType.ACTIVE_ONLY
    limit: int = 100
    page_token: str | None = None

    def __post_init__(self) -> None:
        check_page_size(self.limit)
        if not self.experiment_ids:
            raise InvalidArgument("Name at least one experiment to search in.")


# Limits follow MLflow's so that anything MLflow accepts, Noria accepts too.
MAX_KEY_LENGTH = 250
MAX_PARAM_VALUE_LENGTH = 6000
MAX_TAG_VALUE_LENGTH = 8000
MAX_NAME_LENGTH = 500
MAX_STEP = 2**63 - 1
MIN_STEP = -(2**63)
_KEY_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-. /:")


def check_key(key: str, what: str) -> str:
    """Keys: 1 to 250 of letters, digits, ``_ - . / :`` and spaces; no '..' path tricks."""
    if not isinstance(key, str) or not key:
        raise InvalidArgument(f"Invalid {what} key {key!r}: it must be a non-empty string.")
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidArgument(
            f"Invalid {what} key {key[:40]!r}…: {len(key)} characters, at most {MAX_KEY_LENGTH}."
        )
    if not _KEY_CHARS.issuperset(key) or key.startswith("/") or ".." in key.split("/"):
        raise InvalidArgument(
            f"Invalid {what} key {key!r}: use letters, digits, '_', '-', '.', '/', ':' "
            "and spaces, not starting with '/'."
        )
    return key


def check_value(value: Any, what: str, key: str, limit: int) -> str:
    text = value if isinstance(value, str) else str(value)
    if len(text) > limit:
        raise InvalidArgument(
            f"{what.capitalize()} {key!r} has a value of {len(text)} characters; "
            f"the limit is {limit}."
        )
    return text


def check_metric_value(key: str, value: Any) -> float:
    """A real number (NumPy scalars too), NaN and ±inf included; bools and text are refused."""
    if isinstance(value, float):
        return value
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return float(value)
    raise InvalidArgument(
        f"Metric {key!r} got {value!r} ({type(value).__name__}): metric values must be "
        "numbers (NaN and ±inf are allowed)."
    )


def check_step(step: Any) -> int:
    integral = isinstance(step, numbers.Integral) and not isinstance(step, bool)
    if integral and MIN_STEP <= int(step) <= MAX_STEP:
        return int(step)
    raise InvalidArgument(
        f"Metric step {step!r} must be a whole number between -2**63 and 2**63-1."
    )


def is_finite(value: float) -> bool:
    return math.isfinite(value)

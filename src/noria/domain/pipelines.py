"""Pipelines: run records, step records, cache entries, and the task an executor runs.

Times are integer milliseconds since the Unix epoch (UTC), as in the tracking tables,
so a pipeline run and its tracking run compare directly.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from noria.domain.entities import EntityKind, EntityRef
from noria.errors import InvalidArgument

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9._-]{0,127}")
_CACHE_KEY = re.compile(r"[0-9a-f]{64}")
MAX_ERROR_LENGTH = 8000


class PipelineStatus(StrEnum):
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"

    @property
    def is_terminal(self) -> bool:
        return self is not PipelineStatus.RUNNING


class StepStatus(StrEnum):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"  # ran, or was taken from the cache (``cache_hit``)
    FAILED = "FAILED"
    SKIPPED = "SKIPPED"  # an upstream step failed, so this one never ran

    @property
    def is_terminal(self) -> bool:
        return self in (StepStatus.SUCCEEDED, StepStatus.FAILED, StepStatus.SKIPPED)


def check_name(name: str, what: str) -> str:
    """Pipeline and step names: a letter or '_' first, then letters, digits and '._-'."""
    if not _NAME.fullmatch(name):
        raise InvalidArgument(
            f"Invalid {what} name {name!r}: use letters, digits and '._-', starting with a "
            "letter or '_' (at most 128 characters)."
        )
    return name


def check_cache_key(key: str) -> str:
    if not _CACHE_KEY.fullmatch(key):
        raise InvalidArgument(f"Invalid cache key {key!r}: expected 64 lowercase hex characters.")
    return key


def clip_error(text: str | None) -> str | None:
    """Errors are stored whole up to a limit; a longer one keeps its start and its end."""
    if text is None or len(text) <= MAX_ERROR_LENGTH:
        return text
    half = MAX_ERROR_LENGTH // 2 - 10
    return f"{text[:half]}\n[… cut …]\n{text[-half:]}"


@dataclass(frozen=True, slots=True)
class OutputRef:
    """One stored value: an artifact, and how to turn its bytes back into the value.

    ``serializer`` names the codec (``parquet``, ``npy``, ``json``, ``model``, ``dataset``,
    ``pickle``, …); ``python_type`` is the value's ``module.qualname``; ``refers_to`` is the
    URI of the entity a reference points at (a dataset version stored by reference).
    """

    name: str
    digest: str  # ``sha256:<hex>``
    size: int
    serializer: str
    media_type: str
    python_type: str
    refers_to: str | None = None

    def entity(self) -> EntityRef:
        return EntityRef(EntityKind.ARTIFACT, self.digest)


@dataclass(frozen=True, slots=True)
class ResourceHints:
    """What one invocation needs; executors that schedule (Ray) honour them."""

    num_cpus: float | None = None
    num_gpus: float | None = None
    memory: int | None = None  # bytes

    def __post_init__(self) -> None:
        for name in ("num_cpus", "num_gpus", "memory"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise InvalidArgument(f"Resource hint {name}={value} cannot be negative.")


@dataclass(frozen=True, slots=True)
class PipelineRun:
    id: str
    pipeline: str
    status: PipelineStatus
    params: Mapping[str, Any]  # JSON values
    executor: str
    created_by: str
    started_at: int
    ended_at: int | None = None
    tracking_run_id: str | None = None
    error: str | None = None

    def entity(self) -> EntityRef:
        return EntityRef(EntityKind.PIPELINE_RUN, self.id)

    @property
    def uri(self) -> str:
        return self.entity().uri


@dataclass(frozen=True, slots=True)
class StepRun:
    id: str
    pipeline_run_id: str
    name: str
    step_ref: str  # ``module:qualname`` of the step function
    status: StepStatus = StepStatus.PENDING
    upstream: tuple[str, ...] = ()  # names of the steps this one waits for
    cache_key: str | None = None
    cache_hit: bool = False
    cached_from: str | None = None  # the step run whose outputs a cache hit reused
    attempts: int = 0
    started_at: int | None = None
    ended_at: int | None = None
    inputs: tuple[OutputRef, ...] = ()  # named by the parameter they fill
    outputs: tuple[OutputRef, ...] = ()
    logs_digest: str | None = None  # captured stdout and stderr, an artifact
    tracking_run_id: str | None = None
    error: str | None = None

    def entity(self) -> EntityRef:
        return EntityRef(EntityKind.STEP_RUN, self.id)

    @property
    def duration_ms(self) -> int | None:
        if self.started_at is None or self.ended_at is None:
            return None
        return self.ended_at - self.started_at


@dataclass(frozen=True, slots=True)
class CacheEntry:
    """A step result that later runs with the same cache key may reuse."""

    key: str
    pipeline: str
    step_name: str
    step_run_id: str
    outputs: tuple[OutputRef, ...]
    created_at: int


@dataclass(frozen=True, slots=True)
class StoreAddress:
    """Where a worker finds the stores: enough for any process to reconnect.

    No secrets: a worker reads its token from its own ``NORIA_HTTP_TOKEN``.
    """

    store_uri: str
    artifact_uri: str | None
    home: str
    user: str


@dataclass(frozen=True, slots=True)
class StepReference:
    """How any process finds a step function: import ``module`` and walk ``qualname``.

    ``source_file`` lets a worker import a module that is not on its ``sys.path`` (a script
    named on the command line): the import root is the file's folder, one level up for each
    dot in ``module``.
    """

    module: str
    qualname: str
    source_file: str | None = None

    def __str__(self) -> str:
        return f"{self.module}:{self.qualname}"


@dataclass(frozen=True, slots=True)
class StepTask:
    """One attempt at one step, described completely and picklably.

    Everything a worker in another process or on another machine needs: which function,
    its resolved parameters, its inputs as artifact references (the bytes come from the
    artifact store, never through the driver), resource hints and where the stores are.
    ``session`` lets a worker in the driver's own process reuse the driver's open stores.
    """

    pipeline_run_id: str
    step_run_id: str
    step_name: str
    step: StepReference
    params: Mapping[str, Any]  # small literal values: JSON's types, paths, dates, enums
    inputs: tuple[OutputRef, ...]  # named by parameter
    output_names: tuple[str, ...]
    attempt: int
    store: StoreAddress
    session: str
    experiment_id: str | None = None
    parent_run_id: str | None = None
    resources: ResourceHints = field(default_factory=ResourceHints)
    timeout_s: float | None = None
    retries: int = 0


@dataclass(frozen=True, slots=True)
class StepOutcome:
    """What a worker hands back: references only, never the values themselves."""

    step_run_id: str
    attempt: int
    ok: bool
    started_at: int
    ended_at: int
    outputs: tuple[OutputRef, ...] = ()
    logs_digest: str | None = None
    tracking_run_id: str | None = None
    error: str | None = None  # ``Type: message``, one line
    traceback: str | None = None
    warnings: tuple[str, ...] = ()


def refs_to_json(refs: tuple[OutputRef, ...]) -> list[dict[str, Any]]:
    """Output references as plain JSON objects (how the stores and the wire keep them)."""
    return [
        {
            "name": ref.name,
            "digest": ref.digest,
            "size": ref.size,
            "serializer": ref.serializer,
            "media_type": ref.media_type,
            "python_type": ref.python_type,
            "refers_to": ref.refers_to,
        }
        for ref in refs
    ]


def refs_from_json(items: list[dict[str, Any]]) -> tuple[OutputRef, ...]:
    return tuple(
        OutputRef(
            name=str(item["name"]),
            digest=str(item["digest"]),
            size=int(item["size"]),
            serializer=str(item["serializer"]),
            media_type=str(item["media_type"]),
            python_type=str(item["python_type"]),
            refers_to=item.get("refers_to"),
        )
        for item in items
    )

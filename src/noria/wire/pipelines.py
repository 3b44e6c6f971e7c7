"""Pipeline record shapes: runs, step runs, cache entries and their pages."""

from __future__ import annotations

from typing import Any

from pydantic import Field, JsonValue

from noria.domain.pipelines import (
    CacheEntry,
    OutputRef,
    PipelineRun,
    PipelineStatus,
    StepRun,
    StepStatus,
)
from noria.wire.common import WireModel

_ID = r"^[0-9a-f]{32}$"
_CACHE_KEY = r"^[0-9a-f]{64}$"


class OutputRefBody(WireModel):
    name: str
    digest: str
    size: int = Field(ge=0)
    serializer: str
    media_type: str
    python_type: str
    refers_to: str | None = None

    @classmethod
    def from_domain(cls, ref: OutputRef) -> OutputRefBody:
        return cls(
            name=ref.name,
            digest=ref.digest,
            size=ref.size,
            serializer=ref.serializer,
            media_type=ref.media_type,
            python_type=ref.python_type,
            refers_to=ref.refers_to,
        )

    def to_domain(self) -> OutputRef:
        return OutputRef(**self.model_dump())


def _refs(bodies: list[OutputRefBody]) -> tuple[OutputRef, ...]:
    return tuple(body.to_domain() for body in bodies)


class PipelineRunBody(WireModel):
    id: str = Field(pattern=_ID)
    pipeline: str
    status: PipelineStatus
    params: dict[str, JsonValue]
    executor: str
    created_by: str
    started_at: int
    ended_at: int | None = None
    tracking_run_id: str | None = None
    error: str | None = None

    @classmethod
    def from_domain(cls, run: PipelineRun) -> PipelineRunBody:
        return cls(
            id=run.id,
            pipeline=run.pipeline,
            status=run.status,
            params=dict(run.params),
            executor=run.executor,
            created_by=run.created_by,
            started_at=run.started_at,
            ended_at=run.ended_at,
            tracking_run_id=run.tracking_run_id,
            error=run.error,
        )

    def to_domain(self) -> PipelineRun:
        return PipelineRun(
            id=self.id,
            pipeline=self.pipeline,
            status=self.status,
            params=dict(self.params),
            executor=self.executor,
            created_by=self.created_by,
            started_at=self.started_at,
            ended_at=self.ended_at,
            tracking_run_id=self.tracking_run_id,
            error=self.error,
        )


class StepRunBody(WireModel):
    id: str = Field(pattern=_ID)
    pipeline_run_id: str = Field(pattern=_ID)
    name: str
    step_ref: str
    status: StepStatus
    upstream: list[str] = []
    cache_key: str | None = Field(default=None, pattern=_CACHE_KEY)
    cache_hit: bool = False
    cached_from: str | None = None
    attempts: int = Field(default=0, ge=0)
    started_at: int | None = None
    ended_at: int | None = None
    inputs: list[OutputRefBody] = []
    outputs: list[OutputRefBody] = []
    logs_digest: str | None = None
    tracking_run_id: str | None = None
    error: str | None = None

    @classmethod
    def from_domain(cls, step: StepRun) -> StepRunBody:
        fields: dict[str, Any] = {name: getattr(step, name) for name in cls.model_fields}
        fields["upstream"] = list(step.upstream)
        fields["inputs"] = [OutputRefBody.from_domain(ref) for ref in step.inputs]
        fields["outputs"] = [OutputRefBody.from_domain(ref) for ref in step.outputs]
        return cls(**fields)

    def to_domain(self) -> StepRun:
        fields: dict[str, Any] = {name: getattr(self, name) for name in type(self).model_fields}
        fields["upstream"] = tuple(self.upstream)
        fields["inputs"] = _refs(self.inputs)
        fields["outputs"] = _refs(self.outputs)
        return StepRun(**fields)


class CreatePipelineRunRequest(WireModel):
    run: PipelineRunBody
    steps: list[StepRunBody]


class FinishRunRequest(WireModel):
    status: PipelineStatus
    ended_at: int
    error: str | None = None


class PipelineRunPage(WireModel):
    runs: list[PipelineRunBody]
    next_page_token: str | None = None


class StepList(WireModel):
    steps: list[StepRunBody]


class CacheEntryBody(WireModel):
    key: str = Field(pattern=_CACHE_KEY)
    pipeline: str
    step_name: str
    step_run_id: str = Field(pattern=_ID)
    outputs: list[OutputRefBody]
    created_at: int

    @classmethod
    def from_domain(cls, entry: CacheEntry) -> CacheEntryBody:
        return cls(
            key=entry.key,
            pipeline=entry.pipeline,
            step_name=entry.step_name,
            step_run_id=entry.step_run_id,
            outputs=[OutputRefBody.from_domain(ref) for ref in entry.outputs],
            created_at=entry.created_at,
        )

    def to_domain(self) -> CacheEntry:
        return CacheEntry(
            key=self.key,
            pipeline=self.pipeline,
            step_name=self.step_name,
            step_run_id=self.step_run_id,
            outputs=_refs(self.outputs),
            created_at=self.created_at,
        )


class CacheClearResponse(WireModel):
    cleared: int

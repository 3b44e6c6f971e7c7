"""Model registry shapes: registered models, versions, aliases, approvals and gate records."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from pydantic import ConfigDict

from noria.domain.registry import (
    ApprovalPolicy,
    GateRecord,
    ModelVersion,
    NewModelVersion,
    RegisteredModel,
    VersionStatus,
)
from noria.wire.common import WireModel
from noria.wire.metrics import MetricValue

# Metrics at registration may be NaN or ±inf (a diverged loss): JSON carries them as strings,
# written by ``model_dump_json()``.
_FLOAT_STRINGS = ConfigDict(extra="forbid", frozen=True, ser_json_inf_nan="strings")


class PolicyBody(WireModel):
    protected_aliases: list[str] = []
    require_gate: bool = True
    require_approval: bool = True

    @classmethod
    def from_domain(cls, policy: ApprovalPolicy) -> PolicyBody:
        return cls.model_validate(asdict(policy))

    def to_domain(self) -> ApprovalPolicy:
        return ApprovalPolicy(
            protected_aliases=tuple(self.protected_aliases),
            require_gate=self.require_gate,
            require_approval=self.require_approval,
        )


class ModelBody(WireModel):
    name: str
    description: str
    created_at: int
    updated_at: int
    tags: dict[str, str]
    aliases: dict[str, int]
    policy: PolicyBody
    latest_version: int | None = None

    @classmethod
    def from_domain(cls, model: RegisteredModel) -> ModelBody:
        return cls.model_validate(asdict(model))

    def to_domain(self) -> RegisteredModel:
        fields = dict(self)
        fields["policy"] = self.policy.to_domain()
        return RegisteredModel(**fields)


class ModelPage(WireModel):
    models: list[ModelBody]
    next_page_token: str | None = None


class CreateModelRequest(WireModel):
    name: str
    description: str = ""
    tags: dict[str, str] = {}


class UpdateModelRequest(WireModel):
    description: str


class GateBody(WireModel):
    passed: bool
    verdict_json: str
    recorded_at: int
    recorded_by: str

    def to_domain(self) -> GateRecord:
        return GateRecord(**dict(self))


class ModelVersionBody(WireModel):
    model_config = _FLOAT_STRINGS

    name: str
    version: int
    uri: str
    source: str
    run_id: str | None
    digest: str
    status: VersionStatus
    description: str
    created_by: str
    created_at: int
    updated_at: int
    tags: dict[str, str]
    aliases: list[str]
    metrics: dict[str, MetricValue]
    signature_json: str
    gate: GateBody | None = None
    approved_by: str | None = None
    approved_at: int | None = None

    @classmethod
    def from_domain(cls, version: ModelVersion) -> ModelVersionBody:
        return cls.model_validate({**asdict(version), "uri": version.uri})

    def to_domain(self) -> ModelVersion:
        fields: dict[str, Any] = dict(self)
        del fields["uri"]
        fields["aliases"] = tuple(self.aliases)
        fields["gate"] = None if self.gate is None else self.gate.to_domain()
        return ModelVersion(**fields)


class ModelVersionPage(WireModel):
    versions: list[ModelVersionBody]
    next_page_token: str | None = None


class CreateVersionRequest(WireModel):
    model_config = _FLOAT_STRINGS

    source: str
    created_by: str
    run_id: str | None = None
    digest: str = ""
    description: str = ""
    tags: dict[str, str] = {}
    metrics: dict[str, MetricValue] = {}
    signature_json: str = ""

    @classmethod
    def from_domain(cls, new: NewModelVersion) -> CreateVersionRequest:
        fields = asdict(new)
        del fields["name"]
        return cls.model_validate(fields)

    def to_domain(self, name: str) -> NewModelVersion:
        return NewModelVersion(name=name, **dict(self))


class UpdateVersionRequest(WireModel):
    description: str


class TagRequest(WireModel):
    value: str


class ApproveRequest(WireModel):
    approver: str


class SetAliasRequest(WireModel):
    version: int


class AliasMoved(WireModel):
    previous_version: int | None

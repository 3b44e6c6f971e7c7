"""Ports of the model registry: registered models, their versions, and promotion (aliases,
approvals). Rules that guard a move (approval policy, delete protection) are checked by the
repos inside the write transaction, so two writers cannot race past them."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from noria.domain.paging import Page
from noria.domain.registry import (
    ApprovalPolicy,
    GateRecord,
    ModelVersion,
    NewModelVersion,
    RegisteredModel,
)


@runtime_checkable
class RegisteredModelRepo(Protocol):
    def create_model(
        self, name: str, *, description: str = "", tags: dict[str, str] | None = None
    ) -> RegisteredModel:
        """Raises ``AlreadyExists`` for a taken name."""
        ...

    def get_model(self, name: str) -> RegisteredModel: ...

    def search_models(
        self, *, name_like: str | None = None, limit: int = 100, page_token: str | None = None
    ) -> Page[RegisteredModel]:
        """By name."""
        ...

    def update_model(self, name: str, *, description: str) -> RegisteredModel: ...

    def delete_model(self, name: str, *, force: bool = False) -> RegisteredModel:
        """Deletes the model and its versions; a model with aliases needs ``force``."""
        ...

    def set_model_tag(self, name: str, key: str, value: str) -> None: ...

    def delete_model_tag(self, name: str, key: str) -> None: ...

    def set_policy(self, name: str, policy: ApprovalPolicy) -> RegisteredModel: ...


@runtime_checkable
class ModelVersionRepo(Protocol):
    def create_version(self, new: NewModelVersion) -> ModelVersion:
        """The next version of an existing model (``NotFound`` otherwise)."""
        ...

    def get_version(self, name: str, version: int) -> ModelVersion: ...

    def search_versions(
        self,
        *,
        name: str | None = None,
        run_id: str | None = None,
        limit: int = 100,
        page_token: str | None = None,
    ) -> Page[ModelVersion]:
        """Newest first."""
        ...

    def update_version(self, name: str, version: int, *, description: str) -> ModelVersion: ...

    def set_version_tag(self, name: str, version: int, key: str, value: str) -> None: ...

    def delete_version_tag(self, name: str, version: int, key: str) -> None: ...

    def delete_version(self, name: str, version: int, *, force: bool = False) -> ModelVersion:
        """A version an alias points at needs ``force`` (the aliases go with it)."""
        ...

    def record_gate(self, name: str, version: int, gate: GateRecord) -> ModelVersion: ...


@runtime_checkable
class PromotionRepo(Protocol):
    def approve(self, name: str, version: int, *, approver: str) -> ModelVersion:
        """Approval by anyone but the version's author (``PolicyViolation`` otherwise)."""
        ...

    def set_alias(self, name: str, alias: str, version: int) -> int | None:
        """Point ``alias`` at ``version`` under the model's policy; returns the old version."""
        ...

    def delete_alias(self, name: str, alias: str) -> int:
        """Returns the version it pointed at; ``NotFound`` for an unknown alias."""
        ...

    def version_by_alias(self, name: str, alias: str) -> ModelVersion:
        """``latest`` is the newest version; other aliases must be set."""
        ...

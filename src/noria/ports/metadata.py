"""Ports of the metadata store. Each capability adds its own repo here."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from noria.domain.audit import AuditEvent, AuditQuery
from noria.domain.entities import EntityRef
from noria.domain.lineage import Direction, LineageEdge, LineageStep
from noria.domain.paging import Page
from noria.domain.schema import SchemaState
from noria.ports.datasets import DatasetRepo
from noria.ports.deployments import DeploymentRepo
from noria.ports.logged_models import LoggedModelRepo
from noria.ports.monitors import AlertRepo, MonitorRepo
from noria.ports.pipelines import PipelineRepo
from noria.ports.registry import ModelVersionRepo, PromotionRepo, RegisteredModelRepo
from noria.ports.schedules import EventRepo, ScheduleRepo
from noria.ports.tracking import ExperimentRepo, RunDataRepo, RunRepo


@runtime_checkable
class LineageRepo(Protocol):
    def add_edges(self, edges: Sequence[LineageEdge]) -> int:
        """Record edges; an edge already recorded is kept once. Returns how many were new."""
        ...

    def walk(self, start: EntityRef, direction: Direction, *, depth: int) -> list[LineageStep]:
        """Edges reachable from ``start`` within ``depth`` hops, nearest first."""
        ...

    def count(self) -> int: ...


@runtime_checkable
class AuditRepo(Protocol):
    def append(self, event: AuditEvent) -> AuditEvent:
        """Store the event and return it with its ``seq`` set. Events are never changed."""
        ...

    def list_events(
        self, query: AuditQuery, *, limit: int = 100, page_token: str | None = None
    ) -> Page[AuditEvent]:
        """Matching events, newest first."""
        ...

    def count(self) -> int: ...


@runtime_checkable
class MetadataStore(Protocol):
    """One metadata store: its repos plus the schema lifecycle.

    Constructing a store does no I/O; ``initialize()`` creates a brand-new store at
    the current schema and checks an existing one, raising ``SchemaOutdated`` or
    ``SchemaTooNew`` when the revision does not match the code.
    """

    @property
    def uri(self) -> str: ...

    @property
    def lineage(self) -> LineageRepo: ...

    @property
    def audit(self) -> AuditRepo: ...

    @property
    def experiments(self) -> ExperimentRepo: ...

    @property
    def runs(self) -> RunRepo: ...

    @property
    def run_data(self) -> RunDataRepo: ...

    @property
    def datasets(self) -> DatasetRepo: ...

    @property
    def models(self) -> RegisteredModelRepo: ...

    @property
    def model_versions(self) -> ModelVersionRepo: ...

    @property
    def promotion(self) -> PromotionRepo: ...

    @property
    def pipelines(self) -> PipelineRepo: ...

    @property
    def logged_models(self) -> LoggedModelRepo:
        """MLflow 3 logged models, kept for MLflow clients (Noria's models are run files)."""
        ...

    @property
    def deployments(self) -> DeploymentRepo: ...

    @property
    def monitors(self) -> MonitorRepo: ...

    @property
    def alerts(self) -> AlertRepo: ...

    @property
    def schedules(self) -> ScheduleRepo: ...

    @property
    def events(self) -> EventRepo: ...

    def initialize(self) -> SchemaState: ...

    def schema_state(self) -> SchemaState: ...

    def upgrade(self) -> SchemaState:
        """Migrate to the code's schema head; returns the new state."""
        ...

    def close(self) -> None: ...

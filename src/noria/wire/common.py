"""Shapes used by every route: errors, entity references, version and schema info."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from noria.domain.entities import EntityKind, EntityRef
from noria.domain.schema import SchemaState, SchemaStatus

API_VERSION = 1


class WireModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ErrorBody(WireModel):
    error_code: str
    message: str


class EntityBody(WireModel):
    kind: EntityKind
    key: str

    @classmethod
    def from_domain(cls, ref: EntityRef) -> EntityBody:
        return cls(kind=ref.kind, key=ref.key)

    def to_domain(self) -> EntityRef:
        return EntityRef(self.kind, self.key)


class SchemaBody(WireModel):
    revision: str | None
    head: str
    status: SchemaStatus

    @classmethod
    def from_domain(cls, state: SchemaState) -> SchemaBody:
        return cls(revision=state.revision, head=state.head, status=state.status)

    def to_domain(self) -> SchemaState:
        return SchemaState(revision=self.revision, head=self.head, status=self.status)


class ServerVersionBody(WireModel):
    noria_version: str
    api_version: int
    schema_state: SchemaBody


class StoreCounts(WireModel):
    lineage_edges: int
    audit_events: int

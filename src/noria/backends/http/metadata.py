"""The metadata ports over REST: lineage, audit, tracking and the schema lifecycle."""

from __future__ import annotations

from collections.abc import Sequence

from noria.backends.http.datasets import HttpDatasetRepo
from noria.backends.http.deployments import HttpDeploymentRepo
from noria.backends.http.logged_models import HttpLoggedModelRepo
from noria.backends.http.monitors import HttpAlertRepo, HttpMonitorRepo
from noria.backends.http.pipelines import HttpPipelineRepo
from noria.backends.http.registry import (
    HttpModelVersionRepo,
    HttpPromotionRepo,
    HttpRegisteredModelRepo,
)
from noria.backends.http.schedules import HttpEventRepo, HttpScheduleRepo
from noria.backends.http.tracking import HttpExperimentRepo, HttpRunDataRepo, HttpRunRepo
from noria.backends.http.transport import HttpTransport
from noria.domain.audit import AuditEvent, AuditQuery
from noria.domain.entities import EntityRef
from noria.domain.lineage import Direction, LineageEdge, LineageStep
from noria.domain.paging import Page, check_page_size
from noria.domain.schema import SchemaState, SchemaStatus
from noria.errors import SchemaOutdated, SchemaTooNew, StoreNotInitialized, Unsupported
from noria.wire.audit import AuditEventBody, AuditPage
from noria.wire.common import ServerVersionBody, StoreCounts
from noria.wire.lineage import AddEdgesRequest, AddEdgesResponse, EdgeBody, WalkResponse


class HttpLineageRepo:
    def __init__(self, transport: HttpTransport) -> None:
        self._http = transport

    def add_edges(self, edges: Sequence[LineageEdge]) -> int:
        body = AddEdgesRequest(edges=[EdgeBody.from_domain(edge) for edge in edges])
        answer = self._http.json("POST", "/api/v1/lineage/edges", json=body.model_dump(mode="json"))
        return AddEdgesResponse.model_validate(answer).added

    def walk(self, start: EntityRef, direction: Direction, *, depth: int) -> list[LineageStep]:
        params = {"entity": start.uri, "direction": direction.value, "depth": depth}
        answer = WalkResponse.model_validate(
            self._http.json("GET", "/api/v1/lineage", params=params)
        )
        return [step.to_domain() for step in answer.steps]

    def count(self) -> int:
        return _counts(self._http).lineage_edges


class HttpAuditRepo:
    def __init__(self, transport: HttpTransport) -> None:
        self._http = transport

    def append(self, event: AuditEvent) -> AuditEvent:
        body = AuditEventBody.from_domain(event).model_dump(mode="json")
        answer = self._http.json("POST", "/api/v1/audit/events", json=body)
        return AuditEventBody.model_validate(answer).to_domain()

    def list_events(
        self, query: AuditQuery, *, limit: int = 100, page_token: str | None = None
    ) -> Page[AuditEvent]:
        params: dict[str, str | int] = {"limit": check_page_size(limit)}
        if query.entity is not None:
            params["entity"] = query.entity.uri
        for name in ("actor", "action"):
            if (value := getattr(query, name)) is not None:
                params[name] = value
        for name in ("since", "until"):
            if (moment := getattr(query, name)) is not None:
                params[name] = moment.isoformat()
        if page_token is not None:
            params["page_token"] = page_token
        page = AuditPage.model_validate(
            self._http.json("GET", "/api/v1/audit/events", params=params)
        )
        return Page([body.to_domain() for body in page.events], page.next_page_token)

    def count(self) -> int:
        return _counts(self._http).audit_events


def _counts(transport: HttpTransport) -> StoreCounts:
    return StoreCounts.model_validate(transport.json("GET", "/api/v1/store/counts"))


class HttpMetadataStore:
    """A remote server's metadata store. The server owns its schema and migrations."""

    def __init__(self, transport: HttpTransport) -> None:
        self._http = transport
        self._lineage = HttpLineageRepo(transport)
        self._audit = HttpAuditRepo(transport)
        self._experiments = HttpExperimentRepo(transport)
        self._runs = HttpRunRepo(transport)
        self._run_data = HttpRunDataRepo(transport)
        self._datasets = HttpDatasetRepo(transport)
        self._models = HttpRegisteredModelRepo(transport)
        self._model_versions = HttpModelVersionRepo(transport)
        self._promotion = HttpPromotionRepo(transport)
        self._logged_models = HttpLoggedModelRepo(transport)
        self._pipelines = HttpPipelineRepo(transport)
        self._deployments = HttpDeploymentRepo(transport)
        self._monitors = HttpMonitorRepo(transport)
        self._alerts = HttpAlertRepo(transport)
        self._schedules = HttpScheduleRepo(transport)
        self._events = HttpEventRepo(transport)

    @property
    def uri(self) -> str:
        return self._http.base_url

    @property
    def lineage(self) -> HttpLineageRepo:
        return self._lineage

    @property
    def audit(self) -> HttpAuditRepo:
        return self._audit

    @property
    def experiments(self) -> HttpExperimentRepo:
        return self._experiments

    @property
    def runs(self) -> HttpRunRepo:
        return self._runs

    @property
    def run_data(self) -> HttpRunDataRepo:
        return self._run_data

    @property
    def datasets(self) -> HttpDatasetRepo:
        return self._datasets

    @property
    def models(self) -> HttpRegisteredModelRepo:
        return self._models

    @property
    def model_versions(self) -> HttpModelVersionRepo:
        return self._model_versions

    @property
    def promotion(self) -> HttpPromotionRepo:
        return self._promotion

    @property
    def logged_models(self) -> HttpLoggedModelRepo:
        return self._logged_models

    @property
    def pipelines(self) -> HttpPipelineRepo:
        return self._pipelines

    @property
    def deployments(self) -> HttpDeploymentRepo:
        return self._deployments

    @property
    def monitors(self) -> HttpMonitorRepo:
        return self._monitors

    @property
    def alerts(self) -> HttpAlertRepo:
        return self._alerts

    @property
    def schedules(self) -> HttpScheduleRepo:
        return self._schedules

    @property
    def events(self) -> HttpEventRepo:
        return self._events

    def schema_state(self) -> SchemaState:
        version = ServerVersionBody.model_validate(self._http.json("GET", "/api/v1/version"))
        return version.schema_state.to_domain()

    def initialize(self) -> SchemaState:
        state = self.schema_state()
        where = f"The Noria server at {self.uri}"
        if state.status is SchemaStatus.OUTDATED:
            raise SchemaOutdated(f"{where} has an outdated store: run `noria db upgrade` there.")
        if state.status is SchemaStatus.TOO_NEW:
            raise SchemaTooNew(f"{where} has a store from a newer Noria: upgrade the server.")
        if state.status is SchemaStatus.EMPTY:
            raise StoreNotInitialized(f"{where} has no store yet: run `noria init` there.")
        return state

    def upgrade(self) -> SchemaState:
        raise Unsupported(
            f"Schema upgrades run next to the database, not through {self.uri}: "
            "run `noria db upgrade` on the server host."
        )

    def close(self) -> None:
        """The transport is shared with the blob store and closed by its owner."""

"""Shapes of Noria's native logged-model routes (``/api/v1/logged-models``)."""

from __future__ import annotations

from dataclasses import asdict

from noria.domain.logged_models import LoggedModel, LoggedModelStatus, NewLoggedModel
from noria.domain.paging import Page
from noria.ports.logged_models import LoggedModelSearch
from noria.wire.common import WireModel


class LoggedModelBody(WireModel):
    id: str
    experiment_id: str
    name: str
    source_run_id: str | None
    model_type: str
    status: LoggedModelStatus
    status_message: str
    created_at: int
    updated_at: int
    deleted: bool
    tags: dict[str, str]
    params: dict[str, str]

    @classmethod
    def from_domain(cls, model: LoggedModel) -> LoggedModelBody:
        return cls.model_validate(asdict(model))

    def to_domain(self) -> LoggedModel:
        return LoggedModel(**dict(self))


class CreateLoggedModelRequest(WireModel):
    experiment_id: str
    name: str
    source_run_id: str | None = None
    model_type: str = ""
    tags: dict[str, str] = {}
    params: dict[str, str] = {}

    def to_domain(self) -> NewLoggedModel:
        return NewLoggedModel(**dict(self))


class UpdateLoggedModelRequest(WireModel):
    status: LoggedModelStatus | None = None
    status_message: str | None = None
    set_tags: dict[str, str] = {}
    delete_tags: list[str] = []
    params: dict[str, str] = {}


class SearchLoggedModelsRequest(WireModel):
    experiment_ids: list[str]
    name: str | None = None
    source_run_id: str | None = None
    status: LoggedModelStatus | None = None
    limit: int = 100
    page_token: str | None = None

    def query(self) -> LoggedModelSearch:
        return LoggedModelSearch(
            tuple(self.experiment_ids), self.name, self.source_run_id, self.status
        )


class LoggedModelPage(WireModel):
    models: list[LoggedModelBody]
    next_page_token: str | None = None

    @classmethod
    def from_domain(cls, page: Page[LoggedModel]) -> LoggedModelPage:
        models = [LoggedModelBody.from_domain(model) for model in page.items]
        return cls(models=models, next_page_token=page.next_page_token)

"""MLflow 3 logged models over REST (``/api/v1/logged-models``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from noria.backends.http.tracking import segment
from noria.backends.http.transport import HttpTransport
from noria.domain.logged_models import LoggedModel, LoggedModelStatus, NewLoggedModel
from noria.domain.paging import Page, check_page_size
from noria.domain.tracking import RunArtifact
from noria.errors import NotFound
from noria.ports.logged_models import LoggedModelSearch
from noria.wire.logged_models import (
    CreateLoggedModelRequest,
    LoggedModelBody,
    LoggedModelPage,
    SearchLoggedModelsRequest,
    UpdateLoggedModelRequest,
)
from noria.wire.tracking import RunArtifactBody, RunArtifactList

_ROOT = "/api/v1/logged-models"


def _model(model_id: str) -> str:
    return f"{_ROOT}/{segment(model_id)}"


class HttpLoggedModelRepo:
    def __init__(self, transport: HttpTransport) -> None:
        self._http = transport

    def create(self, new: NewLoggedModel) -> LoggedModel:
        body = CreateLoggedModelRequest(
            experiment_id=new.experiment_id,
            name=new.name,
            source_run_id=new.source_run_id,
            model_type=new.model_type,
            tags=dict(new.tags),
            params=dict(new.params),
        )
        answer = self._http.json("POST", _ROOT, json=body.model_dump(mode="json"))
        return LoggedModelBody.model_validate(answer).to_domain()

    def get(self, model_id: str, *, allow_deleted: bool = False) -> LoggedModel:
        params = {"allow_deleted": "true"} if allow_deleted else {}
        answer = self._http.json("GET", _model(model_id), params=params)
        return LoggedModelBody.model_validate(answer).to_domain()

    def update(
        self,
        model_id: str,
        *,
        status: LoggedModelStatus | None = None,
        status_message: str | None = None,
        set_tags: Mapping[str, str] | None = None,
        delete_tags: Sequence[str] = (),
        params: Mapping[str, str] | None = None,
    ) -> LoggedModel:
        body = UpdateLoggedModelRequest(
            status=status,
            status_message=status_message,
            set_tags=dict(set_tags or {}),
            delete_tags=list(delete_tags),
            params=dict(params or {}),
        )
        answer = self._http.json("PATCH", _model(model_id), json=body.model_dump(mode="json"))
        return LoggedModelBody.model_validate(answer).to_domain()

    def delete(self, model_id: str) -> None:
        self._http.request("DELETE", _model(model_id))

    def search(
        self, query: LoggedModelSearch, *, limit: int = 100, page_token: str | None = None
    ) -> Page[LoggedModel]:
        body = SearchLoggedModelsRequest(
            experiment_ids=list(query.experiment_ids),
            name=query.name,
            source_run_id=query.source_run_id,
            status=query.status,
            limit=check_page_size(limit),
            page_token=page_token,
        )
        answer = self._http.json("POST", f"{_ROOT}/search", json=body.model_dump(mode="json"))
        page = LoggedModelPage.model_validate(answer)
        return Page([item.to_domain() for item in page.models], page.next_page_token)

    def record_files(self, model_id: str, files: Sequence[RunArtifact]) -> None:
        body = RunArtifactList(artifacts=[RunArtifactBody.from_domain(item) for item in files])
        self._http.request("POST", f"{_model(model_id)}/files", json=body.model_dump(mode="json"))

    def list_files(self, model_id: str, prefix: str = "") -> list[RunArtifact]:
        params = {"prefix": prefix} if prefix else {}
        answer = self._http.json("GET", f"{_model(model_id)}/files", params=params)
        return [item.to_domain() for item in RunArtifactList.model_validate(answer).artifacts]

    def find_file(self, model_id: str, path: str) -> RunArtifact | None:
        try:
            answer = self._http.json("GET", f"{_model(model_id)}/files/{segment(path)}/entry")
        except NotFound:
            # The same 404 answers an unknown model, which must raise as it does locally.
            self.get(model_id, allow_deleted=True)
            return None
        return RunArtifactBody.model_validate(answer).to_domain()

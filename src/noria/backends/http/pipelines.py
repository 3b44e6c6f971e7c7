"""Pipeline records over REST (``/api/v1/pipelines``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from noria.backends.http.tracking import segment
from noria.backends.http.transport import HttpTransport
from noria.domain.paging import Page, check_page_size
from noria.domain.pipelines import CacheEntry, PipelineRun, PipelineStatus, StepRun
from noria.errors import NotFound
from noria.wire.pipelines import (
    CacheClearResponse,
    CacheEntryBody,
    CreatePipelineRunRequest,
    FinishRunRequest,
    PipelineRunBody,
    PipelineRunPage,
    StepList,
    StepRunBody,
)

PIPELINES = "/api/v1/pipelines"


def _run_path(run_id: str) -> str:
    return f"{PIPELINES}/runs/{segment(run_id)}"


class HttpPipelineRepo:
    def __init__(self, transport: HttpTransport) -> None:
        self._http = transport

    def create_run(self, run: PipelineRun, steps: Sequence[StepRun]) -> None:
        body = CreatePipelineRunRequest(
            run=PipelineRunBody.from_domain(run),
            steps=[StepRunBody.from_domain(step) for step in steps],
        )
        self._http.request("POST", f"{PIPELINES}/runs", json=body.model_dump(mode="json"))

    def finish_run(
        self, run_id: str, status: PipelineStatus, *, ended_at: int, error: str | None = None
    ) -> PipelineRun:
        body = FinishRunRequest(status=status, ended_at=ended_at, error=error)
        answer = self._http.json(
            "POST", f"{_run_path(run_id)}/finish", json=body.model_dump(mode="json")
        )
        return PipelineRunBody.model_validate(answer).to_domain()

    def save_step(self, step: StepRun) -> None:
        body = StepRunBody.from_domain(step).model_dump(mode="json")
        path = f"{_run_path(step.pipeline_run_id)}/steps/{segment(step.id)}"
        self._http.request("PUT", path, json=body)

    def get_run(self, run_id: str) -> PipelineRun:
        return PipelineRunBody.model_validate(self._http.json("GET", _run_path(run_id))).to_domain()

    def list_steps(self, run_id: str) -> list[StepRun]:
        answer = StepList.model_validate(self._http.json("GET", f"{_run_path(run_id)}/steps"))
        return [body.to_domain() for body in answer.steps]

    def list_runs(
        self,
        *,
        pipeline: str | None = None,
        status: PipelineStatus | None = None,
        limit: int = 100,
        page_token: str | None = None,
    ) -> Page[PipelineRun]:
        params: dict[str, Any] = {"limit": check_page_size(limit)}
        if pipeline is not None:
            params["pipeline"] = pipeline
        if status is not None:
            params["status"] = PipelineStatus(status).value
        if page_token is not None:
            params["page_token"] = page_token
        page = PipelineRunPage.model_validate(
            self._http.json("GET", f"{PIPELINES}/runs", params=params)
        )
        return Page([body.to_domain() for body in page.runs], page.next_page_token)

    def find_cached(self, key: str) -> CacheEntry | None:
        try:
            answer = self._http.json("GET", f"{PIPELINES}/cache/{segment(key)}")
        except NotFound:
            return None
        return CacheEntryBody.model_validate(answer).to_domain()

    def save_cached(self, entry: CacheEntry) -> None:
        body = CacheEntryBody.from_domain(entry).model_dump(mode="json")
        self._http.request("PUT", f"{PIPELINES}/cache/{segment(entry.key)}", json=body)

    def clear_cache(self, *, pipeline: str | None = None, step: str | None = None) -> int:
        params = {name: value for name, value in (("pipeline", pipeline), ("step", step)) if value}
        answer = self._http.json("DELETE", f"{PIPELINES}/cache", params=params)
        return CacheClearResponse.model_validate(answer).cleared

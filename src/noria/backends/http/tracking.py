"""The tracking ports over REST: experiments, runs and their data on a Noria server."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar
from urllib.parse import quote

from pydantic import BaseModel, ValidationError

from noria.backends.http.transport import HttpTransport
from noria.domain.paging import Page, check_page_size
from noria.domain.tracking import (
    Experiment,
    LifecycleStage,
    Metric,
    MetricHistory,
    Param,
    Run,
    RunArtifact,
    RunInfo,
    RunInput,
    RunSearch,
    RunStatus,
    RunTag,
    RunWrite,
    ViewType,
)
from noria.errors import InvalidArgument, NotFound
from noria.wire.metrics import (
    LogBatchRequest,
    MetricHistoryBody,
    key_values,
    text,
)
from noria.wire.packed_metrics import PACKED_METRICS, pack
from noria.wire.run_json import read_run_page
from noria.wire.tracking import (
    CreateExperimentRequest,
    CreateRunRequest,
    EndRunRequest,
    ExperimentBody,
    ExperimentPage,
    LogInputsRequest,
    RunArtifactBody,
    RunArtifactList,
    RunBody,
    RunInfoBody,
    RunInputBody,
    RunSearchBody,
    RunWriteRequest,
    SetTagRequest,
    UpdateExperimentRequest,
    UpdateRunRequest,
)

EXPERIMENTS = "/api/v1/experiments"
RUNS = "/api/v1/runs"
_JSON = {"content-type": "application/json"}
_PACKED = {"content-type": PACKED_METRICS}
M = TypeVar("M", bound=BaseModel)


def segment(value: str) -> str:
    """``value`` as one URL path segment: '/' is escaped, and so is '.', because
    httpx would otherwise resolve a '.' or '..' segment away."""
    return quote(value, safe="").replace(".", "%2E")


def _id(value: str, what: str) -> str:
    """An id as a path segment; an empty one would address the collection instead."""
    if not value:
        raise NotFound(f"{what} '' not found: an id cannot be empty.")
    return segment(value)


def _experiment(experiment_id: str) -> str:
    return f"{EXPERIMENTS}/{_id(experiment_id, 'Experiment')}"


def _run(run_id: str) -> str:
    return f"{RUNS}/{_id(run_id, 'Run')}"


def _build(model: type[M], **fields: Any) -> M:
    """A request body; a value of the wrong type is the caller's error, as it is locally."""
    try:
        return model(**fields)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"])
        raise InvalidArgument(
            f"Invalid {where or model.__name__}: {error['msg']} (got {error['input']!r})."
        ) from None


class _Remote:
    def __init__(self, transport: HttpTransport) -> None:
        self._http = transport

    def _call(
        self,
        method: str,
        path: str,
        payload: BaseModel | None = None,
        *,
        params: Mapping[str, str | int] | None = None,
    ) -> bytes:
        """Send one request; bodies are written by pydantic so NaN and ±inf survive."""
        if payload is None:
            return self._http.request(method, path, params=params).content
        content = payload.model_dump_json(exclude_none=True)
        response = self._http.request(method, path, params=params, content=content, headers=_JSON)
        return response.content

    def _post_points(self, path: str, payload: BaseModel, metrics: Sequence[Metric]) -> bytes:
        """POST a body with metric points, packed (see ``noria.wire.packed_metrics``):
        the points skip JSON both ways. Without points, plain JSON."""
        if not metrics:
            return self._call("POST", path, payload)
        header = payload.model_dump_json(exclude={"metrics"}, exclude_none=True).encode()
        response = self._http.request("POST", path, content=pack(header, metrics), headers=_PACKED)
        return response.content


class HttpExperimentRepo(_Remote):
    def create_experiment(
        self, name: str, *, tags: dict[str, str] | None = None, artifact_location: str = ""
    ) -> Experiment:
        request = _build(
            CreateExperimentRequest,
            name=name,
            tags={key: text(value) for key, value in (tags or {}).items()},
            artifact_location=artifact_location,
        )
        return ExperimentBody.model_validate_json(
            self._call("POST", EXPERIMENTS, request)
        ).to_domain()

    def get_experiment(self, experiment_id: str) -> Experiment:
        answer = self._call("GET", _experiment(experiment_id))
        return ExperimentBody.model_validate_json(answer).to_domain()

    def find_experiment_by_name(self, name: str) -> Experiment | None:
        try:
            answer = self._call("GET", f"{EXPERIMENTS}/by-name/{segment(name)}")
        except NotFound:
            return None
        return ExperimentBody.model_validate_json(answer).to_domain()

    def list_experiments(
        self,
        *,
        view: ViewType = ViewType.ACTIVE_ONLY,
        name_like: str | None = None,
        limit: int = 100,
        page_token: str | None = None,
    ) -> Page[Experiment]:
        params: dict[str, str | int] = {"view": ViewType(view).value}
        params["limit"] = check_page_size(limit)
        if name_like is not None:
            params["name_like"] = name_like
        if page_token is not None:
            params["page_token"] = page_token
        answer = self._call("GET", EXPERIMENTS, params=params)
        return ExperimentPage.model_validate_json(answer).to_domain()

    def rename_experiment(self, experiment_id: str, name: str) -> Experiment:
        return self._update(experiment_id, _build(UpdateExperimentRequest, name=name))

    def set_experiment_tag(self, experiment_id: str, key: str, value: str) -> None:
        path = f"{_experiment(experiment_id)}/tags/{segment(key)}"
        self._call("PUT", path, _build(SetTagRequest, value=text(value)))

    def set_experiment_stage(self, experiment_id: str, stage: str) -> Experiment:
        request = _build(UpdateExperimentRequest, lifecycle_stage=_stage(stage))
        return self._update(experiment_id, request)

    def _update(self, experiment_id: str, request: UpdateExperimentRequest) -> Experiment:
        answer = self._call("PATCH", _experiment(experiment_id), request)
        return ExperimentBody.model_validate_json(answer).to_domain()


class HttpRunRepo(_Remote):
    gather_writes = True  # a call is a request: the SDK sends a run's writes together

    def create_run(
        self,
        experiment_id: str,
        *,
        name: str,
        user: str,
        start_time: int,
        tags: Sequence[RunTag] = (),
        parent_id: str | None = None,
    ) -> Run:
        request = _build(
            CreateRunRequest,
            experiment_id=experiment_id,
            name=name,
            user=user,
            start_time=start_time,
            tags=key_values(tags),
            parent_id=parent_id,
        )
        return RunBody.model_validate_json(self._call("POST", RUNS, request)).to_domain()

    def get_run(self, run_id: str) -> Run:
        answer = self._call("GET", _run(run_id))
        return RunBody.model_validate_json(answer).to_domain()

    def update_run(
        self,
        run_id: str,
        *,
        status: RunStatus | None = None,
        end_time: int | None = None,
        name: str | None = None,
    ) -> RunInfo:
        request = _build(UpdateRunRequest, status=status, end_time=end_time, name=name)
        return self._update(run_id, request)

    def end_run(
        self,
        run_id: str,
        *,
        status: RunStatus,
        end_time: int,
        metrics: Sequence[Metric] = (),
    ) -> RunInfo:
        """One request: the server stores the points and the end all or nothing."""
        request = _build(EndRunRequest, status=status, end_time=end_time)
        answer = self._post_points(f"{_run(run_id)}/end", request, metrics)
        return RunInfoBody.model_validate_json(answer).to_domain()

    def write_run(self, write: RunWrite) -> RunInfo:
        """One request: the server applies it all or nothing."""
        create = write.create
        request = _build(
            RunWriteRequest,
            create=None
            if create is None
            else _build(
                CreateRunRequest,
                experiment_id=create.experiment_id,
                name=create.name,
                user=create.user,
                start_time=create.start_time,
                tags=key_values(create.tags),
                parent_id=create.parent_id,
            ),
            params=key_values(write.params),
            tags=key_values(write.tags),
            artifacts=[RunArtifactBody.from_domain(item) for item in write.artifacts],
            status=write.status,
            end_time=write.end_time,
        )
        answer = self._post_points(f"{_run(write.run_id)}/write", request, write.metrics)
        return RunInfoBody.model_validate_json(answer).to_domain()

    def set_run_stage(self, run_id: str, stage: str) -> RunInfo:
        return self._update(run_id, _build(UpdateRunRequest, lifecycle_stage=_stage(stage)))

    def _update(self, run_id: str, request: UpdateRunRequest) -> RunInfo:
        answer = self._call("PATCH", _run(run_id), request)
        return RunInfoBody.model_validate_json(answer).to_domain()

    def log_batch(
        self,
        run_id: str,
        *,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
    ) -> None:
        """One request, whatever the size: the server stores it all or nothing."""
        request = _build(LogBatchRequest, params=key_values(params), tags=key_values(tags))
        self._post_points(f"{_run(run_id)}/batch", request, metrics)

    def delete_tag(self, run_id: str, key: str) -> None:
        self._call("DELETE", f"{_run(run_id)}/tags/{segment(key)}")

    def search_runs(self, search: RunSearch) -> Page[Run]:
        answer = self._call("POST", f"{RUNS}/search", RunSearchBody.from_domain(search))
        return read_run_page(answer)

    def metric_history(
        self, run_id: str, key: str, *, max_points: int | None = None
    ) -> MetricHistory:
        path = f"{_run(run_id)}/metrics/{segment(key)}/history"
        params = {} if max_points is None else {"max_points": max_points}
        answer = self._call("GET", path, params=params)
        return MetricHistoryBody.model_validate_json(answer).to_domain()


class HttpRunDataRepo(_Remote):
    def log_inputs(self, run_id: str, inputs: Sequence[RunInput]) -> None:
        items = [RunInputBody.from_domain(item) for item in inputs]
        self._call("POST", f"{_run(run_id)}/inputs", _build(LogInputsRequest, inputs=items))

    def record_artifacts(self, run_id: str, artifacts: Sequence[RunArtifact]) -> None:
        items = [RunArtifactBody.from_domain(item) for item in artifacts]
        request = _build(RunArtifactList, artifacts=items)
        self._call("POST", f"{_run(run_id)}/artifacts", request)

    def list_artifacts(self, run_id: str, prefix: str = "") -> list[RunArtifact]:
        params = {"prefix": prefix} if prefix else {}
        answer = self._call("GET", f"{_run(run_id)}/artifacts", params=params)
        return [item.to_domain() for item in RunArtifactList.model_validate_json(answer).artifacts]

    def find_artifact(self, run_id: str, path: str) -> RunArtifact | None:
        try:
            answer = self._call("GET", f"{_run(run_id)}/artifacts/{segment(path)}/entry")
        except NotFound:
            # The same 404 answers an unknown run, which must raise as it does locally.
            self._call("GET", _run(run_id))
            return None
        return RunArtifactBody.model_validate_json(answer).to_domain()


def _stage(stage: str) -> LifecycleStage:
    try:
        return LifecycleStage(stage)
    except ValueError:
        raise InvalidArgument(
            f"Invalid lifecycle stage {stage!r}: use 'active' or 'deleted'."
        ) from None

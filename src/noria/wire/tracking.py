"""Tracking shapes: experiments, runs, searches, inputs and artifact entries.

Metric shapes, and the encoding of NaN and ±inf, are in :mod:`noria.wire.metrics`.
"""

from __future__ import annotations

from pydantic import StrictInt

from noria.domain.paging import Page
from noria.domain.tracking import (
    Experiment,
    LifecycleStage,
    MetricBatch,
    NewRun,
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
from noria.wire.metrics import MetricBody, MetricColumns, ParamBody, TagBody, TrackingModel


class ExperimentBody(TrackingModel):
    id: str
    name: str
    artifact_location: str
    lifecycle_stage: LifecycleStage
    creation_time: int
    last_update_time: int
    tags: dict[str, str] = {}

    @classmethod
    def from_domain(cls, experiment: Experiment) -> ExperimentBody:
        return cls(
            id=experiment.id,
            name=experiment.name,
            artifact_location=experiment.artifact_location,
            lifecycle_stage=experiment.lifecycle_stage,
            creation_time=experiment.creation_time,
            last_update_time=experiment.last_update_time,
            tags=experiment.tags,
        )

    def to_domain(self) -> Experiment:
        return Experiment(
            self.id,
            self.name,
            self.artifact_location,
            self.lifecycle_stage,
            self.creation_time,
            self.last_update_time,
            dict(self.tags),
        )


class CreateExperimentRequest(TrackingModel):
    name: str
    tags: dict[str, str] = {}
    artifact_location: str = ""


class UpdateExperimentRequest(TrackingModel):
    """Fields left out are left as they are; ``deleted`` soft-deletes, ``active`` restores."""

    name: str | None = None
    lifecycle_stage: LifecycleStage | None = None


class ExperimentPage(TrackingModel):
    experiments: list[ExperimentBody]
    next_page_token: str | None = None

    def to_domain(self) -> Page[Experiment]:
        return Page([body.to_domain() for body in self.experiments], self.next_page_token)


class SetTagRequest(TrackingModel):
    value: str


class RunInputBody(TrackingModel):
    name: str
    digest: str
    source_type: str = ""
    source: str = ""
    # Not "schema": pydantic's BaseModel has an attribute of that name.
    dataset_schema: str = ""
    profile: str = ""
    context: str = ""

    @classmethod
    def from_domain(cls, item: RunInput) -> RunInputBody:
        return cls(
            name=item.name,
            digest=item.digest,
            source_type=item.source_type,
            source=item.source,
            dataset_schema=item.schema,
            profile=item.profile,
            context=item.context,
        )

    def to_domain(self) -> RunInput:
        return RunInput(
            self.name,
            self.digest,
            self.source_type,
            self.source,
            self.dataset_schema,
            self.profile,
            self.context,
        )


class RunInfoBody(TrackingModel):
    id: str
    experiment_id: str
    name: str
    status: RunStatus
    start_time: int
    end_time: int | None
    lifecycle_stage: LifecycleStage
    user: str
    parent_id: str | None = None

    @classmethod
    def from_domain(cls, info: RunInfo) -> RunInfoBody:
        return cls(
            id=info.id,
            experiment_id=info.experiment_id,
            name=info.name,
            status=info.status,
            start_time=info.start_time,
            end_time=info.end_time,
            lifecycle_stage=info.lifecycle_stage,
            user=info.user,
            parent_id=info.parent_id,
        )

    def to_domain(self) -> RunInfo:
        return RunInfo(
            self.id,
            self.experiment_id,
            self.name,
            self.status,
            self.start_time,
            self.end_time,
            self.lifecycle_stage,
            self.user,
            self.parent_id,
        )


class RunBody(TrackingModel):
    """A run with its params, tags, inputs and the latest point of each metric."""

    info: RunInfoBody
    params: dict[str, str] = {}
    metrics: list[MetricBody] = []
    tags: dict[str, str] = {}
    inputs: list[RunInputBody] = []

    @classmethod
    def from_domain(cls, run: Run) -> RunBody:
        return cls(
            info=RunInfoBody.from_domain(run.info),
            params=run.params,
            metrics=[MetricBody.from_domain(metric) for metric in run.metrics.values()],
            tags=run.tags,
            inputs=[RunInputBody.from_domain(item) for item in run.inputs],
        )

    def to_domain(self) -> Run:
        return Run(
            info=self.info.to_domain(),
            params=dict(self.params),
            metrics={body.key: body.to_domain() for body in self.metrics},
            tags=dict(self.tags),
            inputs=[body.to_domain() for body in self.inputs],
        )


class CreateRunRequest(TrackingModel):
    experiment_id: str
    name: str
    user: str
    start_time: StrictInt
    tags: list[TagBody] = []
    parent_id: str | None = None

    def domain_tags(self) -> list[RunTag]:
        return [RunTag(tag.key, tag.value) for tag in self.tags]


class UpdateRunRequest(TrackingModel):
    """Fields left out are left as they are; ``deleted`` soft-deletes, ``active`` restores."""

    status: RunStatus | None = None
    end_time: StrictInt | None = None
    name: str | None = None
    lifecycle_stage: LifecycleStage | None = None


class EndRunRequest(TrackingModel):
    """The run's last metric points, stored together with its final status."""

    status: RunStatus
    end_time: StrictInt
    metrics: MetricColumns = MetricColumns()


class RunSearchBody(TrackingModel):
    experiment_ids: list[str]
    filter: str = ""
    order_by: list[str] = []
    view: ViewType = ViewType.ACTIVE_ONLY
    limit: int = 100
    page_token: str | None = None

    @classmethod
    def from_domain(cls, search: RunSearch) -> RunSearchBody:
        return cls(
            experiment_ids=list(search.experiment_ids),
            filter=search.filter,
            order_by=list(search.order_by),
            view=search.view,
            limit=search.limit,
            page_token=search.page_token,
        )

    def to_domain(self) -> RunSearch:
        return RunSearch(
            tuple(self.experiment_ids),
            self.filter,
            tuple(self.order_by),
            self.view,
            self.limit,
            self.page_token,
        )


class RunPage(TrackingModel):
    runs: list[RunBody]
    next_page_token: str | None = None

    def to_domain(self) -> Page[Run]:
        return Page([body.to_domain() for body in self.runs], self.next_page_token)


class LogInputsRequest(TrackingModel):
    inputs: list[RunInputBody]


class RunArtifactBody(TrackingModel):
    path: str
    digest: str
    size: int
    media_type: str

    @classmethod
    def from_domain(cls, artifact: RunArtifact) -> RunArtifactBody:
        return cls(
            path=artifact.path,
            digest=artifact.digest,
            size=artifact.size,
            media_type=artifact.media_type,
        )

    def to_domain(self) -> RunArtifact:
        return RunArtifact(self.path, self.digest, self.size, self.media_type)


class RunArtifactList(TrackingModel):
    artifacts: list[RunArtifactBody]


class RunWriteRequest(TrackingModel):
    """Writes to one run, stored all or nothing in this order: create the run (with the
    id of the path, 32 lowercase hex digits), params, tags, metric points, artifact
    entries, then the end (``status`` and ``end_time``). How the SDK sends what it
    gathered for a run through a server: one request per run and flush."""

    create: CreateRunRequest | None = None
    params: list[ParamBody] = []
    tags: list[TagBody] = []
    metrics: MetricColumns = MetricColumns()
    artifacts: list[RunArtifactBody] = []
    status: RunStatus | None = None
    end_time: StrictInt | None = None

    def to_domain(self, run_id: str, metrics: MetricBatch) -> RunWrite:
        create = self.create
        return RunWrite(
            run_id,
            create=None
            if create is None
            else NewRun(
                create.experiment_id,
                create.name,
                create.user,
                create.start_time,
                tuple(create.domain_tags()),
                create.parent_id,
            ),
            params=[Param(param.key, param.value) for param in self.params],
            tags=[RunTag(tag.key, tag.value) for tag in self.tags],
            metrics=metrics,
            artifacts=[item.to_domain() for item in self.artifacts],
            status=self.status,
            end_time=self.end_time,
        )

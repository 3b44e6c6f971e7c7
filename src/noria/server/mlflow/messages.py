"""Request bodies of MLflow's REST API, as its Python client sends them.

The client writes protobuf messages as JSON: int64 fields may arrive as numbers or
strings, doubles as numbers or "NaN"/"Infinity"/"-Infinity", enums as names or
numbers. Pydantic's lax mode accepts all of these; unknown fields are ignored, as
MLflow's server ignores them.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from noria.errors import InvalidArgument


class Message(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class KeyValue(Message):
    key: str
    value: str = ""


class MetricIn(Message):
    key: str
    value: float
    timestamp: int | None = None
    step: int = 0


class DatasetIn(Message):
    name: str
    digest: str
    source_type: str = ""
    source: str = ""
    schema_: str = Field("", alias="schema")
    profile: str = ""


class DatasetInputIn(Message):
    tags: list[KeyValue] = []
    dataset: DatasetIn


class RunRef(Message):
    """Bodies that name a run: newer clients send ``run_id``, older ones ``run_uuid``."""

    run_id: str = ""
    run_uuid: str = ""

    @property
    def id(self) -> str:
        run_id = self.run_id or self.run_uuid
        if not run_id:
            raise InvalidArgument("Missing value for required parameter 'run_id'.")
        return run_id


class CreateExperiment(Message):
    name: str
    artifact_location: str = ""
    tags: list[KeyValue] = []


class ExperimentRef(Message):
    experiment_id: str


class UpdateExperiment(Message):
    experiment_id: str
    new_name: str


class SetExperimentTag(Message):
    experiment_id: str
    key: str
    value: str = ""


class SearchExperiments(Message):
    max_results: int | None = None
    page_token: str | None = None
    filter: str = ""
    order_by: list[str] = []
    view_type: str | int | None = None


class CreateRun(Message):
    experiment_id: str = ""
    user_id: str = ""
    run_name: str = ""
    start_time: int | None = None
    tags: list[KeyValue] = []


class UpdateRun(RunRef):
    status: str | int | None = None
    end_time: int | None = None
    run_name: str = ""


class LogMetric(RunRef):
    key: str
    value: float
    timestamp: int | None = None
    step: int = 0


class LogParam(RunRef):
    key: str
    value: str = ""


class SetTag(RunRef):
    key: str
    value: str = ""


class DeleteTag(RunRef):
    key: str


class LogBatch(RunRef):
    metrics: list[MetricIn] = []
    params: list[KeyValue] = []
    tags: list[KeyValue] = []


class LogInputs(RunRef):
    datasets: list[DatasetInputIn] = []


class SearchRuns(Message):
    experiment_ids: list[str] = []
    filter: str = ""
    run_view_type: str | int | None = None
    max_results: int | None = None
    order_by: list[str] = []
    page_token: str | None = None


class SearchLoggedModels(Message):
    experiment_ids: list[str] = []
    filter: str = ""
    max_results: int | None = None
    page_token: str | None = None
    order_by: list[dict[str, object]] = []


class CreateLoggedModel(Message):
    experiment_id: str
    name: str = ""
    model_type: str = ""
    source_run_id: str = ""
    params: list[KeyValue] = []
    tags: list[KeyValue] = []


class FinalizeLoggedModel(Message):
    status: str | int


class LoggedModelEntries(Message):
    tags: list[KeyValue] = []
    params: list[KeyValue] = []


class ModelOutput(Message):
    model_id: str
    step: int = 0


class LogOutputs(RunRef):
    models: list[ModelOutput] = []

"""Run repos that send a run's gathered writes before anything else touches the run.

Against a server the tracker gathers a run's writes (even its creation) in the
writer. Whoever uses ``tracker.runs`` or ``tracker.run_data`` directly (the SDK
itself, pipelines, the CLI) goes through these, so the server has seen everything
this client wrote to a run before it is read or written another way: reads see
this client's writes, and writes keep their order.
"""

from __future__ import annotations

from collections.abc import Sequence

from noria.domain.paging import Page
from noria.domain.tracking import (
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
)
from noria.ports.tracking import RunDataRepo, RunRepo
from noria.tracking.writer import MetricWriter


class FlushingRunRepo:
    def __init__(self, runs: RunRepo, writer: MetricWriter) -> None:
        self._runs = runs
        self._writer = writer
        self.gather_writes = runs.gather_writes

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
        if parent_id is not None:
            self._writer.flush(parent_id)
        return self._runs.create_run(
            experiment_id,
            name=name,
            user=user,
            start_time=start_time,
            tags=tags,
            parent_id=parent_id,
        )

    def get_run(self, run_id: str) -> Run:
        self._writer.flush(run_id)
        return self._runs.get_run(run_id)

    def update_run(
        self,
        run_id: str,
        *,
        status: RunStatus | None = None,
        end_time: int | None = None,
        name: str | None = None,
    ) -> RunInfo:
        self._writer.flush(run_id)
        return self._runs.update_run(run_id, status=status, end_time=end_time, name=name)

    def end_run(
        self, run_id: str, *, status: RunStatus, end_time: int, metrics: Sequence[Metric] = ()
    ) -> RunInfo:
        self._writer.flush(run_id)
        return self._runs.end_run(run_id, status=status, end_time=end_time, metrics=metrics)

    def set_run_stage(self, run_id: str, stage: str) -> RunInfo:
        self._writer.flush(run_id)
        return self._runs.set_run_stage(run_id, stage)

    def log_batch(
        self,
        run_id: str,
        *,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
    ) -> None:
        self._writer.flush(run_id)
        self._runs.log_batch(run_id, metrics=metrics, params=params, tags=tags)

    def write_run(self, write: RunWrite) -> RunInfo:
        self._writer.flush(write.run_id)
        return self._runs.write_run(write)

    def delete_tag(self, run_id: str, key: str) -> None:
        self._writer.flush(run_id)
        self._runs.delete_tag(run_id, key)

    def search_runs(self, search: RunSearch) -> Page[Run]:
        self._writer.flush()
        return self._runs.search_runs(search)

    def metric_history(
        self, run_id: str, key: str, *, max_points: int | None = None
    ) -> MetricHistory:
        self._writer.flush(run_id)
        return self._runs.metric_history(run_id, key, max_points=max_points)


class FlushingRunDataRepo:
    def __init__(self, run_data: RunDataRepo, writer: MetricWriter) -> None:
        self._run_data = run_data
        self._writer = writer

    def log_inputs(self, run_id: str, inputs: Sequence[RunInput]) -> None:
        self._writer.flush(run_id)
        self._run_data.log_inputs(run_id, inputs)

    def record_artifacts(self, run_id: str, artifacts: Sequence[RunArtifact]) -> None:
        self._writer.flush(run_id)
        self._run_data.record_artifacts(run_id, artifacts)

    def list_artifacts(self, run_id: str, prefix: str = "") -> list[RunArtifact]:
        self._writer.flush(run_id)
        return self._run_data.list_artifacts(run_id, prefix)

    def find_artifact(self, run_id: str, path: str) -> RunArtifact | None:
        self._writer.flush(run_id)
        return self._run_data.find_artifact(run_id, path)

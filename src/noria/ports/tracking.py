"""Ports of the tracker: experiments, runs (with their params, metrics, tags) and run artifacts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from noria.domain.paging import Page
from noria.domain.tracking import (
    Experiment,
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


@runtime_checkable
class ExperimentRepo(Protocol):
    def create_experiment(
        self, name: str, *, tags: dict[str, str] | None = None, artifact_location: str = ""
    ) -> Experiment:
        """Raises ``AlreadyExists`` when the name is taken (deleted experiments included)."""
        ...

    def get_experiment(self, experiment_id: str) -> Experiment: ...

    def find_experiment_by_name(self, name: str) -> Experiment | None: ...

    def list_experiments(
        self,
        *,
        view: ViewType = ViewType.ACTIVE_ONLY,
        name_like: str | None = None,
        limit: int = 100,
        page_token: str | None = None,
    ) -> Page[Experiment]: ...

    def rename_experiment(self, experiment_id: str, name: str) -> Experiment: ...

    def set_experiment_tag(self, experiment_id: str, key: str, value: str) -> None: ...

    def set_experiment_stage(self, experiment_id: str, stage: str) -> Experiment:
        """Soft delete (``deleted``) or restore (``active``); runs follow their experiment."""
        ...


@runtime_checkable
class RunRepo(Protocol):
    # True when every call is a round trip to a server: the SDK then gathers a run's
    # writes (creation, params, tags, points, artifact entries) into one ``write_run``.
    gather_writes: bool

    def create_run(
        self,
        experiment_id: str,
        *,
        name: str,
        user: str,
        start_time: int,
        tags: Sequence[RunTag] = (),
        parent_id: str | None = None,
    ) -> Run: ...

    def get_run(self, run_id: str) -> Run: ...

    def update_run(
        self,
        run_id: str,
        *,
        status: RunStatus | None = None,
        end_time: int | None = None,
        name: str | None = None,
    ) -> RunInfo: ...

    def end_run(
        self,
        run_id: str,
        *,
        status: RunStatus,
        end_time: int,
        metrics: Sequence[Metric] = (),
    ) -> RunInfo:
        """Store the run's last metric points and set its final status and end time, all
        or nothing: one transaction, one request to a server."""
        ...

    def set_run_stage(self, run_id: str, stage: str) -> RunInfo:
        """Soft delete (``deleted``) or restore (``active``)."""
        ...

    def log_batch(
        self,
        run_id: str,
        *,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
    ) -> None:
        """All or nothing. A param already set to another value raises ``Conflict``."""
        ...

    def write_run(self, write: RunWrite) -> RunInfo:
        """Apply ``write`` all or nothing (one transaction, one request to a server) and
        return the run's info after it. A ``create`` makes the run with ``write.run_id``
        (a time-ordered id from ``noria.domain.ids.new_id``); an id in use raises
        ``AlreadyExists``. Param conflicts raise ``Conflict`` as ``log_batch`` does."""
        ...

    def delete_tag(self, run_id: str, key: str) -> None: ...

    def search_runs(self, search: RunSearch) -> Page[Run]: ...

    def metric_history(
        self, run_id: str, key: str, *, max_points: int | None = None
    ) -> MetricHistory:
        """Every point in (step, timestamp) order, or at most ``max_points`` keeping the
        first, last, min and max."""
        ...


@runtime_checkable
class RunDataRepo(Protocol):
    """What a run read and wrote beyond numbers: inputs and artifact files."""

    def log_inputs(self, run_id: str, inputs: Sequence[RunInput]) -> None: ...

    def record_artifacts(self, run_id: str, artifacts: Sequence[RunArtifact]) -> None:
        """Upsert by path: logging a file again at the same path replaces the entry."""
        ...

    def list_artifacts(self, run_id: str, prefix: str = "") -> list[RunArtifact]:
        """Files under ``prefix`` (a folder path inside the run), sorted by path."""
        ...

    def find_artifact(self, run_id: str, path: str) -> RunArtifact | None: ...

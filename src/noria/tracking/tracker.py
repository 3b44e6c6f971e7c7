"""The tracking service: experiments, runs, artifacts of runs, search."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import Any

from noria.artifacts import ArtifactStore
from noria.domain.artifacts import Digest
from noria.domain.entities import EntityKind, EntityRef
from noria.domain.lineage import Relation
from noria.domain.tracking import (
    DEFAULT_EXPERIMENT_ID,
    MAX_TAG_VALUE_LENGTH,
    Experiment,
    LifecycleStage,
    MetricHistory,
    Run,
    RunArtifact,
    RunInput,
    RunSearch,
    RunStatus,
    RunTag,
    ViewType,
    check_key,
    check_value,
)
from noria.errors import InvalidArgument, NotFound
from noria.lineage import LineageService
from noria.ports.metadata import MetadataStore
from noria.tracking.environment import capture_environment
from noria.tracking.results import RunList
from noria.tracking.run import ActiveRun, now_ms
from noria.tracking.writer import MetricWriter


def _artifact_path(folder: str, name: str) -> str:
    path = str(PurePosixPath(folder.strip("/"), name)) if folder.strip("/") else name
    if path.startswith("/") or ".." in PurePosixPath(path).parts:
        raise InvalidArgument(f"Artifact path {path!r} must stay inside the run (no '..').")
    return path


class Tracker:
    """Experiments and runs over one metadata store and one artifact store."""

    def __init__(
        self,
        store: MetadataStore,
        artifacts: ArtifactStore,
        lineage: LineageService,
        *,
        user: str,
    ) -> None:
        self.experiments = store.experiments
        self.runs = store.runs
        self.run_data = store.run_data
        self.artifacts = artifacts
        self.lineage = lineage
        self.user = user
        self.writer = MetricWriter(store.runs)

    # -- experiments -------------------------------------------------------------

    def experiment(self, name_or_id: str | None = None, *, create: bool = True) -> Experiment:
        """The experiment with this id or name; a missing name is created when ``create``."""
        if name_or_id is None:
            return self.experiments.get_experiment(DEFAULT_EXPERIMENT_ID)
        found = self.experiments.find_experiment_by_name(name_or_id)
        if found is not None:
            return found
        try:
            return self.experiments.get_experiment(name_or_id)
        except (NotFound, InvalidArgument):
            if not create:
                raise NotFound(
                    f"Experiment {name_or_id!r} not found (by name or id); "
                    "`noria experiments list` shows the existing ones."
                ) from None
        return self.experiments.create_experiment(name_or_id)

    # -- runs ----------------------------------------------------------------------

    def start_run(
        self,
        *,
        experiment: str | None = None,
        name: str | None = None,
        tags: Mapping[str, Any] | None = None,
        parent_id: str | None = None,
        run_id: str | None = None,
        record_environment: bool = True,
    ) -> ActiveRun:
        """Start a new run, or resume ``run_id`` (which sets it RUNNING again)."""
        if run_id is not None:
            self.runs.update_run(run_id, status=RunStatus.RUNNING)
            return ActiveRun(self, self.runs.get_run(run_id))
        target = self.experiment(experiment)
        all_tags = capture_environment().tags() if record_environment else {}
        all_tags.update({str(k): v for k, v in (tags or {}).items()})
        run = self.runs.create_run(
            target.id,
            name=name or "",
            user=self.user,
            start_time=now_ms(),
            tags=[
                RunTag(check_key(k, "tag"), check_value(v, "tag", k, MAX_TAG_VALUE_LENGTH))
                for k, v in all_tags.items()
            ],
            parent_id=parent_id,
        )
        if record_environment:
            self._record_environment(run.info.id)
        return ActiveRun(self, run)

    def _record_environment(self, run_id: str) -> None:
        environment = capture_environment()
        entries = [self._bytes_entry(environment.requirements(), "noria/requirements.txt")]
        if environment.git is not None and environment.git.dirty:
            entries.append(self._bytes_entry(environment.git.diff, "noria/git.diff"))
        self.run_data.record_artifacts(run_id, entries)

    def get_run(self, run_id: str) -> Run:
        self.writer.flush(run_id)  # read your own writes
        return self.runs.get_run(run_id)

    def search_runs(
        self,
        *,
        experiments: str | Sequence[str] | None = None,
        filter: str = "",
        order_by: Sequence[str] = (),
        limit: int = 100,
        page_token: str | None = None,
        view: ViewType | str = ViewType.ACTIVE_ONLY,
    ) -> RunList:
        names = [experiments] if isinstance(experiments, str | None) else list(experiments)
        ids = tuple(self.experiment(name, create=False).id for name in names)
        self.writer.flush()
        page = self.runs.search_runs(
            RunSearch(ids, filter, tuple(order_by), ViewType(view), limit, page_token)
        )
        return RunList(page.items, page.next_page_token)

    def metric_history(
        self, run_id: str, key: str, *, max_points: int | None = None
    ) -> MetricHistory:
        self.writer.flush(run_id)
        return self.runs.metric_history(run_id, key, max_points=max_points)

    def delete_run(self, run_id: str) -> None:
        self.runs.set_run_stage(run_id, LifecycleStage.DELETED.value)

    def restore_run(self, run_id: str) -> None:
        self.runs.set_run_stage(run_id, LifecycleStage.ACTIVE.value)

    # -- artifacts and inputs --------------------------------------------------------

    def _bytes_entry(self, data: bytes, path: str, media_type: str = "text/plain") -> RunArtifact:
        ref = self.artifacts.put_bytes(data, media_type=media_type)
        return RunArtifact(path, str(ref.digest), ref.size, media_type)

    def log_bytes(self, run_id: str, data: bytes, artifact_file: str, media_type: str) -> None:
        path = _artifact_path("", artifact_file)
        self.run_data.record_artifacts(run_id, [self._bytes_entry(data, path, media_type)])

    def log_artifact(self, run_id: str, path: Path, artifact_path: str) -> None:
        if path.is_dir():
            self.log_directory_contents(run_id, path, _artifact_path(artifact_path, path.name))
            return
        ref = self.artifacts.put_file(path)
        entry = RunArtifact(
            _artifact_path(artifact_path, path.name), str(ref.digest), ref.size, ref.media_type
        )
        self.run_data.record_artifacts(run_id, [entry])

    def log_directory_contents(self, run_id: str, directory: Path, artifact_path: str) -> None:
        if not directory.is_dir():
            raise NotFound(f"Directory {directory} does not exist.")
        entries = []
        for file in sorted(p for p in directory.rglob("*") if p.is_file()):
            ref = self.artifacts.put_file(file)
            relative = file.relative_to(directory).as_posix()
            path = _artifact_path(artifact_path, relative)
            entries.append(RunArtifact(path, str(ref.digest), ref.size, ref.media_type))
        self.run_data.record_artifacts(run_id, entries)

    def list_artifacts(self, run_id: str, prefix: str = "") -> list[RunArtifact]:
        return self.run_data.list_artifacts(run_id, prefix.strip("/"))

    def download_artifacts(self, run_id: str, path: str, dest: Path) -> Path:
        """Copy one file, or every file under a folder path, into ``dest``; returns the copy."""
        path = path.strip("/")
        single = self.run_data.find_artifact(run_id, path) if path else None
        if single is not None:
            return self.artifacts.get_file(Digest.parse(single.digest), dest / Path(path).name)
        entries = self.run_data.list_artifacts(run_id, path)
        if not entries:
            raise NotFound(f"Run {run_id} has no artifact at {path or '/'!r}.")
        for entry in entries:
            relative = PurePosixPath(entry.path).relative_to(path) if path else entry.path
            self.artifacts.get_file(Digest.parse(entry.digest), dest / str(relative))
        return dest

    def log_input(self, run_id: str, dataset: EntityRef | RunInput, *, context: str) -> None:
        if isinstance(dataset, RunInput):
            self.run_data.log_inputs(run_id, [dataset])
            return
        if dataset.kind is not EntityKind.DATASET_VERSION:
            raise InvalidArgument(
                f"log_input takes a dataset version (datasets:/<name>/<version>), got {dataset}."
            )
        name, version = dataset.key.rsplit("/", 1)
        record = RunInput(
            name=name, digest=version, source_type="noria", source=dataset.uri, context=context
        )
        self.run_data.log_inputs(run_id, [record])
        self.lineage.record(dataset, Relation.CONSUMED, EntityRef(EntityKind.RUN, run_id))

    def close(self) -> None:
        self.writer.close()

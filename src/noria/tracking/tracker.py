"""The tracking service: experiments, runs, artifacts of runs, search."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path, PurePosixPath
from typing import Any

from noria.artifacts import ArtifactStore
from noria.domain.artifacts import Digest
from noria.domain.datasets import DatasetVersion
from noria.domain.entities import EntityKind, EntityRef
from noria.domain.ids import new_id
from noria.domain.lineage import Relation
from noria.domain.tracking import (
    DEFAULT_EXPERIMENT_ID,
    MAX_NAME_LENGTH,
    MAX_TAG_VALUE_LENGTH,
    Experiment,
    LifecycleStage,
    MetricHistory,
    NewRun,
    Param,
    Run,
    RunArtifact,
    RunInfo,
    RunInput,
    RunSearch,
    RunStatus,
    RunTag,
    ViewType,
    check_key,
    check_value,
)
from noria.domain.uris import DatasetAliasUri, DatasetVersionUri, parse_uri
from noria.errors import AlreadyExists, Conflict, InvalidArgument, NoriaError, NotFound
from noria.lineage import LineageService
from noria.ports.metadata import MetadataStore
from noria.ports.tracking import RunDataRepo, RunRepo
from noria.tracking.environment import capture_environment
from noria.tracking.flushing import FlushingRunDataRepo, FlushingRunRepo
from noria.tracking.results import RunList
from noria.tracking.run import ActiveRun, now_ms
from noria.tracking.writer import MetricWriter, has_data, lost_writes


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
        self.datasets = store.datasets
        self.artifacts = artifacts
        self.lineage = lineage
        self.user = user
        self.writer = MetricWriter(store.runs)
        self._store_runs = store.runs
        # Against a server a run's writes wait in the writer, creation included (see
        # ``_start_gathered``); direct use of the repos sends them first.
        self._gather = store.runs.gather_writes
        self.runs: RunRepo = store.runs
        self.run_data: RunDataRepo = store.run_data
        if self._gather:
            self.runs = FlushingRunRepo(store.runs, self.writer)
            self.run_data = FlushingRunDataRepo(store.run_data, self.writer)
        # What this client set on each of its open runs: a change is refused at the call.
        self._known_params: dict[str, dict[str, str]] = {}
        self._params_lock = threading.Lock()
        # Per process, as MLflow's fluent API does: a run's start looks nothing up by name.
        self._experiment_ids: dict[str | None, str] = {}
        # The environment does not change within a process: stored once, then referenced.
        self._environment_entries: list[RunArtifact] | None = None

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
        try:
            return self.experiments.create_experiment(name_or_id)
        except AlreadyExists:
            # Another process or thread created it since the lookup above: use theirs.
            raced = self.experiments.find_experiment_by_name(name_or_id)
            if raced is None:
                raise
            return raced

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
        defer: bool = False,
    ) -> ActiveRun:
        """Start a new run, or resume ``run_id`` (which sets it RUNNING again).

        ``defer``: against a server, send the run's creation together with its first
        writes (a short run is then one request; ``noria.start_run`` does this). The
        server has the run within the flush interval, at the first read through this
        client, or at ``end()``: leave it False when another process must find the run
        as soon as this returns (as the parent of its runs, say)."""
        if run_id is not None:
            self.runs.update_run(run_id, status=RunStatus.RUNNING)
            resumed = self.runs.get_run(run_id)
            if self._gather:
                with self._params_lock:
                    self._known_params[run_id] = dict(resumed.params)
            return ActiveRun(self, resumed)
        all_tags = capture_environment().tags() if record_environment else {}
        all_tags.update({str(k): v for k, v in (tags or {}).items()})
        checked = [
            RunTag(check_key(k, "tag"), check_value(v, "tag", k, MAX_TAG_VALUE_LENGTH))
            for k, v in all_tags.items()
        ]
        if self._gather and defer:
            return self._start_gathered(
                experiment, name or "", checked, parent_id, record_environment
            )

        def create(experiment_id: str) -> Run:
            return self.runs.create_run(
                experiment_id,
                name=name or "",
                user=self.user,
                start_time=now_ms(),
                tags=checked,
                parent_id=parent_id,
            )

        run = self._in_experiment(experiment, create)
        if record_environment:
            self.run_data.record_artifacts(run.info.id, self._environment())
        if self._gather:
            with self._params_lock:
                self._known_params[run.info.id] = {}
        return ActiveRun(self, run)

    def _start_gathered(
        self,
        experiment: str | None,
        name: str,
        tags: list[RunTag],
        parent_id: str | None,
        record_environment: bool,
    ) -> ActiveRun:
        """A run whose creation waits in the writer with its first writes: the run gets
        its (time-ordered) id here, and the server sees it at the next flush (within
        the flush interval, or at the first read or ``end``). What only the server can
        refuse (a deleted experiment, say) is raised at the next call or at ``end``."""
        if not isinstance(name, str):
            raise InvalidArgument(f"Invalid run name {name!r}: it must be a string.")
        check_value(name, "run", "name", MAX_NAME_LENGTH)
        experiment_id = self._experiment_ids.get(experiment)
        if experiment_id is None:
            found = self.experiment(experiment, create=True)
            if found.lifecycle_stage is not LifecycleStage.ACTIVE:
                # What the server would answer, but now: the lookup told us already.
                raise InvalidArgument(
                    f"Experiment {found.name!r} ({found.id}) is deleted: restore it first."
                )
            experiment_id = self._experiment_ids[experiment] = found.id
        if parent_id is not None:
            self.writer.flush(parent_id)  # the parent exists on the server before its child
        info = RunInfo(
            id=new_id(),
            experiment_id=experiment_id,
            name=name,
            status=RunStatus.RUNNING,
            start_time=now_ms(),
            end_time=None,
            lifecycle_stage=LifecycleStage.ACTIVE,
            user=self.user,
            parent_id=parent_id,
        )
        new = NewRun(experiment_id, name, self.user, info.start_time, tuple(tags), parent_id)
        artifacts = self._environment() if record_environment else []
        self.writer.gather(info.id, create=new, artifacts=artifacts)
        with self._params_lock:
            self._known_params[info.id] = {}
        return ActiveRun(self, Run(info=info, tags={tag.key: tag.value for tag in tags}))

    def log_params(self, run_id: str, params: Sequence[Param]) -> None:
        """Checked params. Against a server they go with the run's next batch; a value
        other than one this client set is refused here, one only the server knows of
        (set by another client) at the next call or at ``end``."""
        if not self._gather:
            self.runs.log_batch(run_id, params=params)
            return
        with self._params_lock:
            known = self._known_params.setdefault(run_id, {})
            new: dict[str, str] = {}
            for param in params:
                value = known.get(param.key, new.get(param.key, param.value))
                if value != param.value:
                    raise Conflict(
                        "Changing param values is not allowed. "
                        f"Param {param.key!r} was already logged with value {value!r} for "
                        f"run {run_id!r}; attempted {param.value!r}."
                    )
                if param.key not in known:
                    new[param.key] = param.value
            if new:
                self.writer.gather(run_id, params=new)
                known.update(new)

    def set_tags(self, run_id: str, tags: Sequence[RunTag]) -> None:
        """Checked tags; against a server they go with the run's next batch."""
        if self._gather:
            self.writer.gather(run_id, tags={tag.key: tag.value for tag in tags})
        else:
            self.runs.log_batch(run_id, tags=tags)

    def _in_experiment(self, name_or_id: str | None, create: Callable[[str], Run]) -> Run:
        """``create(experiment_id)`` for the experiment named; its id is looked up once."""
        cached = self._experiment_ids.get(name_or_id)
        if cached is not None:
            try:
                return create(cached)
            except (NotFound, InvalidArgument):
                # Deleted meanwhile, say: look it up again, and fail as an uncached start would.
                del self._experiment_ids[name_or_id]
        return create(self._experiment_id(name_or_id, create=True))

    def _experiment_id(self, name_or_id: str | None, *, create: bool) -> str:
        """The id of the experiment named (or with this id), looked up once per tracker."""
        found = self._experiment_ids.get(name_or_id)
        if found is None:
            found = self.experiment(name_or_id, create=create).id
            self._experiment_ids[name_or_id] = found
        return found

    def _environment(self) -> list[RunArtifact]:
        if self._environment_entries is None:
            environment = capture_environment()
            entries = [self._bytes_entry(environment.requirements(), "noria/requirements.txt")]
            if environment.git is not None and environment.git.dirty:
                entries.append(self._bytes_entry(environment.git.diff, "noria/git.diff"))
            self._environment_entries = entries
        return self._environment_entries

    def end_run(self, run_id: str, status: RunStatus) -> None:
        """Store the run's waiting writes and end it, in one write.

        A run that lost writes (now or in an earlier background write) still ends, as
        FAILED, and the loss is raised; after this returns, every point is durable.
        """
        write, earlier = self.writer.take(run_id)
        with self._params_lock:
            self._known_params.pop(run_id, None)
        final = RunStatus.FAILED if earlier is not None else status
        try:
            self._store_runs.write_run(replace(write, status=final, end_time=now_ms()))
        except Exception as exc:
            self._experiment_ids.clear()  # a deleted experiment must not stay remembered
            if not has_data(write) and earlier is None:
                raise
            with contextlib.suppress(NoriaError):
                self._store_runs.update_run(run_id, status=RunStatus.FAILED, end_time=now_ms())
            if earlier is not None:
                raise earlier from exc  # the first loss is the one to see
            raise lost_writes(write, exc) from exc
        if earlier is not None:
            self._experiment_ids.clear()
            raise earlier

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
        ids = tuple(self._experiment_id(name, create=False) for name in names)
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

    def log_input(
        self, run_id: str, dataset: DatasetVersion | EntityRef | RunInput | str, *, context: str
    ) -> None:
        """Record a dataset version the run read (a version, its ref or its URI), with the
        lineage edge version → consumed → run; a ``RunInput`` (MLflow's) is stored as given."""
        if isinstance(dataset, RunInput):
            self.run_data.log_inputs(run_id, [dataset])
            return
        version = dataset if isinstance(dataset, DatasetVersion) else self._dataset(dataset)
        record = RunInput(
            name=version.name,
            digest=version.digest,
            source_type="noria",
            source=version.uri,
            schema=version.schema_digest,
            profile=version.profile_digest,
            context=context,
        )
        self.run_data.log_inputs(run_id, [record])
        self.lineage.record(version.entity(), Relation.CONSUMED, EntityRef(EntityKind.RUN, run_id))

    def _dataset(self, ref: EntityRef | str) -> DatasetVersion:
        if isinstance(ref, str):
            parsed = parse_uri(ref)
            if isinstance(parsed, DatasetVersionUri):
                return self.datasets.get_version(parsed.name, parsed.version)
            if isinstance(parsed, DatasetAliasUri):
                return self.datasets.get_version(parsed.name)
            raise InvalidArgument(
                f"log_input takes a dataset version (datasets:/<name>/<version>), got {ref!r}."
            )
        if ref.kind is not EntityKind.DATASET_VERSION:
            raise InvalidArgument(
                f"log_input takes a dataset version (datasets:/<name>/<version>), got {ref}."
            )
        name, number = ref.key.rsplit("/", 1)
        return self.datasets.get_version(name, int(number))

    def close(self) -> None:
        self.writer.close()

"""Contract every :class:`~noria.ports.pipelines.PipelineRepo` must pass.

Subclass :class:`PipelineRepoContract` in a ``Test*`` class and provide a ``store`` fixture
yielding an initialized metadata store; each test uses its own pipeline names.
"""

from __future__ import annotations

import hashlib
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest

from noria.domain.ids import new_id
from noria.domain.pipelines import (
    CacheEntry,
    OutputRef,
    PipelineRun,
    PipelineStatus,
    StepRun,
    StepStatus,
)
from noria.errors import AlreadyExists, InvalidArgument, NotFound
from noria.ports.metadata import MetadataStore


def key_of(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def output(name: str, content: str = "x", serializer: str = "json") -> OutputRef:
    return OutputRef(
        name=name,
        digest=f"sha256:{key_of(content)}",
        size=len(content),
        serializer=serializer,
        media_type="application/json",
        python_type="builtins.dict",
    )


class PipelineRepoContract:
    @pytest.fixture
    def name(self) -> str:
        return f"train-{uuid.uuid4().hex[:10]}"

    @staticmethod
    def new_run(
        name: str, *steps: str, started_at: int = 1_700_000_000_000
    ) -> tuple[PipelineRun, list[StepRun]]:
        run = PipelineRun(
            id=new_id(),
            pipeline=name,
            status=PipelineStatus.RUNNING,
            params={"lr": 0.1, "layers": [2, 3], "name": "x"},
            executor="local",
            created_by="ana",
            started_at=started_at,
            tracking_run_id=new_id(),
        )
        records = [
            StepRun(
                id=new_id(),
                pipeline_run_id=run.id,
                name=step,
                step_ref=f"flows.{name.replace('-', '_')}:{step}",
                upstream=tuple(steps[:position]),
            )
            for position, step in enumerate(steps)
        ]
        return run, records

    def test_run_and_steps_read_back(self, store: MetadataStore, name: str) -> None:
        run, steps = self.new_run(name, "load", "train", "report")
        store.pipelines.create_run(run, steps)
        assert store.pipelines.get_run(run.id) == run
        assert store.pipelines.list_steps(run.id) == steps
        assert run.uri == f"pipeline-runs:/{run.id}"

    def test_step_state_is_saved_whole(self, store: MetadataStore, name: str) -> None:
        run, steps = self.new_run(name, "load", "train")
        store.pipelines.create_run(run, steps)
        done = replace(
            steps[1],
            status=StepStatus.SUCCEEDED,
            cache_key=key_of("k"),
            cache_hit=True,
            cached_from=new_id(),
            attempts=3,
            started_at=10,
            ended_at=25,
            inputs=(output("frame", "in", "parquet"),),
            outputs=(output("output_0", "a"), output("output_1", "b")),
            logs_digest=f"sha256:{key_of('logs')}",
            tracking_run_id=new_id(),
            error="ValueError: first attempt failed",
        )
        store.pipelines.save_step(done)
        assert store.pipelines.list_steps(run.id) == [steps[0], done]
        assert done.duration_ms == 15

    def test_finish_run(self, store: MetadataStore, name: str) -> None:
        run, steps = self.new_run(name, "only")
        store.pipelines.create_run(run, steps)
        finished = store.pipelines.finish_run(
            run.id, PipelineStatus.FAILED, ended_at=run.started_at + 5, error="step 'only' failed"
        )
        assert finished == replace(
            run,
            status=PipelineStatus.FAILED,
            ended_at=run.started_at + 5,
            error="step 'only' failed",
        )
        assert store.pipelines.get_run(run.id) == finished

    def test_unknown_ids_are_precise(self, store: MetadataStore, name: str) -> None:
        missing = new_id()
        with pytest.raises(NotFound, match=f"Pipeline run '{missing}' not found"):
            store.pipelines.get_run(missing)
        with pytest.raises(NotFound):
            store.pipelines.list_steps(missing)
        with pytest.raises(NotFound):
            store.pipelines.finish_run(missing, PipelineStatus.SUCCEEDED, ended_at=1)
        _, steps = self.new_run(name, "a")
        with pytest.raises(NotFound, match="is not stored"):
            store.pipelines.save_step(steps[0])
        with pytest.raises(InvalidArgument, match="Invalid pipeline run id"):
            store.pipelines.get_run("not-an-id")

    def test_a_run_is_stored_once(self, store: MetadataStore, name: str) -> None:
        run, steps = self.new_run(name, "a")
        store.pipelines.create_run(run, steps)
        with pytest.raises(AlreadyExists, match=run.id):
            store.pipelines.create_run(run, [])

    def test_bad_records_are_refused(self, store: MetadataStore, name: str) -> None:
        run, steps = self.new_run(name, "a", "b")
        with pytest.raises(InvalidArgument, match="names a step twice"):
            store.pipelines.create_run(run, [steps[0], replace(steps[1], name="a")])
        with pytest.raises(InvalidArgument, match="Invalid step name"):
            store.pipelines.create_run(run, [replace(steps[0], name="no spaces")])
        with pytest.raises(InvalidArgument, match="Invalid pipeline name"):
            store.pipelines.create_run(replace(run, pipeline="a/b"), [])
        with pytest.raises(InvalidArgument, match="belongs to pipeline run"):
            store.pipelines.create_run(run, [replace(steps[0], pipeline_run_id=new_id())])

    def test_runs_list_newest_first_with_filters_and_pages(
        self, store: MetadataStore, name: str
    ) -> None:
        other = f"{name}-other"
        made = []
        for offset in range(3):
            run, steps = self.new_run(name, "a", started_at=2_000_000_000_000 + offset)
            store.pipelines.create_run(run, steps)
            made.append(run)
        lone, lone_steps = self.new_run(other, "a", started_at=2_000_000_000_000)
        store.pipelines.create_run(lone, lone_steps)
        store.pipelines.finish_run(made[0].id, PipelineStatus.SUCCEEDED, ended_at=1)

        first = store.pipelines.list_runs(pipeline=name, limit=2)
        assert [run.id for run in first.items] == [made[2].id, made[1].id]
        assert first.next_page_token is not None
        rest = store.pipelines.list_runs(pipeline=name, limit=2, page_token=first.next_page_token)
        assert [run.id for run in rest.items] == [made[0].id]
        assert rest.next_page_token is None
        succeeded = store.pipelines.list_runs(pipeline=name, status=PipelineStatus.SUCCEEDED)
        assert [run.id for run in succeeded.items] == [made[0].id]
        assert [run.id for run in store.pipelines.list_runs(pipeline=other).items] == [lone.id]

    def test_cache_entries_replace_and_clear(self, store: MetadataStore, name: str) -> None:
        key, other_key = key_of(f"{name}-1"), key_of(f"{name}-2")
        assert store.pipelines.find_cached(key) is None
        entry = CacheEntry(key, name, "train", new_id(), (output("output", "m"),), 5)
        store.pipelines.save_cached(entry)
        assert store.pipelines.find_cached(key) == entry
        newer = replace(entry, step_run_id=new_id(), outputs=(output("output", "n"),), created_at=9)
        store.pipelines.save_cached(newer)
        assert store.pipelines.find_cached(key) == newer
        store.pipelines.save_cached(CacheEntry(other_key, name, "load", new_id(), (), 6))

        assert store.pipelines.clear_cache(pipeline=name, step="train") == 1
        assert store.pipelines.find_cached(key) is None
        assert store.pipelines.find_cached(other_key) is not None
        assert store.pipelines.clear_cache(pipeline=name) == 1
        assert store.pipelines.find_cached(other_key) is None
        with pytest.raises(InvalidArgument, match="Invalid cache key"):
            store.pipelines.find_cached("abc")

    def test_concurrent_cache_writes_of_one_key_keep_one_entry(
        self, store: MetadataStore, name: str
    ) -> None:
        key = key_of(f"{name}-race")
        entries = [CacheEntry(key, name, "train", new_id(), (), n) for n in range(4)]
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(store.pipelines.save_cached, entries))
        assert store.pipelines.find_cached(key) in entries
        assert store.pipelines.clear_cache(pipeline=name) == 1

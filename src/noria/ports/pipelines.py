"""Port of the pipeline records: pipeline runs, their step runs, and the step cache."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from noria.domain.paging import Page
from noria.domain.pipelines import CacheEntry, PipelineRun, PipelineStatus, StepRun


@runtime_checkable
class PipelineRepo(Protocol):
    def create_run(self, run: PipelineRun, steps: Sequence[StepRun]) -> None:
        """Store a new run and all its steps (usually PENDING) in one transaction.

        Raises ``AlreadyExists`` for a run id already stored.
        """
        ...

    def finish_run(
        self, run_id: str, status: PipelineStatus, *, ended_at: int, error: str | None = None
    ) -> PipelineRun:
        """Set a run's final status; returns the run as stored."""
        ...

    def save_step(self, step: StepRun) -> None:
        """Replace the stored state of one step run (matched by ``id``)."""
        ...

    def get_run(self, run_id: str) -> PipelineRun:
        """Raises ``NotFound`` naming the id."""
        ...

    def list_steps(self, run_id: str) -> list[StepRun]:
        """A run's steps in the order the pipeline declared them."""
        ...

    def list_runs(
        self,
        *,
        pipeline: str | None = None,
        status: PipelineStatus | None = None,
        limit: int = 100,
        page_token: str | None = None,
    ) -> Page[PipelineRun]:
        """Newest first."""
        ...

    def find_cached(self, key: str) -> CacheEntry | None: ...

    def save_cached(self, entry: CacheEntry) -> None:
        """Remember a result under its key; a newer result for the key replaces the older."""
        ...

    def clear_cache(self, *, pipeline: str | None = None, step: str | None = None) -> int:
        """Forget cached results (all, or a pipeline's, or a step's); returns how many."""
        ...

"""Port of MLflow 3 logged models: the model rows and their files."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from noria.domain.logged_models import LoggedModel, LoggedModelStatus, NewLoggedModel
from noria.domain.paging import Page
from noria.domain.tracking import RunArtifact


@dataclass(frozen=True, slots=True)
class LoggedModelSearch:
    """Models of these experiments, newest first; each other field narrows by equality."""

    experiment_ids: tuple[str, ...]
    name: str | None = None
    source_run_id: str | None = None
    status: LoggedModelStatus | None = None


@runtime_checkable
class LoggedModelRepo(Protocol):
    def create(self, new: NewLoggedModel) -> LoggedModel:
        """A PENDING model with a fresh ``m-…`` id; the experiment (and run) must exist."""
        ...

    def get(self, model_id: str, *, allow_deleted: bool = False) -> LoggedModel: ...

    def update(
        self,
        model_id: str,
        *,
        status: LoggedModelStatus | None = None,
        status_message: str | None = None,
        set_tags: Mapping[str, str] | None = None,
        delete_tags: Sequence[str] = (),
        params: Mapping[str, str] | None = None,
    ) -> LoggedModel:
        """Change what is given; params are added once and never changed, as a run's."""
        ...

    def delete(self, model_id: str) -> None:
        """Mark deleted: hidden from search and ``get``; its files are kept."""
        ...

    def search(
        self, query: LoggedModelSearch, *, limit: int = 100, page_token: str | None = None
    ) -> Page[LoggedModel]: ...

    def record_files(self, model_id: str, files: Sequence[RunArtifact]) -> None:
        """Add or replace files by path."""
        ...

    def list_files(self, model_id: str, prefix: str = "") -> list[RunArtifact]:
        """Files whose path is ``prefix`` or lies under it, in path order."""
        ...

    def find_file(self, model_id: str, path: str) -> RunArtifact | None: ...

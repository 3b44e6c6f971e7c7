"""The module-level SDK: ``noria.start_run()`` and friends, over an active run.

The active run lives in a ContextVar, so each thread and each asyncio task sees its
own; a run started inside another becomes its child unless ``parent`` says otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextvars import ContextVar
from pathlib import Path
from typing import TYPE_CHECKING, Any

from noria.domain.datasets import DatasetVersion
from noria.domain.entities import EntityRef
from noria.domain.tracking import Run, RunInput, RunStatus, ViewType
from noria.errors import InvalidArgument
from noria.tracking.results import RunList
from noria.tracking.run import ActiveRun

if TYPE_CHECKING:
    from noria.client import Client

_active_run: ContextVar[ActiveRun | None] = ContextVar("noria_active_run", default=None)


class _Inherit:
    """Marker: the new run's parent is whatever run is active."""


INHERIT = _Inherit()


def _client(client: Client | None) -> Client:
    if client is not None:
        return client
    from noria.client import default_client

    return default_client()


def start_run(
    experiment: str | None = None,
    *,
    name: str | None = None,
    tags: Mapping[str, Any] | None = None,
    parent: str | ActiveRun | _Inherit | None = INHERIT,
    run_id: str | None = None,
    client: Client | None = None,
) -> ActiveRun:
    """Start (or with ``run_id`` resume) a run and make it the active one.

    >>> with noria.start_run(experiment="credit", name="baseline") as run:
    ...     noria.log_param("model", "xgb")
    ...     noria.log_metric("auc", 0.91)
    """
    previous = _active_run.get()
    if isinstance(parent, _Inherit):
        parent_id = previous.id if previous is not None else None
    else:
        parent_id = parent.id if isinstance(parent, ActiveRun) else parent
    tracker = _client(client).tracker
    run = tracker.start_run(
        experiment=experiment, name=name, tags=tags, parent_id=parent_id, run_id=run_id, defer=True
    )

    def restore_previous(ended: ActiveRun) -> None:
        if _active_run.get() is ended:
            _active_run.set(previous)

    run.when_ended(restore_previous)
    _active_run.set(run)
    return run


def active_run() -> ActiveRun | None:
    return _active_run.get()


def _require_active() -> ActiveRun:
    run = _active_run.get()
    if run is None:
        raise InvalidArgument("No active run: call noria.start_run() first.")
    return run


def end_run(status: RunStatus | str = RunStatus.FINISHED) -> None:
    """End the active run (every waiting metric point is stored before this returns)."""
    run = _active_run.get()
    if run is not None:
        run.end(status)


def log_param(key: str, value: Any) -> None:
    _require_active().log_param(key, value)


def log_params(params: Mapping[str, Any]) -> None:
    _require_active().log_params(params)


def log_metric(key: str, value: float, *, step: int = 0, timestamp: int | None = None) -> None:
    _require_active().log_metric(key, value, step=step, timestamp=timestamp)


def log_metrics(
    metrics: Mapping[str, float], *, step: int = 0, timestamp: int | None = None
) -> None:
    _require_active().log_metrics(metrics, step=step, timestamp=timestamp)


def set_tag(key: str, value: Any) -> None:
    _require_active().set_tag(key, value)


def set_tags(tags: Mapping[str, Any]) -> None:
    _require_active().set_tags(tags)


def log_artifact(path: str | Path, artifact_path: str = "") -> None:
    _require_active().log_artifact(path, artifact_path)


def log_artifacts(directory: str | Path, artifact_path: str = "") -> None:
    _require_active().log_artifacts(directory, artifact_path)


def log_text(text: str, artifact_file: str) -> None:
    _require_active().log_text(text, artifact_file)


def log_dict(data: Mapping[str, Any], artifact_file: str) -> None:
    _require_active().log_dict(data, artifact_file)


def log_figure(figure: Any, artifact_file: str) -> None:
    _require_active().log_figure(figure, artifact_file)


def log_input(dataset: DatasetVersion | EntityRef | RunInput | str, *, context: str = "") -> None:
    """Record that the active run read a dataset version (a version, ref or URI)."""
    _require_active().log_input(dataset, context=context)


def get_run(run_id: str, *, client: Client | None = None) -> Run:
    return _client(client).tracker.get_run(run_id)


def search_runs(
    experiment: str | Sequence[str] | None = None,
    *,
    filter: str = "",
    order_by: Sequence[str] = (),
    limit: int = 100,
    page_token: str | None = None,
    view: ViewType | str = ViewType.ACTIVE_ONLY,
    client: Client | None = None,
) -> RunList:
    """Runs matching ``filter``, e.g. ``"metrics.auc > 0.8 AND params.model = 'xgb'"``."""
    return _client(client).tracker.search_runs(
        experiments=experiment,
        filter=filter,
        order_by=order_by,
        limit=limit,
        page_token=page_token,
        view=view,
    )

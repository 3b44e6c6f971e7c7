"""Batch scoring on Ray: one task per input file.

The model folder's files travel once through Ray's object store, so workers on other machines
need no access to Noria's stores; input and output paths must be reachable by every worker (a
shared file system; trivially so on a local Ray). Ray is imported here only, on first use. An
already initialised Ray (``ray.init(...)`` by the caller) is used as is; otherwise one is started
from ``RAY_ADDRESS`` (or locally) and shut down at the end.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from noria.errors import BackendError, Unsupported, error_class_for
from noria.serving.batch_files import ScoringTask

if TYPE_CHECKING:
    from noria.serving.batch import FileScore, OnFile, OnRows, ScoringOptions

RAY_HINT = "pip install 'noria[ray]'"


def score_on_ray(
    directory: Path,
    tasks: Sequence[ScoringTask],
    options: ScoringOptions,
    *,
    on_rows: OnRows | None = None,
    on_file: OnFile | None = None,
) -> list[FileScore]:
    """Score each task as a Ray task; results in completion order. The first failure cancels
    the tasks still running and is raised as the Noria error the worker met."""
    ray = _import_ray()
    started_here = not ray.is_initialized()
    if started_here:
        # Ray's own start-up lines would break the CLI's promise of quiet output.
        ray.init(include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR)
    try:
        return _run(ray, directory, tasks, options, on_rows=on_rows, on_file=on_file)
    finally:
        if started_here:
            ray.shutdown()


def _run(
    ray: Any,
    directory: Path,
    tasks: Sequence[ScoringTask],
    options: ScoringOptions,
    *,
    on_rows: OnRows | None,
    on_file: OnFile | None,
) -> list[FileScore]:
    from noria.serving.batch import score_in_worker

    model_files = ray.put(_folder_files(directory))
    remote = ray.remote(num_cpus=1, max_retries=0)(score_in_worker)
    pending = {remote.remote(model_files, task, options): task for task in tasks}
    results: list[FileScore] = []
    try:
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            for ref in done:
                task = pending.pop(ref)
                outcome = _outcome(ray, ref, task)
                results.append(outcome)
                if on_rows is not None:
                    on_rows(outcome.rows)
                if on_file is not None:
                    on_file(outcome)
    finally:
        for ref in pending:
            ray.cancel(ref, force=True)
    return results


def _outcome(ray: Any, ref: Any, task: ScoringTask) -> FileScore:
    try:
        outcome = ray.get(ref)
    except ray.exceptions.RayError as exc:
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise BackendError(f"The Ray task scoring {task.input} failed: {detail}") from None
    if isinstance(outcome, tuple):
        code, message = outcome
        raise error_class_for(code)(message)
    result: FileScore = outcome
    return result


def _folder_files(directory: Path) -> dict[str, bytes]:
    """Every file of the model folder by its relative path (model folders are small)."""
    return {
        path.relative_to(directory).as_posix(): path.read_bytes()
        for path in sorted(directory.rglob("*"))
        if path.is_file()
    }


def _import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise Unsupported(
            f"--executor ray needs Ray, which is not installed: {RAY_HINT}."
        ) from None
    return ray

"""``ActiveRun``: the handle a training script logs through."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from noria.domain.datasets import DatasetVersion
from noria.domain.entities import EntityKind, EntityRef
from noria.domain.tracking import (
    MAX_PARAM_VALUE_LENGTH,
    MAX_TAG_VALUE_LENGTH,
    Metric,
    Param,
    Run,
    RunInput,
    RunStatus,
    RunTag,
    check_key,
    check_metric_value,
    check_step,
    check_value,
)
from noria.errors import InvalidArgument, Unsupported

if TYPE_CHECKING:
    from noria.tracking.tracker import Tracker


def now_ms() -> int:
    return time.time_ns() // 1_000_000


class ActiveRun:
    """A run being logged to. Use it as a context manager, or call :meth:`end`.

    An exception escaping the ``with`` block ends the run FAILED, Ctrl-C ends it KILLED.
    """

    def __init__(self, tracker: Tracker, run: Run) -> None:
        self._tracker = tracker
        self._run = run
        self._ended = False
        self._on_end: Callable[[ActiveRun], None] | None = None

    @property
    def id(self) -> str:
        return self._run.info.id

    @property
    def experiment_id(self) -> str:
        return self._run.info.experiment_id

    @property
    def uri(self) -> str:
        return f"runs:/{self.id}"

    def when_ended(self, callback: Callable[[ActiveRun], None]) -> None:
        """Call ``callback(run)`` once the run has ended (the fluent API restores its
        previous active run this way)."""
        self._on_end = callback

    def fetch(self) -> Run:
        """The run as stored now, after writing any metrics still waiting."""
        return self._tracker.get_run(self.id)

    def log_param(self, key: str, value: Any) -> None:
        self.log_params({key: value})

    def log_params(self, params: Mapping[str, Any]) -> None:
        """Params are immutable: logging a key again with another value raises ``Conflict``."""
        items = [
            Param(check_key(k, "param"), check_value(v, "param", k, MAX_PARAM_VALUE_LENGTH))
            for k, v in params.items()
        ]
        self._tracker.log_params(self.id, items)

    def log_metric(
        self, key: str, value: float, *, step: int = 0, timestamp: int | None = None
    ) -> None:
        """Queue one point; returns at once, the background writer stores it."""
        point = Metric(
            check_key(key, "metric"),
            check_metric_value(key, value),
            now_ms() if timestamp is None else timestamp,
            check_step(step),
        )
        self._tracker.writer.add(self.id, (point,))

    def log_metrics(
        self, metrics: Mapping[str, float], *, step: int = 0, timestamp: int | None = None
    ) -> None:
        stamp = now_ms() if timestamp is None else timestamp
        checked_step = check_step(step)
        points = [
            Metric(check_key(k, "metric"), check_metric_value(k, v), stamp, checked_step)
            for k, v in metrics.items()
        ]
        self._tracker.writer.add(self.id, points)

    def set_tag(self, key: str, value: Any) -> None:
        self.set_tags({key: value})

    def set_tags(self, tags: Mapping[str, Any]) -> None:
        items = [
            RunTag(check_key(k, "tag"), check_value(v, "tag", k, MAX_TAG_VALUE_LENGTH))
            for k, v in tags.items()
        ]
        self._tracker.set_tags(self.id, items)

    def log_artifact(self, path: str | Path, artifact_path: str = "") -> None:
        """Store a file or a whole directory under ``artifact_path`` in the run."""
        self._tracker.log_artifact(self.id, Path(path), artifact_path)

    def log_artifacts(self, directory: str | Path, artifact_path: str = "") -> None:
        """Store the files inside ``directory`` (not the folder itself) under ``artifact_path``."""
        self._tracker.log_directory_contents(self.id, Path(directory), artifact_path)

    def log_text(self, text: str, artifact_file: str) -> None:
        self._tracker.log_bytes(self.id, text.encode(), artifact_file, "text/plain")

    def log_dict(self, data: Mapping[str, Any], artifact_file: str) -> None:
        """JSON (``.json``), or YAML (``.yaml``/``.yml``) when PyYAML is installed."""
        if artifact_file.endswith((".yaml", ".yml")):
            try:
                import yaml
            except ImportError:
                raise Unsupported("log_dict to YAML needs PyYAML: pip install pyyaml.") from None
            body = yaml.safe_dump(dict(data), sort_keys=False).encode()
            media_type = "application/yaml"
        else:
            body = json.dumps(data, indent=2, sort_keys=True, default=str).encode()
            media_type = "application/json"
        self._tracker.log_bytes(self.id, body, artifact_file, media_type)

    def log_figure(self, figure: Any, artifact_file: str) -> None:
        """A matplotlib figure (anything with ``savefig``), saved in the file's format."""
        save = getattr(figure, "savefig", None)
        if save is None:
            raise InvalidArgument(
                f"log_figure needs a matplotlib Figure (an object with savefig), "
                f"got {type(figure).__name__}."
            )
        suffix = Path(artifact_file).suffix.lstrip(".") or "png"
        buffer = io.BytesIO()
        save(buffer, format=suffix)
        self._tracker.log_bytes(self.id, buffer.getvalue(), artifact_file, f"image/{suffix}")

    def log_input(
        self, dataset: DatasetVersion | EntityRef | RunInput | str, *, context: str = ""
    ) -> None:
        """Record that this run read a dataset version (and the lineage edge for it)."""
        self._tracker.log_input(self.id, dataset, context=context)

    def end(self, status: RunStatus | str = RunStatus.FINISHED) -> None:
        """Write every waiting metric point and mark the run ended, in one write. Idempotent.

        If points were lost, the run ends FAILED and the loss is raised."""
        if self._ended:
            return
        final = RunStatus(status)
        self._ended = True
        try:
            self._tracker.end_run(self.id, final)
        finally:
            if self._on_end is not None:
                self._on_end(self)

    def entity(self) -> EntityRef:
        return EntityRef(EntityKind.RUN, self.id)

    def __enter__(self) -> ActiveRun:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.end(RunStatus.FINISHED)
        elif issubclass(exc_type, KeyboardInterrupt):
            self.end(RunStatus.KILLED)
        else:
            self.end(RunStatus.FAILED)

    def __repr__(self) -> str:
        return f"ActiveRun(id={self.id!r}, experiment_id={self.experiment_id!r})"

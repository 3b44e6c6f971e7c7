"""What a tuning run hands back: every trial, the best one's parameters, value and model."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from noria.domain.pipelines import OutputRef, PipelineRun, PipelineStatus
from noria.errors import NoriaError, NotFound

if TYPE_CHECKING:
    from noria.client import Client


@dataclass(frozen=True)
class TrialRecord:
    """One trial: ``state`` is ``COMPLETE``, ``PRUNED`` or ``FAIL`` (Optuna's names)."""

    number: int
    state: str
    params: Mapping[str, Any]
    value: float | None
    step_run_id: str
    tracking_run_id: str | None = None
    error: str | None = None
    model: OutputRef | None = None  # the model the objective returned, if it returned one


class TuningResult:
    """A finished tuning run. ``best_params``, ``best_value`` and ``best_model`` are the best
    complete trial's; ``study`` is the Optuna study (for its plots and analyses)."""

    def __init__(
        self,
        client: Client,
        run: PipelineRun,
        trials: list[TrialRecord],
        *,
        metric: str,
        best: int | None,
        study: Any,
    ) -> None:
        self._client = client
        self.run = run
        self.trials = trials
        self.metric = metric
        self.study = study
        self._best = best

    @property
    def id(self) -> str:
        """The tuning run's id: ``noria pipelines show <id>`` lists its trials."""
        return self.run.id

    @property
    def tracking_run_id(self) -> str | None:
        return self.run.tracking_run_id

    @property
    def succeeded(self) -> bool:
        return self.run.status is PipelineStatus.SUCCEEDED

    @property
    def best_trial(self) -> TrialRecord:
        if self._best is None:
            raise NotFound(
                f"Tuning run {self.id} has no complete trial, so no best one: "
                f"{self.run.error}. See `noria pipelines show {self.id}`."
            )
        return self.trials[self._best]

    @property
    def best_params(self) -> dict[str, Any]:
        return dict(self.best_trial.params)

    @property
    def best_value(self) -> float:
        value = self.best_trial.value
        if value is None:  # a complete trial always has one
            raise NotFound(f"The best trial of tuning run {self.id} has no value.")
        return value

    @property
    def model_uri(self) -> str | None:
        """``runs:/<tuning run>/model`` when the best trial returned a model (register it
        with ``noria.register_model``), else None."""
        if self.best_trial.model is None or self.tracking_run_id is None:
            return None
        return f"runs:/{self.tracking_run_id}/model"

    @property
    def best_model(self) -> Any:
        """The best trial's model, loaded from the artifact store; None if it returned none."""
        ref = self.best_trial.model
        if ref is None:
            return None
        from noria.pipelines.values import load_value
        from noria.pipelines.worker import decode_context

        return load_value(ref, self._client.artifacts, decode_context(self._client))

    def __repr__(self) -> str:
        best = f", best trial {self._best}" if self._best is not None else ""
        return f"TuningResult({self.run.pipeline!r}, id={self.id!r}, {self.run.status.value}{best})"


class TuningFailed(NoriaError):
    """No trial of a tuning run completed; ``result`` holds every trial's record."""

    error_code = "TUNING_FAILED"
    http_status = 500

    def __init__(self, result: TuningResult) -> None:
        super().__init__(
            f"Tuning run {result.run.pipeline!r} ({result.id}) failed: {result.run.error}. "
            f"See `noria pipelines show {result.id}`."
        )
        self.result = result

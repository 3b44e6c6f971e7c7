"""How a trial ended, read from its outcome: its score, its model, or why it failed.

The objective returns the score (a number, or a dict holding the tuned metric), a model
(having logged the metric itself), or ``(score, model)``. Only the score's small JSON
output is loaded here; a model stays a reference in the artifact store.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from noria.domain.pipelines import OutputRef, StepOutcome
from noria.domain.tracking import check_key
from noria.errors import InvalidArgument
from noria.pipelines.trials import PRUNED_ERROR
from noria.pipelines.tuning_records import reported_values
from noria.pipelines.values import load_value
from noria.pipelines.worker import decode_context

if TYPE_CHECKING:
    from noria.client import Client


@dataclass(frozen=True)
class Verdict:
    """``state`` in Optuna's words: ``COMPLETE``, ``PRUNED`` or ``FAIL``."""

    state: str
    value: float | None = None
    metrics: Mapping[str, float] = field(default_factory=dict)  # to log at the trial's end
    reported: Mapping[int, float] = field(default_factory=dict)  # the metric, by step
    model: OutputRef | None = None
    error: str | None = None

    @classmethod
    def failed(cls, error: str, reported: Mapping[int, float] | None = None) -> Verdict:
        return cls("FAIL", reported=dict(reported or {}), error=error)


def judge(client: Client, outcome: StepOutcome, *, metric: str) -> Verdict:
    reported: dict[int, float] = {}
    if outcome.tracking_run_id is not None:
        reported = reported_values(client, outcome.tracking_run_id, metric)
    if not outcome.ok:
        error = outcome.error or "failed"
        if error.startswith(PRUNED_ERROR):
            return Verdict("PRUNED", reported=reported, error=error)
        trace = f"\n{outcome.traceback.rstrip()}" if outcome.traceback else ""
        return Verdict.failed(error + trace, reported)
    try:
        value, metrics, model = _score(client, outcome, metric, reported)
    except InvalidArgument as exc:
        return Verdict.failed(exc.message, reported)
    return Verdict("COMPLETE", value, metrics, reported, model)


def _score(
    client: Client, outcome: StepOutcome, metric: str, reported: Mapping[int, float]
) -> tuple[float, dict[str, float], OutputRef | None]:
    """The trial's value, the metrics to log for it, and its model's reference."""
    first, *rest = outcome.outputs
    if first.serializer == "json":
        returned = load_value(first, client.artifacts, decode_context(client))
        value, metrics = _from_returned(returned, metric)
        return value, metrics, rest[0] if rest else None
    if rest:
        raise InvalidArgument(
            f"The objective's first output is a {first.python_type}: with two outputs, return "
            f"(score, model), the score a number or a dict holding {metric!r}."
        )
    if not reported:
        raise InvalidArgument(
            f"The objective returned a {first.python_type} and logged no {metric!r}: return the "
            f"score, or (score, model), or call noria.log_metric({metric!r}, …) in it."
        )
    value = reported[max(reported)]
    _check_finite(value, metric)
    return value, {}, first if first.serializer == "model" else None


def _from_returned(returned: Any, metric: str) -> tuple[float, dict[str, float]]:
    if isinstance(returned, int | float) and not isinstance(returned, bool):
        value = float(returned)
        _check_finite(value, metric)
        return value, {metric: value}
    if isinstance(returned, dict):
        score = returned.get(metric)
        if not isinstance(score, int | float) or isinstance(score, bool):
            raise InvalidArgument(
                f"The objective returned a dict without a number under {metric!r} (its keys: "
                f"{', '.join(map(repr, returned)) or 'none'})."
            )
        metrics = {
            str(key): float(item)
            for key, item in returned.items()
            if isinstance(item, int | float) and not isinstance(item, bool) and _is_key(key)
        }
        _check_finite(metrics[metric], metric)
        return metrics[metric], metrics
    raise InvalidArgument(
        f"The objective returned a {type(returned).__name__}: return a number, a dict holding "
        f"{metric!r}, a model, or (score, model)."
    )


def _is_key(key: Any) -> bool:
    try:
        check_key(str(key), "metric")
    except InvalidArgument:
        return False
    return True


def _check_finite(value: float, metric: str) -> None:
    if not math.isfinite(value):
        raise InvalidArgument(
            f"The objective's {metric!r} is {value}: a trial needs a finite score."
        )

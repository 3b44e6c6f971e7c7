"""The challenger's record in the prediction log, since it became challenger.

The log is kept per registered model; a deployment's rows carry its name and the ``role`` of
the route that answered. The challenger's rows are those of its route's role and version;
the primary's are the primary rows. A shadow sees the live request (same request id), so its
answers pair with the primary's row by row; a canary takes requests away from the primary,
so only the answer distributions compare, and each side's metric is computed on its own
labelled rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from noria.artifacts import ArtifactStore
from noria.deployments.comparison import (
    Comparison,
    PredictionTask,
    VersionComparison,
    compare_predictions,
)
from noria.domain.deployments import Route, RouteRole
from noria.domain.monitors import Task
from noria.evaluation.metrics import PROBABILITY_METRICS
from noria.monitoring.performance import PREFIX, performance_figures
from noria.predictions.feedback import read_feedback
from noria.predictions.join import join_feedback
from noria.predictions.log import read_predictions
from noria.predictions.tables import concat_segments
from noria.promotion.decision import DisagreementKind, Evidence

if TYPE_CHECKING:
    import pyarrow as pa


@dataclass(frozen=True, slots=True)
class Contenders:
    """Who is compared: the deployment, its primary's and its challenger's routes and
    versions, and the time window (ms) to read."""

    deployment: str
    primary: Route
    primary_version: int
    challenger: Route
    challenger_version: int
    start_ms: int
    end_ms: int


def gather_evidence(
    artifacts: ArtifactStore, contenders: Contenders, *, metric: str | None
) -> Evidence:
    """Rows, pairing, disagreement and (with ``metric``) performance of the challenger."""
    table = _deployment_rows(artifacts, contenders)
    mode = contenders.challenger.role
    comparison = compare_predictions(table)
    compared = _challenger_comparison(comparison, contenders)
    if compared is None:
        return Evidence(mode=mode, rows=0)
    scores = comparison.task is PredictionTask.REGRESSION
    disagreement, kind = _disagreement(compared, mode, scores=scores)
    labelled, primary, challenger = 0, None, None
    notes: tuple[str, ...] = ()
    if metric is not None:
        task: Task = "regression" if scores else "classification"
        labels = read_feedback(artifacts, start=contenders.start_ms)
        labelled, primary, challenger, notes = _performance(
            join_feedback(table, labels, how="inner"), contenders, metric, task
        )
    return Evidence(
        mode=mode,
        rows=compared.rows,
        paired=compared.paired,
        disagreement=disagreement,
        disagreement_kind=kind,
        labelled=labelled,
        metric_primary=primary,
        metric_challenger=challenger,
        notes=notes,
    )


def _deployment_rows(artifacts: ArtifactStore, contenders: Contenders) -> pa.Table:
    """The primary's rows and the challenger route's rows of this deployment, in the window."""
    import pyarrow as pa
    import pyarrow.compute as pc

    models = sorted({contenders.primary.model_name, contenders.challenger.model_name})
    tables = [
        read_predictions(artifacts, model=model, start=contenders.start_ms, end=contenders.end_ms)
        for model in models
    ]
    table = concat_segments(tables, tables[0].schema) if len(tables) > 1 else tables[0]
    if table.num_rows == 0 or "role" not in table.column_names:
        return table.slice(0, 0)
    ours = pc.fill_null(pc.equal(table["deployment"], contenders.deployment), False)
    table = table.filter(ours)
    keep = [
        _is_contender(model, version, role, contenders)
        for model, version, role in zip(
            table["model"].to_pylist(),
            table["version"].to_pylist(),
            table["role"].to_pylist(),
            strict=True,
        )
    ]
    return table.filter(pa.array(keep, pa.bool_()))


def _is_contender(model: str, version: int | None, role: str | None, c: Contenders) -> bool:
    if role == RouteRole.PRIMARY.value:
        return True
    return (
        role == c.challenger.role.value
        and model == c.challenger.model_name
        and version == c.challenger_version
    )


def _challenger_comparison(
    comparison: Comparison, contenders: Contenders
) -> VersionComparison | None:
    for candidate in comparison.candidates:
        if (candidate.model, candidate.version) == (
            contenders.challenger.model_name,
            contenders.challenger_version,
        ):
            return candidate
    return None


def _disagreement(
    compared: VersionComparison, mode: RouteRole, *, scores: bool
) -> tuple[float | None, DisagreementKind]:
    if compared.agreement is not None:
        return 1.0 - compared.agreement, "labels"
    if compared.mean_abs_difference is not None:
        return compared.mean_abs_difference, "scores"
    if mode is RouteRole.CANARY:  # no request reached both: compare the answer mixes
        return compared.distribution_difference, "mean score" if scores else "label mix"
    return None, "scores" if scores else "labels"


def _performance(
    labelled: pa.Table, contenders: Contenders, metric: str, task: Task
) -> tuple[int, float | None, float | None, tuple[str, ...]]:
    """(labelled rows, primary's metric, challenger's metric, notes)."""
    roles = labelled["role"].to_pylist()
    primary_rows = [i for i, role in enumerate(roles) if role == RouteRole.PRIMARY.value]
    challenger_rows = [i for i, role in enumerate(roles) if role != RouteRole.PRIMARY.value]
    if contenders.challenger.role is RouteRole.SHADOW:
        primary_rows, challenger_rows = _paired(labelled, primary_rows, challenger_rows)
    notes: list[str] = []
    primary = _metric(labelled.take(primary_rows), metric, task, "primary", notes)
    challenger = _metric(labelled.take(challenger_rows), metric, task, "challenger", notes)
    return len(challenger_rows), primary, challenger, tuple(notes)


def _paired(
    table: pa.Table, primary: list[int], challenger: list[int]
) -> tuple[list[int], list[int]]:
    """The rows both answered (same request id and row), in the same order on both sides."""
    keys = list(zip(table["request_id"].to_pylist(), table["row"].to_pylist(), strict=True))
    live = {keys[i]: i for i in primary}
    pairs = [(live[keys[i]], i) for i in challenger if keys[i] in live]
    return [p for p, _ in pairs], [c for _, c in pairs]


def _metric(rows: pa.Table, metric: str, task: Task, side: str, notes: list[str]) -> float | None:
    if rows.num_rows == 0:
        return None
    figures, problems = performance_figures(rows, task)
    notes.extend(f"{side}: {problem}" for problem in _unique(problems))
    value = figures.get(PREFIX + metric)
    if value is None and metric in PROBABILITY_METRICS and "proba" not in rows.column_names:
        # No number of labels will change this: say so rather than only "waiting".
        notes.append(
            f"{side}: {metric} needs class probabilities and the logged answers have none: "
            "serve the deployment with `noria serve --proba`, or choose a metric on labels, "
            "e.g. `noria deploy policy <deployment> --metric f1`"
        )
    elif value is None and not problems:
        notes.append(f"{side}: {metric} is not defined on these rows (e.g. one class only)")
    return value


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))

"""How the shadow and canary versions answer compared with the live (primary) version.

Input: prediction-log rows (:func:`noria.predictions.log.read_predictions` gives them)
with these columns:

``request_id``   the request the row belongs to (shadows log the live request's id)
``row``          optional: the row's index within the request (0 when absent)
``model``        optional: the model's name (without it, ``roles`` match on version alone)
``version``      the registered version that answered
``prediction``   the answer: a label (text, integer, boolean) or a score (floating point)
``role``         optional: ``primary``, ``canary`` or ``shadow``. Without it, pass ``roles``:
                 which role each ``(model, version)`` played (rows of other versions are
                 left out)

For each non-primary version: how many rows it answered; how many of them the primary also
answered (``paired``, joined on request id and row: shadows); on those, the share of equal
labels (``agreement``, classification) or the mean absolute score difference (regression);
and a difference of the whole answer distributions, which also works for canaries, whose
requests the primary never sees: the total variation distance of the label shares
(0 = same mix, 1 = disjoint) or the absolute difference of the mean scores.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from noria.domain.deployments import RouteRole
from noria.errors import InvalidArgument

if TYPE_CHECKING:
    import pyarrow as pa

REQUIRED_COLUMNS = ("request_id", "version", "prediction")
VersionKey = tuple[str, int]  # (model name, version)


class PredictionTask(StrEnum):
    CLASSIFICATION = "classification"  # labels: compared for equality
    REGRESSION = "regression"  # scores: compared by absolute difference
    EMPTY = "empty"  # no answers to compare


@dataclass(frozen=True, slots=True)
class VersionComparison:
    model: str
    version: int
    role: RouteRole
    rows: int
    paired: int
    agreement: float | None  # classification, over paired rows
    mean_abs_difference: float | None  # regression, over paired rows
    distribution_difference: float | None  # label TV distance, or |mean score difference|


@dataclass(frozen=True, slots=True)
class Comparison:
    task: PredictionTask
    live_rows: int
    live_versions: tuple[str, ...]  # "name/version" of the primary rows, e.g. ("credit/3",)
    candidates: tuple[VersionComparison, ...]


@dataclass(frozen=True, slots=True)
class _Row:
    key: tuple[str, int]  # (request id, row index)
    model: str
    version: int
    role: RouteRole
    prediction: Any


@dataclass(frozen=True, slots=True)
class _Live:
    """The primary's answers: by (request id, row) for pairing, and all of them."""

    answers: dict[tuple[str, int], Any]
    values: list[Any]
    task: PredictionTask


def compare_predictions(
    table: pa.Table, *, roles: Mapping[VersionKey, RouteRole] | None = None
) -> Comparison:
    """Compare each shadow and canary version with the primary, from prediction-log rows."""
    rows = _rows(table, roles)
    live_rows = [row for row in rows if row.role is RouteRole.PRIMARY]
    live = _Live({}, [row.prediction for row in live_rows], _task([r.prediction for r in rows]))
    for row in live_rows:
        live.answers.setdefault(row.key, row.prediction)
    groups: dict[tuple[str, int, RouteRole], list[_Row]] = {}
    for row in rows:
        if row.role is not RouteRole.PRIMARY:
            groups.setdefault((row.model, row.version, row.role), []).append(row)
    ordered = sorted(groups.items(), key=lambda item: (item[0][2].value, *item[0][:2]))
    versions = sorted({(row.model, row.version) for row in live_rows})
    return Comparison(
        task=live.task,
        live_rows=len(live_rows),
        live_versions=tuple(
            f"{model}/{version}" if model else str(version) for model, version in versions
        ),
        candidates=tuple(_compare(group, live) for _, group in ordered),
    )


def _compare(group: list[_Row], live: _Live) -> VersionComparison:
    """``group``: one version's rows in one role."""
    pairs = [(live.answers[row.key], row.prediction) for row in group if row.key in live.answers]
    agreement = mean_abs = None
    if pairs and live.task is PredictionTask.CLASSIFICATION:
        agreement = sum(1 for ours, theirs in pairs if _label(ours) == _label(theirs)) / len(pairs)
    if pairs and live.task is PredictionTask.REGRESSION:
        mean_abs = math.fsum(abs(float(ours) - float(theirs)) for ours, theirs in pairs) / len(
            pairs
        )
    first = group[0]
    return VersionComparison(
        model=first.model,
        version=first.version,
        role=first.role,
        rows=len(group),
        paired=len(pairs),
        agreement=agreement,
        mean_abs_difference=mean_abs,
        distribution_difference=_distribution_difference(
            live.values, [row.prediction for row in group], live.task
        ),
    )


def _distribution_difference(
    live: list[Any], other: list[Any], task: PredictionTask
) -> float | None:
    if not live or not other:
        return None
    if task is PredictionTask.REGRESSION:
        return abs(
            math.fsum(map(float, live)) / len(live) - math.fsum(map(float, other)) / len(other)
        )
    live_shares = _shares(live)
    other_shares = _shares(other)
    labels = live_shares.keys() | other_shares.keys()
    return 0.5 * sum(abs(live_shares.get(k, 0.0) - other_shares.get(k, 0.0)) for k in labels)


def _shares(values: list[Any]) -> dict[Hashable, float]:
    counts = Counter(_label(value) for value in values)
    return {label: count / len(values) for label, count in counts.items()}


def _label(value: Any) -> Hashable:
    """A hashable form of an answer; list answers (multi-output) compare element-wise."""
    if isinstance(value, list):
        return tuple(_label(item) for item in value)
    if isinstance(value, dict):
        return tuple(sorted((str(k), _label(v)) for k, v in value.items()))
    return value  # type: ignore[no-any-return]


def _task(predictions: list[Any]) -> PredictionTask:
    """Floating-point answers are scores; anything else (text, integers, booleans) labels."""
    if not predictions:
        return PredictionTask.EMPTY
    numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in predictions)
    if numbers and any(isinstance(value, float) for value in predictions):
        return PredictionTask.REGRESSION
    return PredictionTask.CLASSIFICATION


def _rows(table: pa.Table, roles: Mapping[VersionKey, RouteRole] | None) -> list[_Row]:
    if table.num_rows == 0:
        return []  # an empty log may not have written its answer columns yet
    names = set(table.column_names)
    missing = [name for name in REQUIRED_COLUMNS if name not in names]
    if missing:
        raise InvalidArgument(
            f"The predictions lack column(s) {', '.join(missing)}; expected request_id, "
            "version, prediction and role (or a roles mapping) as the prediction log writes them."
        )
    if "role" not in names and roles is None:
        raise InvalidArgument(
            "The predictions have no 'role' column: pass roles={(model, version): role} "
            "saying which version was primary, canary or shadow."
        )
    if roles is not None and "model" not in names:  # versions alone say who answered
        roles = {("", version): role for (_, version), role in roles.items()}
    count = table.num_rows
    columns = {
        name: table.column(name).to_pylist()
        for name in names & {*REQUIRED_COLUMNS, "row", "model", "role"}
    }
    row_index = columns.get("row", [0] * count)
    models = columns.get("model", [""] * count)
    stated = columns.get("role")
    rows = []
    for i in range(count):
        request_id, version, prediction = (columns[name][i] for name in REQUIRED_COLUMNS)
        if request_id is None or version is None or _missing(prediction):
            continue  # a failed or unversioned answer has nothing to compare
        model = models[i] or ""
        role = _row_role(stated[i] if stated is not None else None, (model, int(version)), roles)
        if role is not None:
            key = (str(request_id), int(row_index[i] or 0))
            rows.append(_Row(key, model, int(version), role, prediction))
    return rows


def _row_role(
    stated: str | None, key: VersionKey, roles: Mapping[VersionKey, RouteRole] | None
) -> RouteRole | None:
    if stated is not None:
        try:
            return RouteRole(stated)
        except ValueError:
            known = ", ".join(role.value for role in RouteRole)
            raise InvalidArgument(
                f"Prediction row of {key[0]}/{key[1]} has role {stated!r}; expected {known}."
            ) from None
    return None if roles is None else roles.get(key)


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))

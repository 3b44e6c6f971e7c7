"""Live versus shadow and canary answers, from prediction-log rows."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pytest

from noria.deployments import compare_predictions
from noria.deployments.comparison import PredictionTask
from noria.domain.deployments import RouteRole
from noria.errors import InvalidArgument


def log(rows: list[tuple[str, int, str, Any]], *, model: str = "credit") -> pa.Table:
    """Rows of (request id, version, role, prediction), one predicted row per request."""
    return pa.table(
        {
            "request_id": [r[0] for r in rows],
            "row": [0] * len(rows),
            "model": [model] * len(rows),
            "version": [r[1] for r in rows],
            "role": [r[2] for r in rows],
            "prediction": [r[3] for r in rows],
        }
    )


def test_classification_agreement_with_a_shadow_and_a_canary_mix() -> None:
    rows = [(f"r{i}", 3, "primary", i % 2) for i in range(10)]
    # The shadow answers the same ten requests, disagreeing on two.
    rows += [(f"r{i}", 4, "shadow", (i % 2) ^ (i in (0, 5))) for i in range(10)]
    # The canary answers its own requests, all with label 1.
    rows += [(f"c{i}", 5, "canary", 1) for i in range(4)]
    result = compare_predictions(log(rows))
    assert result.task is PredictionTask.CLASSIFICATION
    assert (result.live_rows, result.live_versions) == (10, ("credit/3",))
    canary, shadow = result.candidates
    assert (shadow.role, shadow.version, shadow.rows, shadow.paired) == (
        RouteRole.SHADOW,
        4,
        10,
        10,
    )
    assert shadow.agreement == pytest.approx(0.8)
    assert shadow.mean_abs_difference is None
    assert shadow.distribution_difference == pytest.approx(0.0)  # same 50/50 label mix
    assert (canary.role, canary.rows, canary.paired, canary.agreement) == (
        RouteRole.CANARY,
        4,
        0,
        None,
    )
    assert canary.distribution_difference == pytest.approx(0.5)  # all 1s against 50/50


def test_regression_scores_are_compared_by_absolute_difference() -> None:
    rows = [("a", 1, "primary", 0.2), ("b", 1, "primary", 0.4)]
    rows += [("a", 2, "shadow", 0.3), ("b", 2, "shadow", 0.1), ("x", 2, "shadow", 0.9)]
    result = compare_predictions(log(rows))
    assert result.task is PredictionTask.REGRESSION
    (shadow,) = result.candidates
    assert (shadow.rows, shadow.paired) == (3, 2)
    assert shadow.mean_abs_difference == pytest.approx((0.1 + 0.3) / 2)
    assert shadow.agreement is None
    assert shadow.distribution_difference == pytest.approx(abs(0.3 - (0.3 + 0.1 + 0.9) / 3))


def test_roles_come_from_a_mapping_when_the_log_has_no_role_column() -> None:
    table = log([("a", 1, "primary", "yes"), ("a", 2, "shadow", "no"), ("a", 9, "x", "no")])
    table = table.drop_columns(["role"])
    roles = {("credit", 1): RouteRole.PRIMARY, ("credit", 2): RouteRole.SHADOW}
    result = compare_predictions(table, roles=roles)
    (shadow,) = result.candidates  # version 9 plays no role here and is left out
    assert (shadow.version, shadow.paired, shadow.agreement) == (2, 1, 0.0)
    with pytest.raises(InvalidArgument, match="no 'role' column: pass roles="):
        compare_predictions(table)


def test_failed_answers_are_skipped_and_empty_logs_compare_nothing() -> None:
    rows = [("a", 1, "primary", None), ("a", 2, "shadow", float("nan"))]
    result = compare_predictions(log(rows))
    assert (result.task, result.live_rows, result.candidates) == (PredictionTask.EMPTY, 0, ())


def test_missing_columns_and_unknown_roles_are_named() -> None:
    with pytest.raises(InvalidArgument, match="lack column\\(s\\) version, prediction"):
        compare_predictions(pa.table({"request_id": ["a"]}))
    with pytest.raises(InvalidArgument, match="has role 'backup'; expected primary"):
        compare_predictions(log([("a", 1, "backup", 1)]))

"""Every metric against scikit-learn's implementation, and ECE against a hand computation."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from sklearn import metrics as sk

from noria.errors import InvalidArgument
from noria.evaluation.metrics import (
    expected_calibration_error,
    metric_task,
    metric_values,
    point_metrics,
)
from noria.evaluation.predictions import classification_rows, regression_rows

TOLERANCE = 1e-12
Array = npt.NDArray[Any]


def _binary_case(seed: int = 0, rows: int = 600) -> tuple[Array, Array, Array]:
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, 2, rows)
    # Rounded scores make many ties, the case rank formulas get wrong most easily.
    score = np.round(np.clip(0.3 * truth + 0.7 * rng.random(rows), 0, 1), 2)
    return truth, score, (score > 0.5).astype(int)


def _multiclass_case(
    seed: int = 0, rows: int = 600, classes: int = 4
) -> tuple[Array, Array, Array]:
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, classes, rows)
    proba = rng.dirichlet(np.ones(classes), rows) + 0.8 * np.eye(classes)[truth]
    proba = np.round(proba / proba.sum(axis=1, keepdims=True), 2)
    proba /= proba.sum(axis=1, keepdims=True)
    return truth, proba, proba.argmax(axis=1)


def _sklearn_binary(
    truth: Array, score: Array, predicted: Array, weight: Array | None = None
) -> dict[str, float]:
    proba = np.column_stack([1 - score, score])
    return {
        "accuracy": sk.accuracy_score(truth, predicted, sample_weight=weight),
        "precision": sk.precision_score(truth, predicted, sample_weight=weight),
        "recall": sk.recall_score(truth, predicted, sample_weight=weight),
        "f1": sk.f1_score(truth, predicted, sample_weight=weight),
        "roc_auc": sk.roc_auc_score(truth, score, sample_weight=weight),
        "pr_auc": sk.average_precision_score(truth, score, sample_weight=weight),
        "log_loss": sk.log_loss(truth, y_proba=proba, sample_weight=weight),
    }


def test_binary_metrics_match_scikit_learn() -> None:
    truth, score, predicted = _binary_case()
    ours = point_metrics(classification_rows(truth, predicted, score, [0, 1]))
    for name, expected in _sklearn_binary(truth, score, predicted).items():
        assert ours[name] == pytest.approx(expected, abs=TOLERANCE), name


def test_binary_metrics_with_text_labels_use_the_second_class_as_positive() -> None:
    truth, score, predicted = _binary_case(seed=1)
    names = np.array(["no", "yes"])
    rows = classification_rows(names[truth], names[predicted], score, ["no", "yes"])
    ours = point_metrics(rows)
    assert ours["precision"] == pytest.approx(
        sk.precision_score(names[truth], names[predicted], pos_label="yes"), abs=TOLERANCE
    )
    assert ours["roc_auc"] == pytest.approx(sk.roc_auc_score(truth, score), abs=TOLERANCE)


def test_multiclass_metrics_match_scikit_learn_macro_averages() -> None:
    truth, proba, predicted = _multiclass_case()
    ours = point_metrics(classification_rows(truth, predicted, proba, [0, 1, 2, 3]))
    expected = {
        "accuracy": sk.accuracy_score(truth, predicted),
        "precision": sk.precision_score(truth, predicted, average="macro"),
        "recall": sk.recall_score(truth, predicted, average="macro"),
        "f1": sk.f1_score(truth, predicted, average="macro"),
        "roc_auc": sk.roc_auc_score(truth, proba, multi_class="ovr", average="macro"),
        "pr_auc": sk.average_precision_score(truth, proba, average="macro"),
        "log_loss": sk.log_loss(truth, y_proba=proba),
    }
    for name, value in expected.items():
        assert ours[name] == pytest.approx(value, abs=TOLERANCE), name


def test_macro_scores_follow_scikit_learn_when_a_class_is_never_predicted() -> None:
    truth = np.array([0, 0, 1, 1, 2, 2])
    predicted = np.array([0, 1, 1, 1, 0, 1])  # class 2 never predicted: its precision is 0
    ours = point_metrics(classification_rows(truth, predicted, None, [0, 1, 2]))
    for name, function in (
        ("precision", sk.precision_score),
        ("recall", sk.recall_score),
        ("f1", sk.f1_score),
    ):
        expected = function(truth, predicted, average="macro", zero_division=0)
        assert ours[name] == pytest.approx(expected, abs=TOLERANCE), name


def test_weighted_metrics_equal_scikit_learn_with_sample_weights() -> None:
    """A bootstrap resample is a row of counts: it must score like repeated rows."""
    truth, score, predicted = _binary_case(seed=2, rows=300)
    rows = classification_rows(truth, predicted, score, [0, 1])
    counts = np.random.default_rng(3).integers(0, 4, size=(2, rows.n)).astype(np.float64)
    for row in counts:
        expected = _sklearn_binary(truth, score, predicted, weight=row)
        for name, value in expected.items():
            ours = metric_values(rows, name, row.reshape(1, -1))[0]
            assert ours == pytest.approx(value, abs=TOLERANCE), name


def test_regression_metrics_match_scikit_learn() -> None:
    rng = np.random.default_rng(0)
    truth = rng.normal(150, 40, 500)
    predicted = truth + rng.normal(0, 20, 500)
    ours = point_metrics(regression_rows(truth, predicted))
    expected = {
        "rmse": sk.root_mean_squared_error(truth, predicted),
        "mae": sk.mean_absolute_error(truth, predicted),
        "r2": sk.r2_score(truth, predicted),
        "mape": sk.mean_absolute_percentage_error(truth, predicted),
    }
    for name, value in expected.items():
        assert ours[name] == pytest.approx(value, abs=TOLERANCE), name
    weight = rng.integers(0, 3, 500).astype(np.float64)
    weighted_r2 = metric_values(regression_rows(truth, predicted), "r2", weight.reshape(1, -1))
    assert weighted_r2[0] == pytest.approx(
        sk.r2_score(truth, predicted, sample_weight=weight), abs=TOLERANCE
    )


def test_mape_leaves_out_rows_whose_label_is_zero() -> None:
    truth = np.array([0.0, 2.0, 4.0, 0.0, 5.0])
    predicted = np.array([1.0, 1.0, 5.0, -3.0, 5.0])
    ours = point_metrics(regression_rows(truth, predicted))
    nonzero = truth != 0
    expected = sk.mean_absolute_percentage_error(truth[nonzero], predicted[nonzero])
    assert ours["mape"] == pytest.approx(expected, abs=TOLERANCE)
    assert "mape" not in point_metrics(regression_rows([0.0, 0.0], [1.0, 2.0]))


def test_binary_calibration_error_matches_a_hand_computation() -> None:
    score = np.array([0.05, 0.15, 0.12, 0.55, 0.58, 0.51, 0.95, 0.99, 1.0, 0.93])
    truth = np.array([0, 0, 1, 1, 0, 1, 1, 1, 1, 0])
    rows = classification_rows(truth, (score > 0.5).astype(int), score, [0, 1])
    # Bins: [0.0,0.1) {0.05: 0}, [0.1,0.2) {0.15: 0, 0.12: 1}, [0.5,0.6) {0.55: 1, 0.58: 0,
    # 0.51: 1}, [0.9,1.0] {0.95: 1, 0.99: 1, 1.0: 1, 0.93: 0} (1.0 falls in the last bin).
    by_hand = (
        1 / 10 * abs(0 - 0.05)
        + 2 / 10 * abs(1 / 2 - (0.15 + 0.12) / 2)
        + 3 / 10 * abs(2 / 3 - (0.55 + 0.58 + 0.51) / 3)
        + 4 / 10 * abs(3 / 4 - (0.95 + 0.99 + 1.0 + 0.93) / 4)
    )
    assert expected_calibration_error(rows, np.ones((1, 10)))[0] == pytest.approx(
        by_hand, abs=TOLERANCE
    )


def test_multiclass_calibration_error_uses_the_top_label() -> None:
    proba = np.array([[0.7, 0.2, 0.1], [0.25, 0.35, 0.4], [0.1, 0.85, 0.05], [0.3, 0.3, 0.4]])
    truth = np.array([0, 1, 1, 2])
    rows = classification_rows(truth, proba.argmax(axis=1), proba, [0, 1, 2])
    # Top confidences 0.7 (right), 0.4 (wrong), 0.85 (right), 0.4 (right).
    by_hand = 1 / 4 * abs(1 - 0.7) + 2 / 4 * abs(1 / 2 - 0.4) + 1 / 4 * abs(1 - 0.85)
    assert point_metrics(rows)["calibration_error"] == pytest.approx(by_hand, abs=TOLERANCE)


def test_undefined_metrics_are_left_out_not_reported_as_numbers() -> None:
    rows = classification_rows([1, 1, 1], [1, 0, 1], [0.9, 0.4, 0.8], [0, 1])
    reported = point_metrics(rows)
    assert "roc_auc" not in reported
    assert reported["accuracy"] == pytest.approx(2 / 3)


def test_metrics_refuse_the_wrong_task_and_missing_probabilities() -> None:
    rows = classification_rows([0, 1], [0, 1], None, [0, 1])
    ones = np.ones((1, 2))
    with pytest.raises(InvalidArgument, match="needs probabilities"):
        metric_values(rows, "roc_auc", ones)
    with pytest.raises(InvalidArgument, match="regression metric"):
        metric_values(rows, "rmse", ones)
    with pytest.raises(InvalidArgument, match="unknown metric 'auc'"):
        metric_task("auc")
    assert set(point_metrics(rows)) == {"accuracy", "precision", "recall", "f1"}

"""Encoding a predictor's answers: labels, probability columns and their mistakes."""

from __future__ import annotations

import numpy as np
import pytest

from noria.errors import InvalidArgument
from noria.evaluation.predictions import classification_rows, regression_rows


def test_labels_follow_the_model_classes_and_probability_columns() -> None:
    rows = classification_rows(["b", "a", "c"], ["b", "b", "c"], np.eye(3), ["c", "b", "a"])
    assert rows.labels == ("c", "b", "a")
    assert rows.y_true.tolist() == [1, 2, 0]
    assert rows.y_pred.tolist() == [1, 1, 0]


def test_without_classes_the_labels_seen_are_sorted() -> None:
    rows = classification_rows(np.array([3, 1]), np.array([2, 1]), None, None)
    assert rows.labels == (1, 2, 3)
    assert all(type(label) is int for label in rows.labels)  # numpy scalars made plain


def test_a_single_probability_column_is_the_positive_class() -> None:
    rows = classification_rows([0, 1], [0, 1], [0.2, 0.9], [0, 1])
    assert rows.proba is not None
    assert rows.proba.tolist() == [[0.8, 0.2], [pytest.approx(0.1), 0.9]]


def test_labels_the_model_does_not_know_are_named() -> None:
    with pytest.raises(InvalidArgument, match=r"label column holds labels .* 'x'"):
        classification_rows(["a", "x"], ["a", "a"], None, ["a", "b"])


def test_probability_shape_and_values_are_checked() -> None:
    with pytest.raises(InvalidArgument, match=r"predict_proba returned shape \(2, 3\)"):
        classification_rows([0, 1], [0, 1], np.ones((2, 3)), None)
    with pytest.raises(InvalidArgument, match="predict_proba holds 1 missing"):
        classification_rows([0, 1], [0, 1], [[0.5, 0.5], [np.nan, 1.0]], [0, 1])
    with pytest.raises(InvalidArgument, match="3 predictions for 2 rows"):
        classification_rows([0, 1], [0, 1, 1], None, None)


def test_regression_needs_finite_numbers() -> None:
    with pytest.raises(InvalidArgument, match="regression needs numbers"):
        regression_rows(["a", "b"], [1.0, 2.0])
    with pytest.raises(InvalidArgument, match="the predictions holds 1 missing"):
        regression_rows([1.0, 2.0], [1.0, np.inf])

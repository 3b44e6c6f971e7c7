"""Performance on labelled log rows: label kinds, probabilities, and what is left out."""

from __future__ import annotations

import pyarrow as pa
import pytest

from noria.monitoring.performance import performance_figures


def test_classification_with_positive_class_probabilities() -> None:
    rows = pa.table({
        "prediction": [1, 0, 1, 0],
        "label": [1, 0, 0, 0],
        "proba": [0.9, 0.2, 0.6, 0.1],
    })  # fmt: skip
    figures, notes = performance_figures(rows, "classification")
    assert figures["performance.accuracy"] == 0.75
    assert figures["performance.roc_auc"] == pytest.approx(1.0)
    assert notes == []


def test_text_labels_meet_numeric_predictions_as_text() -> None:
    rows = pa.table({"prediction": [1, 0, 1], "label": ["1", "0", "0"]})
    figures, _ = performance_figures(rows, "classification")
    assert figures["performance.accuracy"] == pytest.approx(2 / 3)
    assert "performance.roc_auc" not in figures  # no probabilities logged


def test_probabilities_that_do_not_fit_are_left_out_with_a_note() -> None:
    rows = pa.table({"prediction": [2, 0, 1], "label": [2, 0, 0], "proba": [0.9, 0.2, 0.6]})
    figures, notes = performance_figures(rows, "classification")
    assert "performance.accuracy" in figures and "performance.log_loss" not in figures
    assert notes == ["probability metrics left out: one proba per row, but 3 classes seen"]


def test_regression_and_what_cannot_be_computed() -> None:
    rows = pa.table({"prediction": [1.0, 2.0, 4.0], "label": [1.0, 2.0, 3.0]})
    figures, _ = performance_figures(rows, "regression")
    assert figures["performance.mae"] == pytest.approx(1 / 3)
    text = pa.table({"prediction": [1.0], "label": ["high"]})
    assert performance_figures(text, "regression")[0] == {}
    assert "regression needs numbers" in performance_figures(text, "regression")[1][0]
    assert performance_figures(rows.slice(0, 0), "regression") == ({}, [])

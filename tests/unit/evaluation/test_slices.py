"""Metrics per slice value."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from noria.evaluation.metrics import point_metrics
from noria.evaluation.predictions import classification_rows, regression_rows
from noria.evaluation.slices import slice_metrics


def test_each_value_gets_its_rows_metrics_and_a_small_flag() -> None:
    rng = np.random.default_rng(0)
    truth = rng.integers(0, 2, 100)
    score = np.clip(0.4 * truth + 0.6 * rng.random(100), 0, 1)
    rows = classification_rows(truth, (score > 0.5).astype(int), score, [0, 1])
    region = np.array(["north"] * 60 + ["south"] * 30 + ["east"] * 10, dtype=object)
    region[5] = None
    frame = pd.DataFrame({"region": region})
    slices, notes = slice_metrics(rows, frame, ["region"])
    assert notes == []
    assert [(s.value, s.rows, s.small) for s in slices] == [
        ("north", 59, False),
        ("south", 30, False),
        ("east", 10, True),
        (None, 1, True),
    ]
    subset = np.flatnonzero(region == "south")
    alone = classification_rows(
        truth[subset], (score[subset] > 0.5).astype(int), score[subset], [0, 1]
    )
    assert slices[1].metrics == pytest.approx(point_metrics(alone), abs=1e-12)
    assert "roc_auc" not in slices[3].metrics  # one row: undefined, left out


def test_many_valued_columns_keep_the_largest_slices_with_a_note() -> None:
    rows = regression_rows(np.arange(10.0), np.arange(10.0) + 1)
    frame = pd.DataFrame({"shop": [1, 1, 1, 2, 2, 3, 4, 5, 6, 7], "day": ["mon"] * 10})
    slices, notes = slice_metrics(rows, frame, ["shop", "day"], max_values=2)
    assert [(s.column, s.value, s.rows) for s in slices] == [
        ("shop", 1, 3),
        ("shop", 2, 2),
        ("day", "mon", 10),
    ]
    assert type(slices[0].value) is int
    assert notes == [
        "slice column 'shop' has 7 distinct values; only the 2 largest slices are reported"
    ]
    assert slices[2].metrics["mae"] == pytest.approx(1.0)

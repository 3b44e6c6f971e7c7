"""Resampling and the paired difference interval."""

from __future__ import annotations

import numpy as np
import pytest

from noria.errors import InvalidArgument
from noria.evaluation import bootstrap
from noria.evaluation.bootstrap import DifferenceInterval, paired_difference, resample_counts
from noria.evaluation.predictions import ClassificationRows, classification_rows


def _rows(seed: int, strength: float, rows: int = 400) -> ClassificationRows:
    rng = np.random.default_rng(100)
    truth = rng.integers(0, 2, rows)
    score = np.clip(
        strength * truth + (1 - strength) * np.random.default_rng(seed).random(rows), 0, 1
    )
    return classification_rows(truth, (score > 0.5).astype(int), score, [0, 1])


def test_each_resample_draws_n_rows_and_the_seed_fixes_the_draws() -> None:
    first = np.vstack(list(resample_counts(50, 30, random_state=7)))
    again = np.vstack(list(resample_counts(50, 30, random_state=7)))
    other = np.vstack(list(resample_counts(50, 30, random_state=8)))
    assert first.shape == (30, 50)
    assert (first.sum(axis=1) == 50).all()
    assert np.array_equal(first, again)
    assert not np.array_equal(first, other)


def test_resamples_come_in_blocks_when_the_table_is_large(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bootstrap, "_BLOCK_CELLS", 100)
    blocks = list(resample_counts(40, 7, random_state=0))
    assert [len(block) for block in blocks] == [2, 2, 2, 1]


def test_identical_models_differ_by_exactly_zero() -> None:
    rows = _rows(seed=1, strength=0.3)
    interval = paired_difference(
        rows, rows, "roc_auc", n_resamples=200, confidence=0.9, random_state=0
    )
    assert (interval.difference, interval.low, interval.high) == (0.0, 0.0, 0.0)


def test_the_interval_is_deterministic_and_brackets_a_real_difference() -> None:
    strong, weak = _rows(seed=1, strength=0.4), _rows(seed=2, strength=0.1)

    def interval(seed: int) -> DifferenceInterval:
        return paired_difference(
            strong, weak, "roc_auc", n_resamples=500, confidence=0.95, random_state=seed
        )

    first = interval(3)
    assert first == interval(3)
    assert first != interval(4)
    assert 0 < first.low < first.difference < first.high
    assert first.resamples == 500
    narrower = paired_difference(
        strong, weak, "roc_auc", n_resamples=500, confidence=0.5, random_state=3
    )
    assert first.low < narrower.low < narrower.high < first.high


def test_bad_settings_and_mismatched_rows_are_refused() -> None:
    rows = _rows(seed=1, strength=0.3)
    with pytest.raises(InvalidArgument, match="confidence must lie strictly between 0 and 1"):
        paired_difference(rows, rows, "accuracy", n_resamples=10, confidence=1.0, random_state=0)
    with pytest.raises(InvalidArgument, match="n_bootstrap must be at least 1"):
        paired_difference(rows, rows, "accuracy", n_resamples=0, confidence=0.9, random_state=0)
    with pytest.raises(InvalidArgument, match="400 rows and the champion on 300"):
        paired_difference(
            rows,
            _rows(1, 0.3, rows=300),
            "accuracy",
            n_resamples=10,
            confidence=0.9,
            random_state=0,
        )

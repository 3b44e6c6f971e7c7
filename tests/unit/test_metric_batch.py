"""MetricBatch: metric points as columns that still read as a sequence of Metric."""

from __future__ import annotations

import math

import pytest

from noria.domain.tracking import Metric, MetricBatch
from noria.errors import InvalidArgument


def test_a_batch_reads_as_the_points_it_holds() -> None:
    batch = MetricBatch(["a", "b", "a"], [0.5, math.inf, 2.0], [10, 11, 12], [0, 0, 1])
    assert len(batch) == 3
    assert batch[1] == Metric("b", math.inf, 11, 0)
    assert batch[-1] == Metric("a", 2.0, 12, 1)
    assert list(batch) == [batch[0], batch[1], batch[2]]
    tail = batch[1:]
    assert isinstance(tail, MetricBatch)
    assert (tail.keys, tail.values, tail.timestamps, tail.steps) == (
        ["b", "a"],
        [math.inf, 2.0],
        [11, 12],
        [0, 1],
    )
    assert repr(batch) == "MetricBatch(3 points)"


def test_columns_of_different_lengths_are_refused() -> None:
    with pytest.raises(InvalidArgument, match="got 2, 1, 1 and 1"):
        MetricBatch(["a", "b"], [1.0], [1], [0])

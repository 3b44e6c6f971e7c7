"""The packed binary body of remote metric logging: round trips and malformed bodies."""

from __future__ import annotations

import math
import struct

import numpy as np
import pytest

from noria.domain.tracking import MAX_STEP, MIN_STEP, Metric, MetricBatch
from noria.errors import InvalidArgument
from noria.wire.packed_metrics import MAGIC, pack, unpack


def test_points_round_trip_with_their_header() -> None:
    points = [
        Metric("loss", 0.25, 1_700_000_000_000, 0),
        Metric("acc", math.nan, 1_700_000_000_001, 1),
        Metric("loss", math.inf, MAX_STEP, MIN_STEP),
        Metric("lr/x:1 a", -math.inf, MIN_STEP, MAX_STEP),
        Metric("acc", -0.0, 0, -5),
    ]
    header, batch = unpack(pack(b'{"params": []}', points))
    assert header == b'{"params": []}'
    assert isinstance(batch, MetricBatch)
    assert batch.keys == ["loss", "acc", "loss", "lr/x:1 a", "acc"]
    assert batch.steps == [0, 1, MIN_STEP, MAX_STEP, -5]
    assert batch.timestamps == [1_700_000_000_000, 1_700_000_000_001, MAX_STEP, MIN_STEP, 0]
    values = batch.values
    assert values[0] == 0.25 and math.isnan(values[1])
    assert values[2] == math.inf and values[3] == -math.inf
    assert math.copysign(1.0, values[4]) == -1.0


def test_one_key_and_no_points_round_trip() -> None:
    points = [Metric("loss", i / 7, 1_000 + i, i) for i in range(1_000)]
    assert list(unpack(pack(b"{}", points))[1]) == points
    assert list(unpack(pack(b"{}", MetricBatch([], [], [], [])))[1]) == []


def test_numbers_are_converted_as_the_stores_do() -> None:
    points = [Metric("m", 3, np.int64(7), 1), Metric("m", np.float32(0.5), 8, np.int32(2))]  # type: ignore[arg-type]
    batch = unpack(pack(b"{}", points))[1]
    assert batch.values == [3.0, 0.5]
    assert batch.timestamps == [7, 8]
    assert batch.steps == [1, 2]
    assert all(type(value) is float for value in batch.values)


@pytest.mark.parametrize(
    ("metric", "message"),
    [
        (Metric("m", "high", 1, 0), "'high'"),  # type: ignore[arg-type]
        (Metric("m", True, 1, 0), "True"),
        (Metric("m", 1.0, 1, 2**63), "step"),
        (Metric("m", 1.0, 1.5, 0), "timestamp 1.5"),  # type: ignore[arg-type]
        (Metric("k" * 251, 1.0, 1, 0), "at most 250"),
    ],
)
def test_packing_refuses_what_the_stores_refuse(metric: Metric, message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        pack(b"{}", [metric])


def _body(table: bytes, indexes: list[int], *, points: int | None = None) -> bytes:
    count = len(indexes) if points is None else points
    sizes = struct.pack("<IIQ", 2, len(table), count)
    columns = struct.pack(f"<{len(indexes)}I", *indexes)
    columns += struct.pack(f"<{len(indexes)}d", *([1.0] * len(indexes)))
    columns += struct.pack(f"<{2 * len(indexes)}q", *([1] * 2 * len(indexes)))
    return MAGIC + sizes + b"{}" + table + columns


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"metrics": {}}', "Not a packed metrics body"),
        (b"NORIAPK2" + bytes(16), "Not a packed metrics body"),
        (_body(b'["a"]', [0, 0], points=3), "its sizes"),
        (_body(b'["a"]', [0, 0])[:-1], "its sizes"),
        (_body(b'["a", "b"]', [0, 2]), "key index 2; its table has 2 keys"),
        (_body(b'["a"]', [1]), "past its key table"),
        (_body(b"[]", [0]), "no keys"),
        (_body(b'{"a": 1}', [0]), "bad key table"),
        (_body(b"[1]", [0]), "bad key table"),
    ],
)
def test_a_malformed_body_is_refused_with_the_reason(body: bytes, message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        unpack(body)

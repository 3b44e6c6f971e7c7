"""Metric shapes: one point, columns of points (the logging hot path), a history.

JSON has no NaN or ±inf, yet metric values may be either: they travel as the strings
``"NaN"``, ``"Infinity"`` and ``"-Infinity"`` in both directions. Models here write
them that way with ``model_dump_json()`` (``ser_json_inf_nan="strings"``) and read
them back on validation; any other string is refused.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Annotated, Any

from pydantic import (
    BeforeValidator,
    ConfigDict,
    StrictFloat,
    StrictInt,
    WithJsonSchema,
    model_validator,
)

from noria.domain.tracking import (
    Metric,
    MetricHistory,
    Param,
    RunTag,
)
from noria.wire.common import WireModel

_NON_FINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
_NUMBER_SCHEMA: dict[str, Any] = {
    "anyOf": [{"type": "number"}, {"enum": list(_NON_FINITE)}],
    "description": 'A number, or "NaN", "Infinity", "-Infinity" (JSON has no such numbers).',
}


def _decode_float(value: Any) -> Any:
    return _NON_FINITE.get(value, value) if isinstance(value, str) else value


def _decode_floats(values: Any) -> Any:
    if not isinstance(values, list):
        return values
    return [_NON_FINITE.get(v, v) if isinstance(v, str) else v for v in values]


# Strict: a string other than the three spellings above, or a bool, is not a number.
MetricValue = Annotated[StrictFloat, BeforeValidator(_decode_float), WithJsonSchema(_NUMBER_SCHEMA)]
MetricValues = Annotated[
    list[StrictFloat],
    BeforeValidator(_decode_floats),
    WithJsonSchema({"type": "array", "items": _NUMBER_SCHEMA}),
]


class TrackingModel(WireModel):
    model_config = ConfigDict(ser_json_inf_nan="strings")


class TagBody(TrackingModel):
    key: str
    value: str


class ParamBody(TrackingModel):
    key: str
    value: str


class MetricBody(TrackingModel):
    key: str
    value: MetricValue
    timestamp: StrictInt
    step: StrictInt = 0

    @classmethod
    def from_domain(cls, metric: Metric) -> MetricBody:
        return cls(key=metric.key, value=metric.value, timestamp=metric.timestamp, step=metric.step)

    def to_domain(self) -> Metric:
        return Metric(self.key, self.value, self.timestamp, self.step)


class MetricColumns(TrackingModel):
    """Metric points as parallel columns: the compact shape of the logging hot path."""

    keys: list[str] = []
    values: MetricValues = []
    timestamps: list[StrictInt] = []
    steps: list[StrictInt] = []

    @model_validator(mode="after")
    def _same_lengths(self) -> MetricColumns:
        lengths = {len(self.keys), len(self.values), len(self.timestamps), len(self.steps)}
        if len(lengths) > 1:
            raise ValueError(
                f"keys, values, timestamps and steps must have one entry per point; got "
                f"{len(self.keys)}, {len(self.values)}, {len(self.timestamps)}, {len(self.steps)}"
            )
        return self

    def to_domain(self) -> list[Metric]:
        return list(map(Metric, self.keys, self.values, self.timestamps, self.steps))


class LogBatchRequest(TrackingModel):
    metrics: MetricColumns = MetricColumns()
    params: list[ParamBody] = []
    tags: list[TagBody] = []

    def domain_params(self) -> list[Param]:
        return [Param(param.key, param.value) for param in self.params]

    def domain_tags(self) -> list[RunTag]:
        return [RunTag(tag.key, tag.value) for tag in self.tags]


class MetricHistoryBody(TrackingModel):
    """A metric's points as parallel columns, ordered by (step, timestamp)."""

    key: str
    steps: list[int]
    timestamps: list[int]
    values: MetricValues

    @classmethod
    def from_domain(cls, history: MetricHistory) -> MetricHistoryBody:
        return cls(
            key=history.key,
            steps=history.steps,
            timestamps=history.timestamps,
            values=history.values,
        )

    def to_domain(self) -> MetricHistory:
        return MetricHistory(self.key, self.steps, self.timestamps, self.values)


def key_values(items: Sequence[Param] | Sequence[RunTag]) -> list[dict[str, str]]:
    """Params or tags as bodies; values that are not text are written as ``str()`` does."""
    return [{"key": item.key, "value": text(item.value)} for item in items]


def text(value: object) -> str:
    return value if isinstance(value, str) else str(value)

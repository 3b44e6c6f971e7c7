"""A tuning search space: named ranges and choices, turned into Optuna distributions.

>>> space = {"lr": FloatRange(1e-4, 1e-1, log=True), "depth": IntRange(2, 8),
...          "model": Choice(["rf", "xgb"])}

Optuna is imported only when a study is built, so describing a space stays cheap.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

from noria.errors import InvalidArgument

ChoiceValue: TypeAlias = bool | int | float | str | None


@dataclass(frozen=True)
class FloatRange:
    """Floats from ``low`` to ``high`` (inclusive); ``log`` samples evenly in log space,
    ``step`` keeps to a grid ``low, low + step, …``."""

    low: float
    high: float
    log: bool = False
    step: float | None = None

    def __post_init__(self) -> None:
        if not (math.isfinite(self.low) and math.isfinite(self.high)) or self.low > self.high:
            raise InvalidArgument(
                f"FloatRange({self.low}, {self.high}) is empty: low must be at most high, "
                "both finite."
            )
        if self.log and self.low <= 0:
            raise InvalidArgument(
                f"FloatRange({self.low}, {self.high}, log=True) needs low > 0: a log scale "
                "starts above zero."
            )
        if self.step is not None and (self.step <= 0 or self.log):
            raise InvalidArgument(
                f"FloatRange step={self.step} must be positive, and cannot go with log=True."
            )

    def distribution(self) -> Any:
        from optuna.distributions import FloatDistribution

        return FloatDistribution(self.low, self.high, log=self.log, step=self.step)

    def placeholder(self) -> float:
        return self.low

    def describe(self) -> str:
        scale = " log" if self.log else f" step {self.step:g}" if self.step else ""
        return f"float [{self.low:g}, {self.high:g}]{scale}"


@dataclass(frozen=True)
class IntRange:
    """Integers from ``low`` to ``high`` (inclusive), every ``step``-th, or on a log scale."""

    low: int
    high: int
    log: bool = False
    step: int = 1

    def __post_init__(self) -> None:
        if self.low > self.high:
            raise InvalidArgument(
                f"IntRange({self.low}, {self.high}) is empty: low must be at most high."
            )
        if self.log and self.low < 1:
            raise InvalidArgument(f"IntRange({self.low}, {self.high}, log=True) needs low >= 1.")
        if self.step < 1 or (self.log and self.step != 1):
            raise InvalidArgument(
                f"IntRange step={self.step} must be at least 1, and 1 with log=True."
            )

    def distribution(self) -> Any:
        from optuna.distributions import IntDistribution

        return IntDistribution(self.low, self.high, log=self.log, step=self.step)

    def placeholder(self) -> int:
        return self.low

    def describe(self) -> str:
        scale = " log" if self.log else f" step {self.step}" if self.step != 1 else ""
        return f"int [{self.low}, {self.high}]{scale}"


@dataclass(frozen=True, init=False)
class Choice:
    """One of a few values: strings, numbers, booleans or ``None``."""

    options: tuple[ChoiceValue, ...]

    def __init__(self, options: Sequence[ChoiceValue]) -> None:
        values = tuple(options)
        if not values:
            raise InvalidArgument("Choice([]) has nothing to choose from: give it some values.")
        for value in values:
            if value is not None and not isinstance(value, bool | int | float | str):
                raise InvalidArgument(
                    f"Choice value {value!r} is a {type(value).__name__}: choices are strings, "
                    "numbers, booleans or None (choose a name, and map it to an object in "
                    "the objective)."
                )
        if len(set(map(repr, values))) != len(values):
            raise InvalidArgument(f"Choice{values!r} repeats a value: list each one once.")
        object.__setattr__(self, "options", values)

    def distribution(self) -> Any:
        from optuna.distributions import CategoricalDistribution

        return CategoricalDistribution(self.options)

    def placeholder(self) -> ChoiceValue:
        return self.options[0]

    def describe(self) -> str:
        return "one of " + ", ".join(repr(value) for value in self.options)


Dimension: TypeAlias = FloatRange | IntRange | Choice
SearchSpace: TypeAlias = Mapping[str, Dimension]


def check_space(space: SearchSpace) -> dict[str, Dimension]:
    """The space as a plain dict, after checking it is one."""
    if not isinstance(space, Mapping) or not space:
        raise InvalidArgument(
            "The search space is empty: pass space={'lr': FloatRange(1e-4, 1e-1, log=True), …}."
        )
    for name, dimension in space.items():
        if not isinstance(dimension, FloatRange | IntRange | Choice):
            raise InvalidArgument(
                f"Search space entry {name!r} is a {type(dimension).__name__}: use "
                "FloatRange(low, high), IntRange(low, high) or Choice([...])."
            )
    return dict(space)


def distributions(space: SearchSpace) -> dict[str, Any]:
    """Optuna's distribution for each dimension, by parameter name."""
    return {name: dimension.distribution() for name, dimension in space.items()}


def describe_space(space: SearchSpace) -> dict[str, str]:
    return {name: dimension.describe() for name, dimension in space.items()}

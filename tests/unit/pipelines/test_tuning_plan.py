"""Tuning requests checked before any trial runs: the space, the objective's call, options."""

from __future__ import annotations

import re
from typing import Any

import pytest

import noria
from noria.errors import InvalidArgument
from noria.pipelines.locations import SourceLocation
from noria.pipelines.search_space import (
    Choice,
    Dimension,
    FloatRange,
    IntRange,
    describe_space,
)
from noria.pipelines.tuning import plan_tuning

HERE = SourceLocation("flows/tune.py", 12)


@noria.step
def objective(frame: list[int], lr: float, depth: int = 3) -> float:
    return lr * depth * len(frame)


def plan(**overrides: Any) -> tuple[Any, list[str]]:
    arguments: dict[str, Any] = {
        "space": {"lr": FloatRange(1e-3, 1.0, log=True)},
        "metric": "auc",
        "trials": 4,
        "direction": "maximize",
        "fixed": {"frame": [1, 2, 3]},
        "parallel": 2,
        "seed": None,
        "sampler": None,
        "pruner": None,
        "name": None,
        "location": HERE,
    }
    arguments.update(overrides)
    built, problems = plan_tuning(arguments.pop("objective", objective), **arguments)
    return built, [str(problem) for problem in problems]


def test_a_sound_request_binds_the_fixed_arguments() -> None:
    built, problems = plan()
    assert problems == []
    assert built.name == "tune-objective"
    assert built.node.params == {"lr": 1e-3, "frame": [1, 2, 3]}
    assert built.node.output_names == ("output",)
    assert (built.maximize, built.trials, built.parallel) == (True, 4, 2)


def test_unknown_and_missing_parameters_are_reported_where_tune_was_called() -> None:
    _, problems = plan(space={"rate": FloatRange(0.0, 1.0)}, fixed={})
    assert problems == [
        "flows/tune.py:12: step 'objective' has no parameter 'rate'; its parameters are: "
        "frame, lr, depth",
        "flows/tune.py:12: step 'objective' is missing parameter 'frame' (it has no default): "
        "pass a value or another step's output",
        "flows/tune.py:12: step 'objective' is missing parameter 'lr' (it has no default): "
        "pass a value or another step's output",
    ]


def test_a_parameter_both_searched_and_fixed_is_refused() -> None:
    with pytest.raises(InvalidArgument, match="'lr' is both searched \\(space\\) and fixed"):
        plan(fixed={"frame": [1], "lr": 0.1})


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"trials": 0}, "trials=0 must be at least 1"),
        ({"parallel": 0}, "parallel=0 must be at least 1"),
        ({"direction": "up"}, "direction='up' must be 'maximize' or 'minimize'"),
        ({"metric": ""}, "Invalid metric key ''"),
        ({"space": {}}, "The search space is empty"),
        ({"space": {"lr": (0.1, 0.2)}}, "entry 'lr' is a tuple: use FloatRange"),
        ({"seed": 1, "sampler": object()}, "seed=1 and a sampler were both given"),
        ({"name": "no spaces"}, "Invalid tuning run name 'no spaces'"),
        ({"objective": 42}, "The objective must be a step or a function, not int"),
    ],
)
def test_bad_options_say_what_to_change(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidArgument, match=re.escape(message)):
        plan(**overrides)


def test_a_plain_function_is_tuned_as_a_step() -> None:
    def score(x: float) -> float:
        return -((x - 2) ** 2)

    built, problems = plan(objective=score, space={"x": FloatRange(0, 4)}, fixed={})
    assert problems == [] and built.step.name == "score"


def test_tune_cannot_run_while_a_pipeline_is_being_built() -> None:
    @noria.pipeline
    def building_one() -> None:
        noria.tune(objective, space={"lr": FloatRange(0.1, 1.0)}, metric="auc")

    problems = [str(problem) for problem in building_one.lint()]
    assert len(problems) == 1
    assert "noria.tune runs its trials at once" in problems[0]
    assert "call it inside a step" in problems[0]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: FloatRange(1.0, 0.5), "FloatRange(1.0, 0.5) is empty"),
        (lambda: FloatRange(0.0, 1.0, log=True), "needs low > 0"),
        (lambda: FloatRange(0.0, 1.0, step=0.0), "step=0.0 must be positive"),
        (lambda: IntRange(5, 2), "IntRange(5, 2) is empty"),
        (lambda: IntRange(0, 9, log=True), "needs low >= 1"),
        (lambda: IntRange(1, 9, step=0), "step=0 must be at least 1"),
        (lambda: Choice([]), "has nothing to choose from"),
        (lambda: Choice(["a", "a"]), "repeats a value"),
        (lambda: Choice([[1, 2]]), "Choice value [1, 2] is a list"),  # type: ignore[list-item]
    ],
)
def test_an_impossible_dimension_is_refused(make: Any, message: str) -> None:
    with pytest.raises(InvalidArgument, match=re.escape(message)):
        make()


def test_dimensions_describe_themselves_and_become_optuna_distributions() -> None:
    import optuna

    space: dict[str, Dimension] = {
        "lr": FloatRange(1e-4, 0.1, log=True),
        "frac": FloatRange(0.1, 0.9, step=0.1),
        "depth": IntRange(2, 8),
        "model": Choice(["rf", "xgb", None]),
    }
    assert describe_space(space) == {
        "lr": "float [0.0001, 0.1] log",
        "frac": "float [0.1, 0.9] step 0.1",
        "depth": "int [2, 8]",
        "model": "one of 'rf', 'xgb', None",
    }
    assert space["lr"].distribution() == optuna.distributions.FloatDistribution(1e-4, 0.1, log=True)
    assert space["model"].distribution() == optuna.distributions.CategoricalDistribution(
        ("rf", "xgb", None)
    )

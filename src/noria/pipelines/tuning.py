"""``noria.tune``: hyperparameter search with Optuna, each trial a step run on an executor.

>>> @noria.step
... def train(frame: pd.DataFrame, lr: float, depth: int) -> float:
...     ...
...     return auc
>>> result = noria.tune(
...     train,
...     fixed={"frame": frame},
...     space={"lr": FloatRange(1e-4, 1e-1, log=True), "depth": IntRange(2, 8)},
...     metric="auc",
...     trials=20,
...     parallel=4,
...     executor="ray",
... )
>>> result.best_params
{'lr': 0.012, 'depth': 5}

The tuning run is recorded like a pipeline run whose steps are the trials, with a tracking
run whose children are the trials' runs. See ``docs/pipelines.md`` (Tuning).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from noria.domain.pipelines import check_name
from noria.domain.tracking import check_key
from noria.errors import InvalidArgument, Unsupported
from noria.pipelines.authoring import Step, StepOptions
from noria.pipelines.checks import check_graph
from noria.pipelines.graph import Graph, StepNode, building, current_builder
from noria.pipelines.locations import Problem, SourceLocation, caller_location
from noria.pipelines.search_space import (
    Choice,
    Dimension,
    FloatRange,
    IntRange,
    SearchSpace,
    check_space,
)
from noria.pipelines.trials import report_trial
from noria.pipelines.tuning_result import TrialRecord, TuningFailed, TuningResult

if TYPE_CHECKING:
    from noria.client import Client
    from noria.ports.executors import Executor

__all__ = [
    "Choice",
    "FloatRange",
    "IntRange",
    "TrialRecord",
    "TuningFailed",
    "TuningResult",
    "report_trial",
    "tune",
]

OPTUNA_HINT = "pip install optuna (or 'noria[ml]')"


@dataclass(frozen=True)
class TuningPlan:
    """A checked tuning request: what every trial runs, and how the study searches."""

    name: str
    step: Step[..., Any]
    node: StepNode  # the objective's call, with the fixed arguments bound
    space: dict[str, Dimension]
    metric: str
    maximize: bool
    trials: int
    parallel: int
    seed: int | None
    sampler: Any
    pruner: Any


def _as_step(objective: Step[..., Any] | Callable[..., Any]) -> Step[..., Any]:
    if isinstance(objective, Step):
        return objective
    if not callable(objective):
        raise InvalidArgument(
            f"The objective must be a step or a function, not {type(objective).__name__}."
        )
    return Step(objective, StepOptions(), None)


def _check_numbers(trials: int, parallel: int, direction: str) -> None:
    if trials < 1:
        raise InvalidArgument(f"trials={trials} must be at least 1.")
    if parallel < 1:
        raise InvalidArgument(f"parallel={parallel} must be at least 1.")
    if direction not in ("maximize", "minimize"):
        raise InvalidArgument(f"direction={direction!r} must be 'maximize' or 'minimize'.")


def _bind(
    step: Step[..., Any],
    space: Mapping[str, Dimension],
    fixed: Mapping[str, Any],
    location: SourceLocation,
) -> tuple[StepNode, list[Problem]]:
    """The objective's call, built and checked as a one-step pipeline would be: unknown and
    missing parameters, outputs that cannot be stored (each with its file and line)."""
    both = sorted(set(space) & set(fixed))
    if both:
        raise InvalidArgument(
            f"{location}: {', '.join(map(repr, both))} is both searched (space) and fixed: "
            "keep it in one of them."
        )
    graph = Graph(pipeline=step.name, location=location, params={})
    arguments = {name: dimension.placeholder() for name, dimension in space.items()}
    with building(graph) as builder:
        builder.add(step, (), {**arguments, **fixed}, location=location)
    node = graph.nodes[step.name]
    problems = list(graph.problems)
    if len(node.outputs) > 2:
        problems.append(
            Problem(
                step.location,
                f"objective {step.name!r} returns {len(node.outputs)} outputs: return the "
                "score, a model, or (score, model)",
            )
        )
    return node, problems


def plan_tuning(
    objective: Step[..., Any] | Callable[..., Any],
    *,
    space: SearchSpace,
    metric: str,
    trials: int,
    direction: str,
    fixed: Mapping[str, Any],
    parallel: int,
    seed: int | None,
    sampler: Any,
    pruner: Any,
    name: str | None,
    location: SourceLocation,
) -> tuple[TuningPlan, list[Problem]]:
    """Check everything that can be checked before a trial runs."""
    if current_builder() is not None:
        raise InvalidArgument(
            f"{location}: noria.tune runs its trials at once, so it cannot be called while a "
            "pipeline is being built: call it inside a step."
        )
    step = _as_step(objective)
    checked_space = check_space(space)
    check_key(metric, "metric")
    _check_numbers(trials, parallel, direction)
    if sampler is not None and seed is not None:
        raise InvalidArgument(
            f"seed={seed} and a sampler were both given: seed the sampler itself instead."
        )
    node, problems = _bind(step, checked_space, fixed, location)
    plan = TuningPlan(
        name=check_name(name or f"tune-{step.name}", "tuning run"),
        step=step,
        node=node,
        space=checked_space,
        metric=metric,
        maximize=direction == "maximize",
        trials=trials,
        parallel=parallel,
        seed=seed,
        sampler=sampler,
        pruner=pruner,
    )
    return plan, problems


def _raise_problems(problems: list[Problem]) -> None:
    if problems:
        more = len(problems) - 1
        raise InvalidArgument(f"{problems[0]}" + (f" (and {more} more problems)" if more else ""))


def tune(
    objective: Step[..., Any] | Callable[..., Any],
    *,
    space: SearchSpace,
    metric: str,
    trials: int = 20,
    direction: str = "maximize",
    fixed: Mapping[str, Any] | None = None,
    executor: str | Executor = "local",
    parallel: int = 1,
    seed: int | None = None,
    sampler: Any = None,
    pruner: Any = None,
    name: str | None = None,
    experiment: str | None = None,
    client: Client | None = None,
    raise_on_failure: bool = True,
) -> TuningResult:
    """Search ``space`` for the parameters of ``objective`` that maximise (or minimise)
    ``metric``, running ``trials`` trials, ``parallel`` at a time, on ``executor``.

    The objective is a step (or a plain function) taking the searched parameters and the
    ``fixed`` arguments; it returns the score (a number, or a dict holding ``metric``), a
    model (after ``noria.log_metric(metric, …)``), or ``(score, model)``. Each trial is a
    child run of the tuning run, with its params and the metric; a failed or pruned trial
    is recorded and the study goes on. With ``seed`` the search is reproducible: trials
    are told to Optuna in the order they were asked. ``sampler`` and ``pruner`` are
    Optuna's (TPE and no pruning by default). Raises ``TuningFailed`` when no trial
    completes, unless ``raise_on_failure=False``.
    """
    from noria.backends.schemes import executor_for

    plan, problems = plan_tuning(
        objective,
        space=space,
        metric=metric,
        trials=trials,
        direction=direction,
        fixed=fixed or {},
        parallel=parallel,
        seed=seed,
        sampler=sampler,
        pruner=pruner,
        name=name,
        location=caller_location(1),
    )
    _require_optuna()
    if client is None:
        from noria.client import default_client

        client = default_client()
    chosen = (
        executor_for(executor, client.settings, max_workers=parallel)
        if isinstance(executor, str)
        else executor
    )
    try:
        graph_problems = check_graph(
            Graph(plan.name, plan.node.location, {}, nodes={plan.node.name: plan.node}),
            in_process=chosen.in_process,
            executor=chosen.name,
        )
        _raise_problems(problems + [p for p in graph_problems if p not in problems])
        from noria.pipelines.tuning_run import run_study

        result = run_study(client, plan, chosen, experiment=experiment)
    finally:
        if isinstance(executor, str):
            chosen.close()
    if raise_on_failure and not result.succeeded:
        raise TuningFailed(result)
    return result


def _require_optuna() -> None:
    try:
        import optuna  # noqa: F401
    except ImportError:
        raise Unsupported(f"Tuning needs Optuna, which is not installed: {OPTUNA_HINT}.") from None

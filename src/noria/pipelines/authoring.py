"""``@noria.step`` and ``@noria.pipeline``: plain typed functions, composed by calling them.

>>> @noria.step(retries=2)
... def load(path: str) -> pd.DataFrame: ...
>>> @noria.step
... def train(frame: pd.DataFrame, lr: float = 0.1) -> LogisticRegression: ...
>>> @noria.pipeline
... def training(path: str = "credit.csv", lr: float = 0.1) -> None:
...     train(load(path), lr=lr)
>>> training.run(params={"lr": 0.3})
"""

from __future__ import annotations

import datetime as dt
import inspect
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, ParamSpec, TypeVar, cast, overload

from noria.domain.pipelines import ResourceHints, StepReference, check_name
from noria.errors import InvalidArgument
from noria.pipelines.graph import Graph, StepOutput, building, current_builder
from noria.pipelines.hints import resolved_hints
from noria.pipelines.locations import Problem, SourceLocation, caller_location, definition_location

if TYPE_CHECKING:
    from noria.client import Client
    from noria.pipelines.results import PipelineResult
    from noria.ports.executors import Executor

P = ParamSpec("P")
R = TypeVar("R")

CacheKeyFunction = Callable[..., str]


@dataclass(frozen=True)
class StepOptions:
    """How a step runs. ``retry_backoff_s`` doubles after each failed attempt."""

    retries: int = 0
    retry_backoff_s: float = 1.0
    timeout_s: float | None = None
    cache: bool = True
    cache_key: str | CacheKeyFunction | None = None
    max_age_s: float | None = None
    resources: ResourceHints = field(default_factory=ResourceHints)

    def __post_init__(self) -> None:
        if self.retries < 0:
            raise InvalidArgument(f"retries={self.retries} cannot be negative: use 0 for none.")
        if self.retry_backoff_s < 0:
            raise InvalidArgument(f"retry_backoff={self.retry_backoff_s} cannot be negative.")
        for name in ("timeout_s", "max_age_s"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise InvalidArgument(f"{name.removesuffix('_s')}={value} must be positive.")


def _seconds(value: float | dt.timedelta | None) -> float | None:
    return value.total_seconds() if isinstance(value, dt.timedelta) else value


class Step(Generic[P, R]):
    """A step: called inside a pipeline it records itself; called anywhere else it just runs."""

    def __init__(self, function: Callable[P, R], options: StepOptions, name: str | None) -> None:
        self.function = function
        self.options = options
        self.name = check_name(name or function.__name__, "step")
        self.location = definition_location(function)
        self.signature = inspect.signature(function)
        variadic = [
            p.name
            for p in self.signature.parameters.values()
            if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        ]
        if variadic:
            raise InvalidArgument(
                f"{self.location}: step {self.name!r} takes *{variadic[0]}: steps take named "
                "parameters only, so that each input and parameter can be recorded."
            )
        if inspect.iscoroutinefunction(function) or inspect.isasyncgenfunction(function):
            raise InvalidArgument(
                f"{self.location}: step {self.name!r} is async: steps are plain functions "
                "(run the coroutine inside with asyncio.run)."
            )
        self.hints = resolved_hints(function)
        source = inspect.getsourcefile(function)
        self.reference = StepReference(
            module=function.__module__,
            qualname=function.__qualname__,
            source_file=str(Path(source).resolve()) if source else None,
        )
        self.__doc__ = function.__doc__
        self.__wrapped__ = function

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        builder = current_builder()
        if builder is None:
            return self.function(*args, **kwargs)
        added = builder.add(self, args, kwargs, location=caller_location(1))
        return cast(R, added)

    def with_options(
        self, *, name: str | None = None, after: Sequence[str | StepOutput] = ()
    ) -> Callable[P, R]:
        """Call this step under another name, or after steps it takes no input from.

        >>> train.with_options(name="train_small", after=["validate"])(frame, lr=0.01)
        """
        if name is not None:
            check_name(name, "step")

        def invoke(*args: P.args, **kwargs: P.kwargs) -> R:
            builder = current_builder()
            if builder is None:
                raise InvalidArgument(
                    f"{self.name}.with_options(...) only works inside a pipeline function."
                )
            added = builder.add(
                self, args, kwargs, location=caller_location(1), name=name, after=after
            )
            return cast(R, added)

        return invoke

    def __repr__(self) -> str:
        return f"Step({self.reference})"


@overload
def step(function: Callable[P, R], /) -> Step[P, R]: ...


@overload
def step(
    *,
    name: str | None = None,
    retries: int = 0,
    retry_backoff: float | dt.timedelta = 1.0,
    timeout: float | dt.timedelta | None = None,
    cache: bool = True,
    cache_key: str | CacheKeyFunction | None = None,
    max_age: float | dt.timedelta | None = None,
    num_cpus: float | None = None,
    num_gpus: float | None = None,
    memory: int | None = None,
) -> Callable[[Callable[P, R]], Step[P, R]]: ...


def step(
    function: Callable[P, R] | None = None,
    /,
    *,
    name: str | None = None,
    retries: int = 0,
    retry_backoff: float | dt.timedelta = 1.0,
    timeout: float | dt.timedelta | None = None,
    cache: bool = True,
    cache_key: str | CacheKeyFunction | None = None,
    max_age: float | dt.timedelta | None = None,
    num_cpus: float | None = None,
    num_gpus: float | None = None,
    memory: int | None = None,
) -> Step[P, R] | Callable[[Callable[P, R]], Step[P, R]]:
    """Mark a typed function as a pipeline step.

    ``retries`` more attempts after a failure, waiting ``retry_backoff`` seconds, then twice
    that, and so on; ``timeout`` per attempt (seconds); ``cache=False`` always runs it;
    ``cache_key`` adds your own key (a string, or a function of the step's parameters
    returning one, e.g. a file's digest); ``max_age`` ignores older cached results;
    ``num_cpus``, ``num_gpus`` and ``memory`` (bytes) are hints for executors that schedule.
    """
    options = StepOptions(
        retries=retries,
        retry_backoff_s=_seconds(retry_backoff) or 0.0,
        timeout_s=_seconds(timeout),
        cache=cache,
        cache_key=cache_key,
        max_age_s=_seconds(max_age),
        resources=ResourceHints(num_cpus=num_cpus, num_gpus=num_gpus, memory=memory),
    )

    def decorate(target: Callable[P, R]) -> Step[P, R]:
        return Step(target, options, name)

    return decorate(function) if function is not None else decorate


class Pipeline:
    """A pipeline: its function's parameters are the pipeline's parameters."""

    def __init__(self, function: Callable[..., Any], name: str | None) -> None:
        self.function = function
        self.name = check_name(name or function.__name__, "pipeline")
        self.location = definition_location(function)
        self.signature = inspect.signature(function)
        self.hints = resolved_hints(function)
        self.__doc__ = function.__doc__
        self.__wrapped__ = function

    def build(self, params: Mapping[str, Any]) -> Graph:
        """The DAG for these (already resolved) parameter values; problems are recorded in it."""
        graph = Graph(pipeline=self.name, location=self.location, params=dict(params))
        with building(graph):
            try:
                self.function(**params)
            except Exception as exc:  # noqa: BLE001 - reported as a problem with its line
                graph.problems.append(Problem(self._failure_location(exc), _one_line(exc)))
        return graph

    def _failure_location(self, exc: BaseException) -> SourceLocation:
        """The deepest frame of the failure inside the pipeline's own file."""
        found = self.location
        for frame in traceback.extract_tb(exc.__traceback__):
            if frame.filename == self.location.file and frame.lineno is not None:
                found = SourceLocation(frame.filename, frame.lineno)
        return found

    def lint(
        self,
        params: Mapping[str, Any] | None = None,
        *,
        cli_params: Sequence[str] = (),
        config: str | Path | None = None,
        executor: str | Executor = "local",
    ) -> list[Problem]:
        """Every problem found before running: parameters, calls, types, cycles."""
        from noria.pipelines.checks import lint_pipeline

        return lint_pipeline(
            self, params=params or {}, cli_params=cli_params, config=config, executor=executor
        )

    def run(
        self,
        params: Mapping[str, Any] | None = None,
        *,
        cli_params: Sequence[str] = (),
        config: str | Path | None = None,
        executor: str | Executor = "local",
        client: Client | None = None,
        experiment: str | None = None,
        raise_on_failure: bool = True,
    ) -> PipelineResult:
        """Check the pipeline, then run it; returns the run's result.

        ``params`` override ``config`` (a YAML file with a ``params:`` mapping), and
        ``cli_params`` (``"k=v"`` strings) override both. A failed run raises
        ``PipelineFailed`` (carrying the result) unless ``raise_on_failure=False``.
        """
        from noria.pipelines.runner import run_pipeline

        return run_pipeline(
            self,
            params=params or {},
            cli_params=cli_params,
            config=config,
            executor=executor,
            client=client,
            experiment=experiment,
            raise_on_failure=raise_on_failure,
        )

    def __call__(self, **params: Any) -> PipelineResult:
        """``training(lr=0.3)`` runs the pipeline with those parameters."""
        return self.run(params)

    def __repr__(self) -> str:
        return f"Pipeline({self.name!r})"


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    detail = text[0] if text else ""
    return f"the pipeline function failed: {type(exc).__name__}: {detail}".rstrip(": ")


@overload
def pipeline(function: Callable[..., Any], /) -> Pipeline: ...


@overload
def pipeline(*, name: str | None = None) -> Callable[[Callable[..., Any]], Pipeline]: ...


def pipeline(
    function: Callable[..., Any] | None = None, /, *, name: str | None = None
) -> Pipeline | Callable[[Callable[..., Any]], Pipeline]:
    """Mark a function that calls steps as a pipeline; its parameters are the pipeline's."""

    def decorate(target: Callable[..., Any]) -> Pipeline:
        return Pipeline(target, name)

    return decorate(function) if function is not None else decorate

"""The DAG of one pipeline, built by calling its function with steps recording themselves.

While a pipeline function runs under :func:`building`, each step call adds a
:class:`StepNode` and returns :class:`StepOutput` placeholders; passing a placeholder to
another step makes an edge. Mistakes in calls are recorded as problems with the call's
file and line instead of raising, so ``lint`` can report all of them at once.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from noria.errors import InvalidArgument
from noria.pipelines.hints import output_annotations
from noria.pipelines.literals import is_literal
from noria.pipelines.locations import Problem, SourceLocation

if TYPE_CHECKING:
    from noria.pipelines.authoring import Step

_building: ContextVar[GraphBuilder | None] = ContextVar("noria_pipeline_graph", default=None)


class StepOutput:
    """A placeholder for a value a step will produce; pass it to other steps.

    It has no value while the pipeline is being built: only steps can use it.
    """

    __slots__ = ("annotation", "index", "name", "producer")

    def __init__(self, producer: str, index: int, name: str, annotation: Any) -> None:
        self.producer = producer
        self.index = index
        self.name = name
        self.annotation = annotation

    def __repr__(self) -> str:
        return f"StepOutput({self.producer}.{self.name})"

    def _misuse(self, what: str) -> InvalidArgument:
        return InvalidArgument(
            f"{what} on the output of step {self.producer!r}: while the pipeline is built it "
            "is only a placeholder. Pass it to another step, and do the work inside that step."
        )

    def __getattr__(self, attribute: str) -> Any:
        if attribute.startswith("__"):  # protocols probed by copy, pickle, hasattr…
            raise AttributeError(attribute)
        raise self._misuse(f"Cannot read .{attribute}")

    def __bool__(self) -> bool:
        raise self._misuse("Cannot test the truth")

    def __iter__(self) -> Iterator[Any]:
        raise self._misuse("Cannot iterate")

    def __getitem__(self, key: Any) -> Any:
        raise self._misuse("Cannot index")


@dataclass
class StepNode:
    """One invocation of a step in the pipeline."""

    name: str
    step: Step[..., Any]
    location: SourceLocation
    params: dict[str, Any] = field(default_factory=dict)  # literal arguments
    constants: dict[str, Any] = field(default_factory=dict)  # other values, stored as artifacts
    inputs: dict[str, StepOutput] = field(default_factory=dict)
    after: tuple[str, ...] = ()
    outputs: tuple[StepOutput, ...] = ()

    @property
    def upstream(self) -> tuple[str, ...]:
        """The steps this one waits for: producers of its inputs, then ``after``."""
        names = [output.producer for output in self.inputs.values()]
        return tuple(dict.fromkeys([*names, *self.after]))

    @property
    def output_names(self) -> tuple[str, ...]:
        return tuple(output.name for output in self.outputs)


@dataclass
class Graph:
    pipeline: str
    location: SourceLocation
    params: dict[str, Any]
    nodes: dict[str, StepNode] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def downstream(self, name: str) -> list[str]:
        return [node.name for node in self.nodes.values() if name in node.upstream]


class GraphBuilder:
    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self._uses: dict[str, int] = {}

    def _name_for(self, step: Step[..., Any], explicit: str | None) -> str:
        if explicit is not None:
            return explicit
        uses = self._uses.get(step.name, 0) + 1
        self._uses[step.name] = uses
        return step.name if uses == 1 else f"{step.name}_{uses}"

    def add(
        self,
        step: Step[..., Any],
        args: Sequence[Any],
        kwargs: Mapping[str, Any],
        *,
        location: SourceLocation,
        name: str | None = None,
        after: Sequence[str | StepOutput] = (),
    ) -> StepOutput | tuple[StepOutput, ...]:
        node = StepNode(name=self._name_for(step, name), step=step, location=location)
        if node.name in self.graph.nodes:
            self._problem(
                node, "is a second step of that name: name one with with_options(name=...)"
            )
            node.name = f"{node.name}__{len(self.graph.nodes)}"
        node.after = tuple(
            item.producer if isinstance(item, StepOutput) else item for item in after
        )
        for parameter, value in self._bind(node, args, kwargs).items():
            self._place(node, parameter, value)
        annotations = output_annotations(step.hints.get("return", inspect.Parameter.empty))
        names = (
            ("output",)
            if len(annotations) == 1
            else tuple(f"output_{index}" for index in range(len(annotations)))
        )
        node.outputs = tuple(
            StepOutput(node.name, index, output_name, annotation)
            for index, (output_name, annotation) in enumerate(zip(names, annotations, strict=True))
        )
        self.graph.nodes[node.name] = node
        return node.outputs[0] if len(node.outputs) == 1 else node.outputs

    def _problem(self, node: StepNode, message: str) -> None:
        self.graph.problems.append(Problem(node.location, f"step {node.name!r} {message}"))

    def _bind(
        self, node: StepNode, args: Sequence[Any], kwargs: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Arguments by parameter name; unknown, doubled and missing ones become problems."""
        parameters = node.step.signature.parameters
        positional = [
            p.name
            for p in parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
        bound: dict[str, Any] = {}
        if len(args) > len(positional):
            self._problem(
                node, f"takes {len(positional)} positional arguments but {len(args)} were given"
            )
        bound.update(zip(positional, args, strict=False))
        known = ", ".join(parameters) or "none"
        for key, value in kwargs.items():
            if key not in parameters or parameters[key].kind is inspect.Parameter.POSITIONAL_ONLY:
                self._problem(node, f"has no parameter {key!r}; its parameters are: {known}")
            elif key in bound:
                self._problem(node, f"got two values for parameter {key!r}")
            else:
                bound[key] = value
        for parameter in parameters.values():
            if parameter.name not in bound and parameter.default is inspect.Parameter.empty:
                self._problem(
                    node,
                    f"is missing parameter {parameter.name!r} (it has no default): pass a value "
                    "or another step's output",
                )
        return bound

    def _place(self, node: StepNode, parameter: str, value: Any) -> None:
        if isinstance(value, StepOutput):
            if value.producer not in self.graph.nodes:
                self._problem(node, f"takes input {parameter!r} from another pipeline's step")
            node.inputs[parameter] = value
        elif _holds_output(value):
            self._problem(
                node,
                f"gets step outputs inside a container for parameter {parameter!r}: pass "
                "each output to its own parameter",
            )
        elif is_literal(value):
            node.params[parameter] = value
        else:
            node.constants[parameter] = value


def _holds_output(value: Any) -> bool:
    if isinstance(value, list | tuple | set | frozenset):
        return any(_holds_output(item) for item in value)
    if isinstance(value, Mapping):
        return any(_holds_output(item) for item in value.values())
    return isinstance(value, StepOutput)


def current_builder() -> GraphBuilder | None:
    return _building.get()


@contextmanager
def building(graph: Graph) -> Iterator[GraphBuilder]:
    """Steps called inside this block record themselves into ``graph``."""
    if _building.get() is not None:
        raise InvalidArgument(
            f"Pipeline {graph.pipeline!r} was called while another pipeline is being built: "
            "pipelines cannot be nested; call its steps directly instead."
        )
    builder = GraphBuilder(graph)
    token = _building.set(builder)
    try:
        yield builder
    finally:
        _building.reset(token)

"""Type annotations of steps: how many outputs, which inputs fit, what cannot be stored.

The checks are deliberately lenient: an annotation they cannot reason about (a string
that does not evaluate, a TypeVar, a Protocol) passes, so only clear mistakes are reported.
"""

from __future__ import annotations

import collections.abc
import inspect
import io
import re
import socket
import threading
import types
import typing
from collections.abc import Callable
from typing import Any

MISSING: Any = inspect.Parameter.empty
_MODULE_PREFIX = re.compile(r"\b(?:[A-Za-z_]\w*\.)+(?=[A-Za-z_])")  # collections.abc.X → X

_NOT_STORABLE_ORIGINS: dict[Any, str] = {
    collections.abc.Iterator: "an iterator",
    collections.abc.Generator: "a generator",
    collections.abc.AsyncIterator: "an async iterator",
    collections.abc.AsyncGenerator: "an async generator",
    collections.abc.Callable: "a function",
    collections.abc.Awaitable: "an awaitable",
    collections.abc.Coroutine: "a coroutine",
    typing.IO: "an open file",
    typing.TextIO: "an open file",
    typing.BinaryIO: "an open file",
    types.GeneratorType: "a generator",
    types.FunctionType: "a function",
    types.ModuleType: "a module",
    type(threading.Lock()): "a lock",
    socket.socket: "a socket",
}


def resolved_hints(function: Callable[..., Any]) -> dict[str, Any]:
    """Each parameter's annotation (and ``return``), evaluated where possible.

    Annotations are evaluated one by one, so a single unresolvable string (a name imported
    only under ``TYPE_CHECKING``) leaves that one unknown rather than all of them.
    """
    target = inspect.unwrap(function)
    namespace = getattr(target, "__globals__", {})
    hints: dict[str, Any] = {}
    for name, written in getattr(target, "__annotations__", {}).items():
        hints[name] = _evaluated(written, namespace)
    return hints


def _evaluated(annotation: Any, namespace: dict[str, Any]) -> Any:
    if not isinstance(annotation, str):
        return annotation
    try:
        return eval(annotation, namespace)
    except Exception:  # noqa: BLE001 - an annotation we cannot evaluate is unknown
        return MISSING


def output_annotations(return_annotation: Any) -> tuple[Any, ...]:
    """One annotation per output: ``tuple[A, B]`` declares two outputs, anything else one."""
    if typing.get_origin(return_annotation) is tuple:
        members = typing.get_args(return_annotation)
        if members and members[-1] is not Ellipsis and members != ((),):
            return members
    return (return_annotation,)


def _union_members(annotation: Any) -> tuple[Any, ...] | None:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return typing.get_args(annotation)
    return None


def _as_class(annotation: Any) -> type | None:
    if annotation is None:
        return type(None)
    origin = typing.get_origin(annotation) or annotation
    if not isinstance(origin, type) or getattr(origin, "_is_protocol", False):
        return None
    return origin


def compatible(produced: Any, expected: Any) -> bool:
    """Whether a value annotated ``produced`` may fill a parameter annotated ``expected``."""
    if MISSING in (produced, expected) or Any in (produced, expected):
        return True
    if (members := _union_members(expected)) is not None:
        return any(compatible(produced, member) for member in members)
    if (members := _union_members(produced)) is not None:
        return any(compatible(member, expected) for member in members)
    return _classes_compatible(_as_class(produced), _as_class(expected))


def _classes_compatible(produced: type | None, expected: type | None) -> bool:
    if produced is None or expected is None:
        return True  # not a plain class: nothing sure to say
    if expected in (float, complex) and produced in (int, float, bool):
        return True  # the numeric tower, as type checkers accept it
    try:
        return issubclass(produced, expected)
    except TypeError:
        return True


def unstorable_reason(annotation: Any) -> str | None:
    """Why a value annotated so could not be stored as an artifact, or None if it may be."""
    if (members := _union_members(annotation)) is not None:
        reasons = [unstorable_reason(member) for member in members]
        return reasons[0] if reasons and all(reasons) else None
    origin = typing.get_origin(annotation) or annotation
    try:
        named = _NOT_STORABLE_ORIGINS.get(origin)
    except TypeError:  # an unhashable annotation object
        return None
    if named is not None:
        return named
    if isinstance(origin, type):
        if issubclass(origin, io.IOBase):
            return "an open file"
        if "<locals>" in origin.__qualname__:
            return (
                f"an instance of {origin.__qualname__}, a class defined inside a function "
                "(pickle cannot find it again)"
            )
    return None


def type_name(annotation: Any) -> str:
    """A short readable name for an annotation, as messages show it."""
    if annotation is MISSING:
        return "unannotated"
    if isinstance(annotation, type) and typing.get_origin(annotation) is None:
        return annotation.__qualname__
    return _MODULE_PREFIX.sub("", str(annotation))

"""Pipeline parameters: defaults < config file < ``run(params=…)`` < ``--param k=v``.

Each value is checked against the pipeline function's annotation; ``--param`` strings
are parsed to that type (``lr=0.1`` → 0.1, ``layers=[64,32]`` → a list). Problems carry
the config file's line, or the pipeline's ``def`` line for values given elsewhere.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from noria.errors import InvalidArgument, NotFound
from noria.pipelines.hints import MISSING, type_name
from noria.pipelines.locations import Problem, SourceLocation

if TYPE_CHECKING:
    from pydantic import TypeAdapter

    from noria.pipelines.authoring import Pipeline


@dataclass(frozen=True, slots=True)
class _Given:
    value: Any
    source: str  # "--param", "config", "run()"
    location: SourceLocation
    text: bool  # a string from the command line, to be parsed


@lru_cache(maxsize=256)
def _adapter(annotation: Any) -> TypeAdapter[Any]:
    from pydantic import ConfigDict, PydanticSchemaGenerationError, TypeAdapter

    try:
        return TypeAdapter(annotation)
    except PydanticSchemaGenerationError:
        return TypeAdapter(annotation, config=ConfigDict(arbitrary_types_allowed=True))


def _coerce(annotation: Any, given: _Given) -> Any:
    """The value as the annotation's type; ValueError explains why it is not one."""
    from pydantic import ValidationError

    raw = given.value
    if annotation is MISSING:
        return _json_or_text(raw) if given.text else raw
    if given.text and annotation is str:
        return raw
    adapter = _adapter(annotation)
    try:
        if not given.text:
            return adapter.validate_python(raw)
        try:  # JSON first: lists, maps, null; then the type's own string forms ("yes")
            return adapter.validate_json(raw)
        except ValidationError:
            return adapter.validate_strings(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ValueError(first["msg"]) from None
    except TypeError as exc:  # an annotation pydantic cannot check at all
        raise ValueError(str(exc)) from None


def _json_or_text(raw: str) -> Any:
    """An unannotated --param: JSON when it parses as JSON (0.1, [1, 2]), else the text."""
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def _config_values(path: Path) -> tuple[dict[str, _Given], list[Problem]]:
    import yaml

    if not path.is_file():
        raise NotFound(f"Config file {path} does not exist: give a YAML file with a params: map.")
    text = path.read_text(encoding="utf-8")
    start = SourceLocation(str(path), 1)
    try:
        root = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = SourceLocation(str(path), mark.line + 1) if mark is not None else start
        return {}, [Problem(where, f"not valid YAML: {getattr(exc, 'problem', exc)}")]
    if data is None:
        return {}, []
    params = data.get("params") if isinstance(data, dict) else None
    if not isinstance(data, dict) or set(data) - {"params"} or not isinstance(params, dict):
        return {}, [Problem(start, "a config file holds one mapping, params: {name: value, …}")]
    lines = _param_lines(root)
    found = {
        str(name): _Given(
            value, "config", SourceLocation(str(path), lines.get(str(name), 1)), False
        )
        for name, value in params.items()
    }
    return found, []


def _param_lines(root: Any) -> dict[str, int]:
    """The line of each key under ``params:`` in a composed YAML document."""
    for key, value in getattr(root, "value", []):
        if getattr(key, "value", None) == "params":
            return {
                str(name.value): name.start_mark.line + 1
                for name, _ in getattr(value, "value", [])
                if hasattr(name, "start_mark")
            }
    return {}


def _cli_values(
    items: Sequence[str], location: SourceLocation
) -> tuple[dict[str, _Given], list[Problem]]:
    found: dict[str, _Given] = {}
    problems = []
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            problems.append(Problem(location, f"--param {item!r} is not NAME=VALUE"))
            continue
        found[name.strip()] = _Given(value, "--param", location, True)
    return found, problems


def resolve_params(
    pipeline: Pipeline,
    *,
    params: Mapping[str, Any],
    cli_params: Sequence[str] = (),
    config: str | Path | None = None,
) -> tuple[dict[str, Any], list[Problem]]:
    """The pipeline's parameter values, and every problem found with them."""
    here = pipeline.location
    declared = pipeline.signature.parameters
    problems: list[Problem] = []
    given: dict[str, _Given] = {}
    if config is not None:
        from_config, config_problems = _config_values(Path(config))
        given.update(from_config)
        problems += config_problems
    given.update({name: _Given(value, "run()", here, False) for name, value in params.items()})
    from_cli, cli_problems = _cli_values(cli_params, here)
    given.update(from_cli)
    problems += cli_problems

    names = ", ".join(declared) or "none"
    resolved: dict[str, Any] = {}
    for name, item in given.items():
        if name not in declared:
            problems.append(
                Problem(
                    item.location,
                    f"pipeline {pipeline.name!r} has no parameter {name!r} (from {item.source}); "
                    f"its parameters are: {names}",
                )
            )
            continue
        annotation = pipeline.hints.get(name, MISSING)
        try:
            resolved[name] = _coerce(annotation, item)
        except ValueError as exc:
            problems.append(
                Problem(
                    item.location,
                    f"parameter {name}={item.value!r} (from {item.source}) is not a valid "
                    f"{type_name(annotation)}: {exc}",
                )
            )
    for name, parameter in declared.items():
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            problems.append(
                Problem(here, f"pipeline {pipeline.name!r} takes *{name}: declare each parameter")
            )
        elif name not in given:
            if parameter.default is inspect.Parameter.empty:
                problems.append(
                    Problem(
                        here,
                        f"pipeline {pipeline.name!r} is missing parameter {name!r} (it has no "
                        f"default): pass --param {name}=VALUE or set it under params: in a "
                        "config file",
                    )
                )
            else:
                resolved[name] = parameter.default
    return resolved, problems


def require_no_problems(problems: Sequence[Problem]) -> None:
    """Raise the first problem as one line (saying how many more there are)."""
    if not problems:
        return
    more = len(problems) - 1
    suffix = f" (and {more} more problem{'s' if more > 1 else ''}: run `noria pipelines lint`)"
    raise InvalidArgument(f"{problems[0]}{suffix if more else ''}")

"""What ``noria ci`` checks: ``noria-ci.yaml``, or the same plan from command-line flags.

.. code-block:: yaml

    params: {rows: 1000}                      # for every pipeline below (lint and run)
    lint:
      - flows/train.py:training
    validate:
      - data: data/credit-sample.csv
        schema: schemas/credit.yaml           # or a dataset version: datasets:/credit/3
    run:
      - pipeline: flows/train.py:training
        params: {c: 0.5}
        gate:
          policy: gate.yaml
          data: data/holdout.csv
          label: default
          model: train                        # the step that returns the model (default: the last)

Relative paths (files and ``file.py:pipeline`` references) are relative to the folder of
the config file; ``module:pipeline`` references import from there too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, JsonValue, ValidationError

from noria.domain.yaml_errors import yaml_syntax_error
from noria.errors import InvalidArgument, NotFound

DEFAULT_CONFIG = "noria-ci.yaml"


@dataclass(frozen=True)
class GateCheck:
    policy: Path
    data: str  # a path or a dataset URI
    label: str
    model: str | None = None  # a step name, or a models:/… or runs:/… URI


@dataclass(frozen=True)
class RunCheck:
    name: str  # as the config wrote it: the test case's name
    pipeline: str  # resolved against the config's folder
    params: dict[str, Any] = field(default_factory=dict)  # the entry's own
    executor: str = "local"
    gate: GateCheck | None = None
    shared: dict[str, Any] = field(default_factory=dict)  # for pipelines that declare them


@dataclass(frozen=True)
class LintCheck:
    name: str
    pipeline: str
    params: dict[str, Any] = field(default_factory=dict)
    shared: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ValidateCheck:
    name: str
    data: str  # a path or a dataset URI
    schema: str  # a schema YAML file, or a dataset version URI


@dataclass(frozen=True)
class CiPlan:
    root: Path  # where relative paths start
    lint: tuple[LintCheck, ...] = ()
    validate: tuple[ValidateCheck, ...] = ()
    run: tuple[RunCheck, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.lint or self.validate or self.run)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class _Gate(_Model):
    policy: str
    data: str
    label: str
    model: str | None = None


class _Run(_Model):
    pipeline: str
    params: dict[str, JsonValue] = {}
    executor: str = "local"
    gate: _Gate | None = None


class _Lint(_Model):
    pipeline: str
    params: dict[str, JsonValue] = {}


class _Validate(_Model):
    data: str
    schema_file: str = Field(alias="schema")


class _File(_Model):
    params: dict[str, JsonValue] = {}
    lint: list[str | _Lint] = []
    validate_: list[_Validate] = Field(default=[], alias="validate")
    run: list[_Run] = []


def resolve_path(root: Path, text: str) -> str:
    """A path relative to ``root``; URIs (``datasets:/…``) and absolute paths as they are."""
    if ":/" in text or Path(text).is_absolute():
        return text
    return str(root / text)


def resolve_ref(root: Path, ref: str) -> str:
    """``file.py:pipeline`` relative to ``root``; ``module:pipeline`` as it is."""
    target, sep, attribute = ref.rpartition(":")
    if sep and target.endswith(".py") and not Path(target).is_absolute():
        return f"{root / target}:{attribute}"
    return ref


def _validation(root: Path, data: str, schema: str) -> ValidateCheck:
    return ValidateCheck(
        f"{data} against {schema}", resolve_path(root, data), resolve_path(root, schema)
    )


def _problem(source: str, exc: ValidationError) -> InvalidArgument:
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first["loc"] if not str(part).startswith("_"))
    shown = f" (got {first['input']!r})" if first["type"] != "missing" else ""
    return InvalidArgument(
        f"{source}, {where or 'top level'}: {first['msg']}{shown}. See docs/ci.md for the format."
    )


def _plan(parsed: _File, root: Path) -> CiPlan:
    base = dict(parsed.params)
    lints = [
        LintCheck(item, resolve_ref(root, item), shared=base)
        if isinstance(item, str)
        else LintCheck(item.pipeline, resolve_ref(root, item.pipeline), item.params, base)
        for item in parsed.lint
    ]
    validations = [_validation(root, item.data, item.schema_file) for item in parsed.validate_]
    runs = []
    for item in parsed.run:
        gate = None
        if item.gate is not None:
            gate = GateCheck(
                Path(resolve_path(root, item.gate.policy)),
                resolve_path(root, item.gate.data),
                item.gate.label,
                item.gate.model,
            )
        pipeline = resolve_ref(root, item.pipeline)
        runs.append(RunCheck(item.pipeline, pipeline, item.params, item.executor, gate, base))
    return CiPlan(root, tuple(lints), tuple(validations), tuple(runs))


def load_plan(path: Path) -> CiPlan:
    """Read a ``noria-ci.yaml``; each mistake names the file and the field."""
    import yaml

    if not path.is_file():
        raise NotFound(
            f"CI config {path} does not exist: write one (see docs/ci.md), or pass checks as "
            "flags (--lint, --validate, --run)."
        )
    text = path.read_text(encoding="utf-8")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise yaml_syntax_error(exc, str(path)) from None
    try:
        parsed = _File.model_validate(data if data is not None else {})
    except ValidationError as exc:
        raise _problem(str(path), exc) from None
    return _plan(parsed, path.resolve().parent)


def plan_from_flags(
    root: Path,
    *,
    lint: list[str],
    validate: list[str],
    run: list[str],
    executor: str = "local",
    gate: GateCheck | None = None,
) -> CiPlan:
    """The plan that ``--lint REF``, ``--validate DATA=SCHEMA`` and ``--run REF`` describe;
    ``gate`` applies to every run."""
    validations = []
    for item in validate:
        data, sep, schema = item.rpartition("=")
        if not sep or not data or not schema:
            raise InvalidArgument(
                f"--validate {item!r}: write DATA=SCHEMA, e.g. "
                "--validate data/sample.csv=schemas/credit.yaml."
            )
        validations.append(_validation(root, data, schema))
    return CiPlan(
        root,
        tuple(LintCheck(ref, resolve_ref(root, ref)) for ref in lint),
        tuple(validations),
        tuple(RunCheck(ref, resolve_ref(root, ref), executor=executor, gate=gate) for ref in run),
    )

"""Request bodies of Noria's native route and MLflow's ``/invocations``, as one :class:`Payload`.

Every protocol ends up as named values (a column, or a tensor whose first axis is the rows)
or one unnamed array of rows; :mod:`noria.serving.validation` then checks it against the
model's signature. Problems with the body's shape are collected, not raised one by one, so
that a 422 lists all of them.

Native (``POST /v1/models/{name}/predict``)::

    {"records": [{"age": 31, "city": "Oslo"}, ...]}
    {"columns": {"age": [31, 45], "city": ["Oslo", "Rome"]}}

MLflow (``POST /invocations``), exactly one of::

    {"dataframe_split": {"columns": ["age", "city"], "data": [[31, "Oslo"]]}}
    {"dataframe_records": [{"age": 31, "city": "Oslo"}]}
    {"instances": [{"age": 31, "city": "Oslo"}]}   or   {"instances": [[1.0, 2.0], ...]}
    {"inputs": {"age": [31], "city": ["Oslo"]}}     or   {"inputs": [[1.0, 2.0], ...]}
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import orjson

from noria.serving.errors import MalformedBody, Problem


class _Marker:
    def __init__(self, name: str) -> None:
        self._name = name

    def __repr__(self) -> str:
        return self._name


MISSING: Final = _Marker("MISSING")  # a record without this key
INVALID: Final = _Marker("INVALID")  # a value whose problem is already in Payload.problems

NATIVE_KEYS = ("records", "columns")
MLFLOW_KEYS = ("dataframe_split", "dataframe_records", "instances", "inputs")


@dataclass(slots=True)
class Payload:
    """A request's data before validation, with the problems found while reading it."""

    named: dict[str, Any] | None = None  # name -> values (first axis: rows)
    unnamed: Any = None  # rows of one array (nested lists)
    problems: list[Problem] = field(default_factory=list)
    source: str = "body"  # the body field the data came from, for messages


def parse_json(body: bytes) -> Any:
    """The JSON document in ``body``, or MalformedBody (400) saying where it breaks."""
    if not body.strip():
        raise MalformedBody("the request body is empty; send a JSON object (see docs/serving.md)")
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise MalformedBody(f"the request body is not valid JSON: {exc}") from None


def native_payload(document: Any) -> Payload:
    """``{"records": [...]}`` or ``{"columns": {...}}``."""
    found = _one_key(document, NATIVE_KEYS)
    if isinstance(found, Payload):
        return found
    key, value = found
    if key == "records":
        return records_payload(value, "records")
    if not isinstance(value, Mapping):
        return _structure("columns", "an object of column name -> list of values", value)
    return Payload(named=dict(value), source="columns")


def mlflow_payload(document: Any) -> Payload:
    """One of MLflow's four scoring formats."""
    found = _one_key(document, MLFLOW_KEYS, allowed_extra=("params",))
    if isinstance(found, Payload):
        return found
    payload = _dispatch_mlflow(*found)
    if document.get("params"):  # a dict here: _one_key checked it
        payload.problems.append(
            Problem(
                "params", "no params (served models take none)", describe_value(document["params"])
            )
        )
    return payload


def _dispatch_mlflow(key: str, value: Any) -> Payload:
    if key == "dataframe_split":
        return split_payload(value)
    if key == "dataframe_records":
        return records_payload(value, key)
    if isinstance(value, list) and value and all(isinstance(row, Mapping) for row in value):
        return records_payload(value, key)
    if key == "inputs" and isinstance(value, Mapping):
        return Payload(named=dict(value), source=key)
    if isinstance(value, list):
        return Payload(unnamed=value, source=key)
    return _structure(key, "a list of rows, or an object of named inputs", value)


def records_payload(records: Any, source: str) -> Payload:
    """A list of ``{column: value}`` rows as columns; absent keys become :data:`MISSING`."""
    if not isinstance(records, list) or not records:
        return _structure(source, "a non-empty list of objects", records)
    bad = [index for index, row in enumerate(records) if not isinstance(row, Mapping)]
    if bad:
        return _structure(
            f"{source}[{bad[0]}]", "an object of column name -> value", records[bad[0]]
        )
    if len(records) == 1:
        return Payload(named={name: [value] for name, value in records[0].items()}, source=source)
    names: dict[str, None] = {}
    for row in records:
        names.update(dict.fromkeys(row))
    columns = {name: [row.get(name, MISSING) for row in records] for name in names}
    return Payload(named=columns, source=source)


def split_payload(split: Any) -> Payload:
    """pandas' ``split`` orientation: ``{"columns": [...], "data": [[...], ...]}``."""
    source = "dataframe_split"
    if not isinstance(split, Mapping):
        return _structure(source, 'an object {"columns": [...], "data": [[...], ...]}', split)
    data, columns = split.get("data"), split.get("columns")
    if not isinstance(data, list) or not data:
        return _structure(f"{source}.data", "a non-empty list of rows", data)
    if columns is None:
        return Payload(unnamed=data, source=source)
    problem = _split_problem(columns, data)
    if problem is not None:
        return problem
    named = {name: [row[index] for row in data] for index, name in enumerate(columns)}
    return Payload(named=named, source=source)


def _split_problem(columns: Any, data: list[Any]) -> Payload | None:
    """What is wrong with a split frame's column names or rows, if anything."""
    if not isinstance(columns, list) or not all(isinstance(name, str) for name in columns):
        return _structure("dataframe_split.columns", "a list of column names", columns)
    if len(set(columns)) != len(columns):
        repeated = sorted({name for name in columns if columns.count(name) > 1})
        return _structure("dataframe_split.columns", "distinct column names", repeated)
    width = len(columns)
    for index, row in enumerate(data):
        if not isinstance(row, list) or len(row) != width:
            return _structure(f"dataframe_split.data[{index}]", f"a list of {width} values", row)
    return None


def _one_key(
    document: Any, keys: tuple[str, ...], allowed_extra: tuple[str, ...] = ()
) -> tuple[str, Any] | Payload:
    shown = " or ".join(f'"{key}"' for key in keys)
    if not isinstance(document, Mapping):
        return _structure("body", f"a JSON object with {shown}", document)
    present = [key for key in keys if key in document]
    unknown = [key for key in document if key not in keys and key not in allowed_extra]
    if len(present) != 1 or unknown:
        got = f"keys {sorted(map(str, document))}" if document else "an empty object"
        return _structure("body", f"exactly one of {shown}", got, describe=False)
    return present[0], document[present[0]]


def _structure(where: str, expected: str, got: Any, *, describe: bool = True) -> Payload:
    shown = describe_value(got) if describe else str(got)
    return Payload(problems=[Problem(where, expected, shown)], source=where)


def describe_value(value: Any) -> str:
    """A short description of a JSON value for a problem's ``got``."""
    if value is None or isinstance(value, bool):
        return "null" if value is None else f"boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"number {value!r}"
    if isinstance(value, str):
        text = value if len(value) <= 40 else value[:37] + "..."
        return f"string {text!r}"
    if isinstance(value, list):
        return f"a list of {len(value)} item{'s' if len(value) != 1 else ''}"
    if isinstance(value, Mapping):
        return f"an object with keys {sorted(map(str, value))[:10]}"
    return type(value).__name__

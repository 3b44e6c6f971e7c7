"""Schemas as YAML files that people edit: loosen a range, add a category, allow nulls.

:func:`schema_to_yaml` writes one mapping per column under a header that explains the fields;
:func:`schema_from_yaml` reads it back and checks every field. Any mistake is an
``InvalidArgument`` naming the file, the line and the field, e.g.
``schema.yaml line 12, columns[3].type: 'flot' is not a type; expected one of …``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from noria.datasets.schema import ColumnSchema, DatasetSchema
from noria.domain.yaml_errors import yaml_syntax_error
from noria.errors import InvalidArgument, NotFound

_HEADER = """\
# Noria dataset schema. Edit it to say what new data may hold, then validate against it.
#
# row_count    the reference table's size; validation warns when new data is far from it
# columns      one entry per column, in table order:
#   name         the column's name (required)
#   type         integer | float | boolean | string | categorical | datetime | date | binary
#   nullable     true when the column may hold nulls
#   min, max     the allowed range of integer, float, datetime and date columns (inclusive);
#                numbers, or ISO 8601 text for dates ('2024-01-31T12:00:00', naive means UTC);
#                leave one out for no bound on that side
#   categories   the values a categorical column may take (quote values like 'yes' or '1')
#   unique       true when no value may appear twice
#   role         feature | label | id | timestamp (optional); id columns must be unique
#   description  free text for people
"""
_MAX_DEPTH = 16
_MAX_REPORTED = 10
FieldPath = tuple[str | int, ...]


class _FlowList(list[str]):
    """Categories print inline, ``[a, b, c]``: a domain reads best on one line."""


def schema_to_yaml(schema: DatasetSchema) -> str:
    """The schema as commented YAML, fields in a fixed order, defaults left out."""
    document: dict[str, Any] = {}
    if schema.row_count is not None:
        document["row_count"] = schema.row_count
    document["columns"] = [_column_fields(column) for column in schema.columns]
    body = yaml.dump(
        document,
        Dumper=_schema_dumper(),
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=100,
    )
    # A blank line before each column (a line starting "  - ") lets the eye find them.
    spaced = "".join(
        f"\n{line}" if line.startswith("  - ") else line for line in body.splitlines(True)
    )
    return _HEADER + spaced.replace("columns:\n\n", "columns:\n", 1)


def _column_fields(column: ColumnSchema) -> dict[str, Any]:
    fields: dict[str, Any] = {"name": column.name, "type": column.type, "nullable": column.nullable}
    for key in ("min", "max"):
        if getattr(column, key) is not None:
            fields[key] = getattr(column, key)
    if column.categories is not None:
        fields["categories"] = _FlowList(column.categories)
    if column.unique:
        fields["unique"] = True
    if column.role is not None:
        fields["role"] = column.role
    if column.description:
        fields["description"] = column.description
    return fields


def _schema_dumper() -> Any:
    def indented(self: Any, flow: bool = False, indentless: bool = False) -> Any:
        # PyYAML puts a mapping's list items flush with its keys; indenting them reads better.
        return yaml.SafeDumper.increase_indent(self, flow, False)

    dumper: Any = type("SchemaDumper", (yaml.SafeDumper,), {"increase_indent": indented})
    dumper.add_representer(
        _FlowList,
        lambda dump, values: dump.represent_sequence(
            "tag:yaml.org,2002:seq", list(values), flow_style=True
        ),
    )
    return dumper


def read_schema_file(path: str | Path) -> DatasetSchema:
    """The schema in a YAML file; errors name the file and line."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise NotFound(f"no schema file at {str(path)!r}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidArgument(f"cannot read the schema file {str(path)!r}: {exc}") from None
    return schema_from_yaml(text, source=str(path))


def schema_from_yaml(text: str, *, source: str = "schema.yaml") -> DatasetSchema:
    """Parse and check a schema written by :func:`schema_to_yaml` (and perhaps edited)."""
    data, lines = _load_with_lines(text, source)
    try:
        return DatasetSchema.model_validate(data)
    except ValidationError as exc:
        problems = [_describe(error, lines, source) for error in exc.errors()]
        if len(problems) > _MAX_REPORTED:
            problems = [*problems[:_MAX_REPORTED], f"… and {len(problems) - _MAX_REPORTED} more"]
        raise InvalidArgument("\n".join(problems)) from None


def _load_with_lines(text: str, source: str) -> tuple[Any, dict[FieldPath, int]]:
    """The document as plain data, and the line (1-based) where each field path starts."""
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            raise InvalidArgument(f"{source} is empty; expected a mapping with `columns:`")
        lines: dict[FieldPath, int] = {}
        return _plain(loader, root, (), lines, source), lines
    except yaml.YAMLError as exc:
        raise yaml_syntax_error(exc, source) from None
    finally:
        loader.dispose()


def _plain(
    loader: Any, node: Any, path: FieldPath, lines: dict[FieldPath, int], source: str
) -> Any:
    """Build Python data from YAML nodes, noting lines and refusing duplicate keys."""
    lines.setdefault(path, node.start_mark.line + 1)
    if len(path) > _MAX_DEPTH:
        raise InvalidArgument(f"{source} line {lines[path]}: the document nests too deeply")
    if isinstance(node, yaml.MappingNode):
        mapping: dict[str, Any] = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode):
                raise InvalidArgument(f"{source} line {line}, {_dotted(path)}: keys must be text")
            key = str(key_node.value)
            if key in mapping:
                where = _where(source, line, (*path, key))
                raise InvalidArgument(f"{where}: {key!r} is given twice; keep one")
            lines[(*path, key)] = line
            mapping[key] = _plain(loader, value_node, (*path, key), lines, source)
        return mapping
    if isinstance(node, yaml.SequenceNode):
        return [
            _plain(loader, item, (*path, index), lines, source)
            for index, item in enumerate(node.value)
        ]
    try:
        return loader.construct_object(node)
    except ValueError:  # an impossible date such as 2024-13-01
        where = _where(source, lines[path], path)
        raise InvalidArgument(f"{where}: {node.value!r} is not a valid date or time") from None


def _describe(error: Any, lines: dict[FieldPath, int], source: str) -> str:
    """One pydantic error as ``<file> line <n>, <field>: <what is wrong>``."""
    path: FieldPath = (*error["loc"], *error.get("ctx", {}).get("field", ()))
    kind, value = error["type"], error.get("input")
    if kind == "missing":
        path, message = path[:-1], f"missing required field {path[-1]!r}"
    elif kind == "extra_forbidden":
        model = ColumnSchema if path[:1] == ("columns",) and len(path) > 2 else DatasetSchema
        message = f"unknown field {path[-1]!r}; expected one of {', '.join(model.model_fields)}"
    elif kind.startswith("noria_"):
        message = error["msg"]
    else:
        message = _type_message(kind, value, error["msg"])
    line = next((lines[path[:end]] for end in range(len(path), -1, -1) if path[:end] in lines), 1)
    return f"{_where(source, line, path)}: {message}"


def _type_message(kind: str, value: object, fallback: str) -> str:
    shown = "an empty value" if value is None else repr(value)
    expected = {
        "string_type": "is not text; write it in quotes",
        "bool_type": "is not true or false",
        "int_type": "is not a whole number",
        "list_type": "is not a list",
        "model_type": "is not a mapping of fields (`key: value` lines)",
        "dict_type": "is not a mapping of fields (`key: value` lines)",
        "model_attributes_type": "is not a mapping of fields (`key: value` lines)",
    }
    if kind in expected:
        return f"{shown} {expected[kind]}"
    return f"{shown}: {fallback}"


def _where(source: str, line: int, path: FieldPath) -> str:
    return f"{source} line {line}, {_dotted(path)}" if path else f"{source} line {line}"


def _dotted(path: FieldPath) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text or "(top level)"

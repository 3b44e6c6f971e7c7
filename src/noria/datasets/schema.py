"""Dataset schemas: what each column may hold, inferred from a table and edited by people.

A :class:`DatasetSchema` lists one :class:`ColumnSchema` per column: its logical type, whether
nulls are allowed, the allowed range, the category domain, uniqueness and an optional role.
:func:`infer_schema` reads them off a reference table; ``noria.datasets.validation`` checks new
tables against them; ``noria.datasets.schema_yaml`` stores them as an editable YAML file.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import date, datetime
from numbers import Real
from typing import TYPE_CHECKING, Any, Literal, cast

from pydantic import BaseModel, ConfigDict, field_validator, model_validator
from pydantic_core import PydanticCustomError

from noria.datasets.arrow_types import (
    distinct_count,
    logical_type_of,
    to_arrow_table,
    without_dictionary,
)
from noria.errors import InvalidArgument, NotFound

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

LOGICAL_TYPES = (
    "integer",
    "float",
    "boolean",
    "string",
    "categorical",
    "datetime",
    "date",
    "binary",
)
ROLES = ("feature", "label", "id", "timestamp")
RANGED_TYPES = ("integer", "float", "datetime", "date")
# Uniqueness is inferred only where it is plausibly a rule: continuous floats and timestamps are
# often all distinct by accident, and a later batch repeating one is not a data error.
_UNIQUE_TYPES = ("integer", "string", "binary")
_ID_NAMES = ("id", "uuid", "guid")
_LABEL_NAMES = ("label", "target")
_TIMESTAMP_NAMES = ("timestamp", "event_timestamp", "event_time")
_ID_SUFFIX = re.compile(r"[_\-. ]id$", re.IGNORECASE)
_CAMEL_ID_SUFFIX = re.compile(r"[a-z0-9](Id|ID)$")

Role = Literal["feature", "label", "id", "timestamp"]
Bound = float | int | str | None


def _invalid(kind: str, message: str, *field: str | int) -> PydanticCustomError:
    """A validation error; ``field`` is its path below the model (the YAML reader wants lines)."""
    return PydanticCustomError(f"noria_{kind}", message, {"field": field})


class ColumnSchema(BaseModel):
    """What one column may hold. ``min``/``max`` are numbers, or ISO 8601 text for dates."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    name: str
    type: str
    nullable: bool = False
    min: Bound = None
    max: Bound = None
    categories: list[str] | None = None
    unique: bool = False
    role: Role | None = None
    description: str = ""

    @field_validator("type", mode="before")
    @classmethod
    def _known_type(cls, value: object) -> object:
        if isinstance(value, str) and value not in LOGICAL_TYPES:
            expected = ", ".join(LOGICAL_TYPES)
            raise _invalid("type", f"{value!r} is not a type; expected one of {expected}")
        return value

    @field_validator("role", mode="before")
    @classmethod
    def _known_role(cls, value: object) -> object:
        if value is not None and value not in ROLES:
            raise _invalid("role", f"{value!r} is not a role; expected one of {', '.join(ROLES)}")
        return value

    @field_validator("min", "max", mode="before")
    @classmethod
    def _bound_value(cls, value: object) -> object:
        if isinstance(value, datetime | date):  # YAML reads unquoted dates as date objects
            return value.isoformat()
        if isinstance(value, bool) or not isinstance(value, Real | str | None):
            raise _invalid("bound", f"{value!r} is not a bound; expected a number or ISO 8601 text")
        if isinstance(value, Real) and not isinstance(value, int | float):
            return float(value)  # numpy scalars
        return value

    @field_validator("categories", mode="before")
    @classmethod
    def _categories_are_text(cls, value: object) -> object:
        if not isinstance(value, list):
            return value
        seen: set[str] = set()
        for index, item in enumerate(value):
            if isinstance(item, bool):
                hint = "YAML reads yes/no/on/off/true/false unquoted as booleans; quote the value"
                raise _invalid("category", f"{item!r} is not text ({hint})", index)
            if not isinstance(item, str):
                raise _invalid(
                    "category", f"{item!r} is not text; write it in quotes: '{item}'", index
                )
            if item in seen:
                raise _invalid("category", f"{item!r} is listed twice", index)
            seen.add(item)
        return value

    @model_validator(mode="after")
    def _consistent(self) -> ColumnSchema:
        if self.categories is not None and self.type != "categorical":
            raise _invalid(
                "categories",
                f"categories apply only to categorical columns, not to type {self.type!r}; "
                "set `type: categorical` or remove `categories`",
                "categories",
            )
        bounds = {
            key: getattr(self, key) for key in ("min", "max") if getattr(self, key) is not None
        }
        if bounds and self.type not in RANGED_TYPES:
            key = next(iter(bounds))
            raise _invalid(
                "bound",
                f"{key} applies only to {', '.join(RANGED_TYPES)} columns, not to type "
                f"{self.type!r}; remove it",
                key,
            )
        parsed = {key: _parse_bound(self.type, key, value) for key, value in bounds.items()}
        if len(parsed) == 2 and parsed["min"] > parsed["max"]:
            raise _invalid("range", f"min {self.min!r} is greater than max {self.max!r}", "max")
        return self


def _parse_bound(logical_type: str, key: str, value: Any) -> Any:
    """The bound as a comparable value, checking it suits the column's type."""
    if logical_type in ("integer", "float"):
        if isinstance(value, str):
            raise _invalid(
                "bound", f"{value!r} is not a number; {logical_type} bounds are numbers", key
            )
        return value
    if not isinstance(value, str):
        raise _invalid(
            "bound", f"{value!r} is not a {logical_type}; write it as ISO 8601 text", key
        )
    try:
        if logical_type == "date":
            return date.fromisoformat(value)
        return parse_datetime_bound(value)
    except ValueError:
        example = "2024-01-31" if logical_type == "date" else "2024-01-31T12:00:00"
        raise _invalid(
            "bound", f"{value!r} is not an ISO 8601 {logical_type}, e.g. {example!r}", key
        ) from None


def parse_datetime_bound(text: str) -> pd.Timestamp:
    """A datetime bound as a UTC-naive pandas Timestamp (keeps nanoseconds; naive means UTC)."""
    import pandas as pd

    try:
        stamp = pd.Timestamp(text)
    except (ValueError, TypeError) as exc:
        raise ValueError(str(exc)) from None
    if pd.isna(stamp):
        raise ValueError(f"{text!r} is not a time")
    return stamp.tz_convert("UTC").tz_localize(None) if stamp.tzinfo else stamp


class DatasetSchema(BaseModel):
    """The columns a dataset holds, in order, and the reference row count."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    columns: list[ColumnSchema]
    row_count: int | None = None

    @field_validator("row_count")
    @classmethod
    def _not_negative(cls, value: int | None) -> int | None:
        if value is not None and value < 0:
            raise _invalid("row_count", f"{value} is negative; expected a row count of 0 or more")
        return value

    @model_validator(mode="after")
    def _distinct_names(self) -> DatasetSchema:
        first_index: dict[str, int] = {}
        for index, column in enumerate(self.columns):
            if column.name in first_index:
                raise _invalid(
                    "duplicate",
                    f"column {column.name!r} is listed twice "
                    f"(also columns[{first_index[column.name]}]); rename or remove one",
                    "columns",
                    index,
                    "name",
                )
            first_index[column.name] = index
        return self

    @property
    def names(self) -> list[str]:
        return [column.name for column in self.columns]

    def column(self, name: str) -> ColumnSchema:
        """The column called ``name``; NotFound lists the schema's columns."""
        for column in self.columns:
            if column.name == name:
                return column
        raise NotFound(
            f"no column {name!r} in the schema; its columns are: {', '.join(self.names)}"
        )


def infer_schema(
    table: pa.Table | pd.DataFrame,
    *,
    max_categories: int = 50,
    roles: Mapping[str, str] | None = None,
) -> DatasetSchema:
    """The schema a table satisfies: types, nulls, ranges, category domains, uniqueness, roles.

    >>> infer_schema(frame, roles={"churned": "label"}).column("age").max  # doctest: +SKIP
    97
    """
    if max_categories < 0:
        raise InvalidArgument(f"max_categories must be 0 or more, got {max_categories}")
    arrow = to_arrow_table(table)
    explicit = _checked_roles(roles or {}, arrow.column_names)
    columns = [
        _infer_column(name, arrow.column(name), max_categories, explicit.get(name))
        for name in arrow.column_names
    ]
    return DatasetSchema(columns=columns, row_count=arrow.num_rows)


def _checked_roles(roles: Mapping[str, str], names: list[str]) -> dict[str, Role]:
    for name, role in roles.items():
        if name not in names:
            raise InvalidArgument(
                f"roles names column {name!r}, which the table lacks; columns: {', '.join(names)}"
            )
        if role not in ROLES:
            raise InvalidArgument(
                f"roles[{name!r}]: {role!r} is not a role; expected one of {', '.join(ROLES)}"
            )
    return {name: cast("Role", role) for name, role in roles.items()}


def _infer_column(
    name: str, values: pa.ChunkedArray, max_categories: int, role: Role | None
) -> ColumnSchema:
    import pyarrow.compute as pc

    logical = logical_type_of(values.type)
    if logical is None:
        raise InvalidArgument(
            f"column {name!r} has Arrow type {values.type}, which schemas cannot describe; "
            f"cast it to one of {', '.join(LOGICAL_TYPES)}"
        )
    non_null = len(values) - values.null_count
    plain = without_dictionary(values)
    distinct = 0
    if logical in ("string", *_UNIQUE_TYPES) and non_null:
        distinct = distinct_count(plain)
    categories: list[str] | None = None
    if logical == "categorical":  # dictionary-encoded text: pandas `category`
        categories = _dictionary_domain(values)
    elif logical == "string" and 0 < distinct <= max_categories and distinct * 2 <= non_null:
        logical = "categorical"
        categories = sorted(pc.unique(plain.drop_null()).to_pylist())
    lowest, highest = _range(plain) if logical in RANGED_TYPES and non_null else (None, None)
    unique = logical in _UNIQUE_TYPES and non_null >= 2 and distinct == non_null
    nullable = values.null_count > 0
    return ColumnSchema(
        name=name,
        type=logical,
        nullable=nullable,
        min=lowest,
        max=highest,
        categories=categories,
        unique=unique,
        role=role or _guess_role(name, logical, unique=unique and not nullable),
    )


def _dictionary_domain(values: pa.ChunkedArray) -> list[str]:
    """Every declared category of a dictionary column (pandas ``category``), in declared order."""
    domain: dict[str, None] = {}
    for chunk in values.chunks:
        domain.update(dict.fromkeys(chunk.dictionary.to_pylist()))
    return [value for value in domain if value is not None]


def _range(values: pa.ChunkedArray) -> tuple[Bound, Bound]:
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_decimal(values.type):
        values = values.cast(pa.float64())
    extremes = pc.min_max(values)
    return _bound_of(extremes["min"].as_py()), _bound_of(extremes["max"].as_py())


def _bound_of(value: object) -> Bound:
    if isinstance(value, datetime | date):  # pandas Timestamps too: isoformat keeps nanoseconds
        return value.isoformat()
    if isinstance(value, float) and math.isnan(value):  # an all-NaN column has no range
        return None
    return cast("Bound", value)


def _guess_role(name: str, logical: str, *, unique: bool) -> Role | None:
    """A role only where the name leaves no doubt (and, for ids, the data agrees)."""
    lowered = name.lower()
    if lowered in _LABEL_NAMES:
        return "label"
    if lowered in _TIMESTAMP_NAMES and logical in ("datetime", "date"):
        return "timestamp"
    looks_like_id = lowered in _ID_NAMES or _ID_SUFFIX.search(name) or _CAMEL_ID_SUFFIX.search(name)
    if looks_like_id and unique:
        return "id"
    return None

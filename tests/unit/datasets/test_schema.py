"""Schema inference: types, nulls, ranges, category domains, uniqueness and roles."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from pydantic import ValidationError

from noria.datasets.schema import ColumnSchema, DatasetSchema, infer_schema
from noria.datasets.validation import validate_table
from noria.errors import InvalidArgument, NotFound


def mixed_frame() -> pd.DataFrame:
    """Strings, ints, floats, bools, datetimes, dates, bytes and nulls: one of each kind."""
    return pd.DataFrame(
        {
            "user_id": [10, 11, 12, 13, 14, 15],
            "age": [31, 45, 27, 60, 38, 45],
            "income": [52.5, None, 61.0, 48.25, 70.0, 39.5],
            "city": ["Paris", "Lyon", "Paris", "Lyon", "Paris", None],
            "comment": ["a", "b", "c", "d", "e", "f"],
            "active": [True, False, True, True, False, True],
            "plan": pd.Categorical(["free", "pro", "free", "free", "pro", "free"]),
            "signup": pd.to_datetime(
                ["2021-01-01", "2021-03-04", "2022-07-08", "2021-01-02", "2020-12-31", "2021-06-30"]
            ),
            "seen": pd.to_datetime(["2024-01-01T10:00:00"] * 5 + [None], utc=True),
            "birthday": [dt.date(1990, 1, d) for d in range(1, 7)],
            "blob": [b"\x00", b"\x01", None, b"\x02", b"\x03", b"\x04"],
            "target": [0, 1, 0, 1, 1, 0],
        }
    )


def test_infers_each_logical_type_and_nullability() -> None:
    schema = infer_schema(mixed_frame())

    types = {column.name: column.type for column in schema.columns}
    assert types == {
        "user_id": "integer",
        "age": "integer",
        "income": "float",
        "city": "categorical",
        "comment": "string",
        "active": "boolean",
        "plan": "categorical",
        "signup": "datetime",
        "seen": "datetime",
        "birthday": "date",
        "blob": "binary",
        "target": "integer",
    }
    nullable = {column.name for column in schema.columns if column.nullable}
    assert nullable == {"income", "city", "seen", "blob"}
    assert schema.row_count == 6


def test_infers_ranges_as_numbers_and_iso_text() -> None:
    schema = infer_schema(mixed_frame())

    assert (schema.column("age").min, schema.column("age").max) == (27, 60)
    assert (schema.column("income").min, schema.column("income").max) == (39.5, 70.0)
    assert schema.column("signup").min == "2020-12-31T00:00:00"
    assert schema.column("signup").max == "2022-07-08T00:00:00"
    assert schema.column("seen").min == "2024-01-01T10:00:00+00:00"
    assert (schema.column("birthday").min, schema.column("birthday").max) == (
        "1990-01-01",
        "1990-01-06",
    )
    assert schema.column("city").min is None
    assert schema.column("active").max is None


def test_keeps_nanoseconds_in_datetime_bounds() -> None:
    stamps = pd.to_datetime(["2024-01-01T00:00:00.000000001", "2024-01-01"], format="ISO8601")
    column = infer_schema(pd.DataFrame({"t": stamps.astype("datetime64[ns]")})).column("t")

    assert column.max == "2024-01-01T00:00:00.000000001"


def test_low_cardinality_strings_become_categorical_with_sorted_domain() -> None:
    schema = infer_schema(mixed_frame())

    assert schema.column("city").categories == ["Lyon", "Paris"]
    assert schema.column("plan").categories == ["free", "pro"]
    assert schema.column("comment").categories is None  # every value distinct: free text


def test_dictionary_encoded_numbers_keep_their_numeric_type() -> None:
    frame = pd.DataFrame({"grade": pd.Categorical([3, 1, 2, 3])})
    column = infer_schema(frame).column("grade")

    assert (column.type, column.min, column.max, column.categories) == ("integer", 1, 3, None)
    assert validate_table(frame, infer_schema(frame)).anomalies == []


def test_categorical_needs_few_distinct_values_both_absolutely_and_relatively() -> None:
    frame = pd.DataFrame({"code": [f"c{i % 4}" for i in range(40)]})

    assert infer_schema(frame).column("code").type == "categorical"
    assert infer_schema(frame, max_categories=3).column("code").type == "string"
    # 4 distinct values in 6 rows is not "small relative to the rows".
    assert infer_schema(frame.head(6)).column("code").type == "string"


def test_uniqueness_is_inferred_for_ids_not_for_continuous_values() -> None:
    schema = infer_schema(mixed_frame())

    assert schema.column("user_id").unique
    assert schema.column("comment").unique
    assert not schema.column("age").unique  # 45 appears twice
    assert not schema.column("income").unique  # floats: distinct by accident


@pytest.mark.parametrize(
    ("name", "values", "role"),
    [
        ("target", [0, 1, 0], "label"),
        ("Label", ["a", "b", "a"], "label"),
        ("user_id", [1, 2, 3], "id"),
        ("customerId", ["x", "y", "z"], "id"),
        ("id", [5, 6, 7], "id"),
        ("user_id", [1, 1, 2], None),  # a foreign key: repeats, so not the row's id
        ("paid", [1, 2, 3], None),
        ("width", [1.0, 2.0, 3.0], None),
    ],
)
def test_guesses_a_role_only_from_an_obvious_name(
    name: str, values: list[object], role: str | None
) -> None:
    assert infer_schema(pd.DataFrame({name: values})).column(name).role == role


def test_guesses_the_timestamp_role_only_for_time_columns() -> None:
    frame = pd.DataFrame(
        {"event_timestamp": pd.to_datetime(["2024-01-01", "2024-01-02"]), "timestamp": [1, 2]}
    )
    schema = infer_schema(frame)

    assert schema.column("event_timestamp").role == "timestamp"
    assert schema.column("timestamp").role is None


def test_explicit_roles_win() -> None:
    schema = infer_schema(mixed_frame(), roles={"target": "feature", "age": "label"})

    assert schema.column("target").role == "feature"
    assert schema.column("age").role == "label"
    assert schema.column("user_id").role == "id"


def test_rejects_roles_for_unknown_columns_or_unknown_roles() -> None:
    with pytest.raises(InvalidArgument, match=r"'agee'.*columns: user_id, age"):
        infer_schema(mixed_frame(), roles={"agee": "label"})
    with pytest.raises(InvalidArgument, match=r"'lable' is not a role; expected one of feature"):
        infer_schema(mixed_frame(), roles={"age": "lable"})


def test_infers_from_arrow_tables_the_same_as_from_pandas() -> None:
    frame = mixed_frame()

    assert infer_schema(pa.Table.from_pandas(frame)) == infer_schema(frame)


def test_empty_table_and_all_null_column() -> None:
    empty = infer_schema(pd.DataFrame({"x": pd.Series([], dtype="int64")}))
    assert empty.row_count == 0
    assert empty.column("x") == ColumnSchema(name="x", type="integer")

    nulls = infer_schema(pd.DataFrame({"x": [None, None]})).column("x")
    assert (nulls.type, nulls.nullable, nulls.min) == ("string", True, None)


def test_rejects_inputs_it_cannot_describe() -> None:
    with pytest.raises(InvalidArgument, match=r"Column 'm' mixes value types \(float, int, str\)"):
        infer_schema(pd.DataFrame({"m": [1, "a", 2.5]}))
    with pytest.raises(InvalidArgument, match=r"'tags' has Arrow type list<item: int64>"):
        infer_schema(pa.table({"tags": [[1, 2], [3]]}))
    with pytest.raises(InvalidArgument, match="Expected a pandas DataFrame or a pyarrow Table"):
        infer_schema([1, 2, 3])
    with pytest.raises(InvalidArgument, match="'a' appear more than once"):
        infer_schema(pa.table([[1], [2]], names=["a", "a"]))
    with pytest.raises(InvalidArgument, match="max_categories"):
        infer_schema(mixed_frame(), max_categories=-1)


def test_column_lookup_names_the_columns_when_missing() -> None:
    schema = infer_schema(pd.DataFrame({"a": [1], "b": [2]}))

    assert schema.column("b").name == "b"
    assert schema.names == ["a", "b"]
    with pytest.raises(NotFound, match=r"no column 'c' in the schema; its columns are: a, b"):
        schema.column("c")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"type": "flot"}, "'flot' is not a type; expected one of integer, float"),
        ({"type": "integer", "min": 3, "max": 1}, "min 3 is greater than max 1"),
        ({"type": "string", "categories": ["a"]}, "categories apply only to categorical"),
        ({"type": "string", "max": 4}, "max applies only to integer, float, datetime, date"),
        ({"type": "integer", "min": "3"}, "'3' is not a number"),
        ({"type": "datetime", "min": 3}, "3 is not a datetime; write it as ISO 8601 text"),
        ({"type": "date", "max": "2024-02-30"}, "'2024-02-30' is not an ISO 8601 date"),
        ({"type": "categorical", "categories": ["a", "a"]}, "'a' is listed twice"),
        ({"type": "integer", "role": "key"}, "'key' is not a role"),
        ({"type": "integer", "colour": "red"}, "Extra inputs are not permitted"),
    ],
)
def test_column_schema_rejects_inconsistent_fields(fields: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        ColumnSchema.model_validate({"name": "x", **fields})


def test_column_schema_normalises_bounds() -> None:
    column = ColumnSchema.model_validate(
        {"name": "x", "type": "float", "min": np.float64(0.5), "max": np.int64(3)}
    )

    assert (column.min, column.max) == (0.5, 3.0)
    stamp = ColumnSchema.model_validate(
        {"name": "t", "type": "datetime", "min": dt.datetime(2024, 1, 1, 12)}
    )
    assert stamp.min == "2024-01-01T12:00:00"


def test_dataset_schema_rejects_duplicate_names_and_negative_row_counts() -> None:
    column = ColumnSchema(name="a", type="integer")
    with pytest.raises(ValidationError, match=r"column 'a' is listed twice \(also columns\[0\]\)"):
        DatasetSchema(columns=[column, column])
    with pytest.raises(ValidationError, match="-1 is negative"):
        DatasetSchema(columns=[], row_count=-1)

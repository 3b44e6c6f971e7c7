"""Request bodies of every protocol checked against signatures, every problem listed."""

from __future__ import annotations

import base64
from typing import Any

import numpy as np
import pytest

from noria.models.signature import (
    ColumnSpec,
    ModelSignature,
    TableSchema,
    TensorSchema,
    TensorSpec,
)
from noria.serving.errors import InputRejected, MalformedBody
from noria.serving.model_input import UNNAMED, ModelInput
from noria.serving.payloads import mlflow_payload, native_payload, parse_json
from noria.serving.validation import validate

TABLE = ModelSignature(
    inputs=TableSchema(
        columns=(
            ColumnSpec(name="age", type="int64"),
            ColumnSpec(name="income", type="float64"),
            ColumnSpec(name="city", type="string"),
            ColumnSpec(name="note", type="string", optional=True),
            ColumnSpec(name="joined", type="datetime", optional=True),
        )
    )
)
MATRIX = ModelSignature(inputs=TensorSchema(tensors=(TensorSpec(dtype="float32", shape=(-1, 3)),)))
NAMED = ModelSignature(
    inputs=TensorSchema(
        tensors=(
            TensorSpec(name="image", dtype="float32", shape=(-1, 2, 2)),
            TensorSpec(name="scale", dtype="float64", shape=(-1,)),
        )
    )
)


def check(signature: ModelSignature | None, document: Any, *, mlflow: bool = False) -> ModelInput:
    payload = mlflow_payload(document) if mlflow else native_payload(document)
    return validate(signature, payload, model="m")


def problems_of(
    signature: ModelSignature | None, document: Any, **kwargs: Any
) -> list[dict[str, str]]:
    with pytest.raises(InputRejected) as caught:
        check(signature, document, **kwargs)
    assert caught.value.http_status == 422
    return [problem.as_json() for problem in caught.value.problems]


def test_records_become_typed_columns_with_optional_ones_filled() -> None:
    found = check(
        TABLE,
        {
            "records": [
                {"age": 31, "income": 52000, "city": "Oslo", "joined": "2024-03-01T10:00:00Z"},
                {"age": 45.0, "income": 1.5, "city": "Rome", "extra": "ignored"},
            ]
        },
    )
    assert found.kind == "table" and found.rows == 2
    assert list(found.arrays) == ["age", "income", "city", "note", "joined"]
    assert found.arrays["age"].dtype == np.int64 and found.arrays["age"].tolist() == [31, 45]
    assert found.arrays["income"].dtype == np.float64
    assert found.arrays["note"].tolist() == [None, None]
    assert str(found.arrays["joined"][0]) == "2024-03-01T10:00:00.000000000"
    assert np.isnat(found.arrays["joined"][1])
    frame = found.model_data()
    assert list(frame.columns) == ["age", "income", "city", "note", "joined"]


def test_columns_and_records_give_the_same_input() -> None:
    records = check(TABLE, {"records": [{"age": 1, "income": 2.0, "city": "Oslo"}]})
    columns = check(TABLE, {"columns": {"age": [1], "income": [2.0], "city": ["Oslo"]}})
    for name in ("age", "income", "city"):
        assert records.arrays[name].tolist() == columns.arrays[name].tolist()


def test_every_problem_is_listed_with_field_expected_and_got() -> None:
    found = problems_of(
        TABLE,
        {
            "records": [
                {"age": "31", "income": None, "joined": "not a date"},
                {"age": 2.5, "income": 1.0, "city": 7, "joined": "2024-01-01"},
            ]
        },
    )
    assert found == [
        {"field": "age", "expected": "int64", "got": "string '31' in row 0"},
        {"field": "income", "expected": "float64 values in every row", "got": "null in rows [0]"},
        {"field": "city", "expected": "string values in every row", "got": "missing in rows [0]"},
        {"field": "joined", "expected": "datetime (ISO 8601 text)",
         "got": "string 'not a date' in row 0"},
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("values", "got"),
    [
        ([1, 2.5], "number 2.5 in row 1"),
        ([True, "x"], "string 'x' in row 1"),
        ([[1], [2]], "a list of 1 item in row 0"),
        ([1, 2**70], "integers too large for 64 bits"),
    ],
)
def test_integer_columns_take_only_whole_numbers(values: list[Any], got: str) -> None:
    document = {"columns": {"age": values, "income": [1.0, 2.0], "city": ["a", "b"]}}
    assert problems_of(TABLE, document)[0]["got"] == got


def test_casts_follow_the_lossless_rules() -> None:
    small = ModelSignature(inputs=TableSchema(columns=(ColumnSpec(name="n", type="int8"),)))
    assert check(small, {"columns": {"n": [1.0, True, -128]}}).arrays["n"].tolist() == [1, 1, -128]
    assert problems_of(small, {"columns": {"n": [1, 300]}}) == [
        {"field": "n", "expected": "int8 (-128 to 127)", "got": "number 300 in row 1"}
    ]


def test_optional_columns_take_nulls_and_required_ones_do_not() -> None:
    found = check(TABLE, {"columns": {"age": [1, 2], "income": [1.0, 2.0], "city": ["a", "b"],
                                      "note": [None, "x"]}})  # fmt: skip
    assert found.arrays["note"].tolist() == [None, "x"]
    document = {"columns": {"age": [1, None], "income": [1.0, 2.0], "city": ["a", "b"]}}
    assert problems_of(TABLE, document)[0]["got"] == "null in rows [1]"


def test_columns_must_have_one_value_per_row() -> None:
    found = problems_of(TABLE, {"columns": {"age": [1, 2], "income": [1.0], "city": ["a", "b"]}})
    assert found == [
        {"field": "income", "expected": "2 values (one per row, like the first input)",
         "got": "1 values"}
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("document", "field", "expected"),
    [
        ([1, 2], "body", 'a JSON object with "records" or "columns"'),
        ({}, "body", 'exactly one of "records" or "columns"'),
        ({"records": [], "columns": {}}, "body", 'exactly one of "records" or "columns"'),
        ({"records": {"age": 1}}, "records", "a non-empty list of objects"),
        ({"records": [{"age": 1}, 5]}, "records[1]", "an object of column name -> value"),
        ({"columns": [1]}, "columns", "an object of column name -> list of values"),
    ],
)
def test_body_shape_problems(document: Any, field: str, expected: str) -> None:
    found = problems_of(TABLE, document)
    assert (found[0]["field"], found[0]["expected"]) == (field, expected)


def test_a_body_that_is_not_json_is_malformed() -> None:
    with pytest.raises(MalformedBody, match="not valid JSON"):
        parse_json(b"{'records': }")
    with pytest.raises(MalformedBody, match="empty"):
        parse_json(b"  ")


def test_mlflow_formats_all_reach_the_same_table() -> None:
    row = {"age": 3, "income": 4.5, "city": "Lima"}
    documents = [
        {"dataframe_split": {"columns": list(row), "data": [list(row.values())]}},
        {"dataframe_records": [row]},
        {"instances": [row]},
        {"inputs": {name: [value] for name, value in row.items()}},
    ]
    for document in documents:
        found = check(TABLE, document, mlflow=True)
        assert [found.arrays[name].tolist() for name in row] == [[3], [4.5], ["Lima"]]


def test_mlflow_body_problems() -> None:
    assert problems_of(TABLE, {"instances": [[1, 2.0, "a"]]}, mlflow=True)[0]["got"] == (
        "rows without names"
    )
    split = {"dataframe_split": {"columns": ["age", "age"], "data": [[1, 2]]}}
    assert problems_of(TABLE, split, mlflow=True)[0]["expected"] == "distinct column names"
    ragged = {"dataframe_split": {"columns": ["age", "city"], "data": [[1, "a"], [2]]}}
    assert problems_of(TABLE, ragged, mlflow=True)[0]["field"] == "dataframe_split.data[1]"
    with_params = {
        "dataframe_records": [{"age": 1, "income": 1.0, "city": "a"}],
        "params": {"k": 1},
    }
    assert problems_of(TABLE, with_params, mlflow=True)[0]["field"] == "params"


def test_a_matrix_model_takes_rows_of_numbers() -> None:
    found = check(MATRIX, {"instances": [[1, 2, 3], [4, 5, 6]]}, mlflow=True)
    assert found.kind == "tensor" and found.arrays[UNNAMED].dtype == np.float32
    assert found.model_data().shape == (2, 3)
    split = check(MATRIX, {"dataframe_split": {"data": [[1, 2, 3]]}}, mlflow=True)
    assert split.arrays[UNNAMED].tolist() == [[1.0, 2.0, 3.0]]


def test_a_matrix_model_stacks_named_columns_in_request_order() -> None:
    found = check(MATRIX, {"records": [{"c": 3, "a": 1, "b": 2}]})
    assert found.arrays[UNNAMED].tolist() == [[3.0, 1.0, 2.0]]


def test_matrix_problems() -> None:
    assert problems_of(MATRIX, {"instances": [[1, 2]]}, mlflow=True) == [
        {"field": "input", "expected": "float32 array of shape [any, 3]", "got": "shape [1, 2]"}
    ]
    assert problems_of(MATRIX, {"instances": [[1, 2, 3], [4, 5]]}, mlflow=True)[0]["got"] == (
        "rows of different lengths"
    )
    assert problems_of(MATRIX, {"inputs": [["a", "b", "c"]]}, mlflow=True)[0] == {
        "field": "input", "expected": "float32 values", "got": "string values",
    }  # fmt: skip


def test_named_tensors_report_each_missing_or_misshapen_one() -> None:
    good = {"inputs": {"image": [[[1, 2], [3, 4]]], "scale": [0.5]}}
    found = check(NAMED, good, mlflow=True)
    assert found.kind == "tensors" and found.model_data()["image"].shape == (1, 2, 2)
    assert problems_of(NAMED, {"inputs": {"image": [[1, 2]]}}, mlflow=True) == [
        {"field": "image", "expected": "float32 array of shape [any, 2, 2]", "got": "shape [1, 2]"},
        {"field": "scale", "expected": "float64 array of shape [any]", "got": "missing"},
    ]


def test_binary_and_category_columns() -> None:
    signature = ModelSignature(
        inputs=TableSchema(
            columns=(
                ColumnSpec(name="blob", type="binary"),
                ColumnSpec(name="kind", type="category"),
            )
        )
    )
    encoded = base64.b64encode(b"\x00\x01").decode()
    found = check(
        signature, {"records": [{"blob": encoded, "kind": "a"}, {"blob": encoded, "kind": 2}]}
    )
    assert found.arrays["blob"].tolist() == [b"\x00\x01", b"\x00\x01"]
    assert found.arrays["kind"].tolist() == ["a", 2]
    assert problems_of(signature, {"records": [{"blob": "%%", "kind": 1.5}]}) == [
        {"field": "blob", "expected": "binary (base64 text)", "got": "string '%%' in row 0"},
        {"field": "kind", "expected": "category (text or integers)", "got": "number 1.5 in row 0"},
    ]


def test_a_model_without_signature_takes_what_comes() -> None:
    table = check(None, {"records": [{"a": 1, "b": "x"}, {"a": 2, "b": "y"}]})
    assert table.kind == "table" and table.arrays["a"].tolist() == [1, 2]
    matrix = check(None, {"instances": [[1, 2], [3, 4]]}, mlflow=True)
    assert matrix.kind == "tensor" and matrix.rows == 2


def test_row_dicts_give_plain_values_for_the_log() -> None:
    found = check(
        TABLE, {"records": [{"age": 1, "income": 2.0, "city": "a", "joined": "2024-01-02"}]}
    )
    row = found.row_dicts()[0]
    assert row["age"] == 1 and row["city"] == "a" and row["note"] is None
    assert row["joined"].isoformat() == "2024-01-02T00:00:00"


FLOATS = ModelSignature(
    inputs=TableSchema(
        columns=(
            ColumnSpec(name="a", type="float64"),
            ColumnSpec(name="b", type="float32"),
            ColumnSpec(name="c", type="float64", optional=True),
        )
    )
)


def test_an_all_float_table_is_read_in_one_step_with_the_same_result() -> None:
    found = check(FLOATS, {"records": [{"a": 1, "b": 2.5, "c": True}, {"a": 3.0, "b": 4, "c": 0}]})
    assert [(name, array.dtype.name) for name, array in found.arrays.items()] == [
        ("a", "float64"), ("b", "float32"), ("c", "float64"),
    ]  # fmt: skip
    assert [array.tolist() for array in found.arrays.values()] == [[1, 3], [2.5, 4], [1, 0]]
    columns = check(FLOATS, {"columns": {"a": [1, 3.0], "b": [2.5, 4], "c": [True, 0]}})
    assert {k: v.tolist() for k, v in columns.arrays.items()} == {
        k: v.tolist() for k, v in found.arrays.items()
    }


@pytest.mark.parametrize(
    ("document", "field", "got"),
    [
        ({"records": [{"a": 1.0, "b": "x", "c": 1.0}]}, "b", "string 'x' in row 0"),
        ({"records": [{"a": 1.0, "c": 1.0}]}, "b", "missing"),
        ({"records": [{"a": None, "b": 1.0, "c": 1.0}]}, "a", "null in rows [0]"),
        ({"columns": {"a": [1.0], "b": [[1.0]], "c": [1.0]}}, "b", "a list of 1 item in row 0"),
        ({"columns": {"x": [1, 2], "a": [1.0], "b": [1.0], "c": [1.0]}}, "a", "1 values"),
    ],
)
def test_an_all_float_table_still_names_each_problem(
    document: dict[str, Any], field: str, got: str
) -> None:
    found = problems_of(FLOATS, document)
    assert (found[0]["field"], found[0]["got"]) == (field, got)
    assert np.isnan(check(FLOATS, {"records": [{"a": 1.0, "b": 2.0, "c": None}]}).arrays["c"][0])

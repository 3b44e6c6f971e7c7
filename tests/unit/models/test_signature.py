"""Signatures: inference from examples, and enforcement at predict (missing, extra, casts)."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd
import pytest

from noria.errors import InvalidArgument
from noria.models.signature import (
    ColumnSpec,
    ModelSignature,
    SignatureWarning,
    TableSchema,
    TensorSchema,
    TensorSpec,
    enforce_schema,
    infer_schema,
    infer_signature,
)


def _table(**columns: str) -> TableSchema:
    return TableSchema(columns=tuple(ColumnSpec(name=n, type=t) for n, t in columns.items()))


def test_dataframe_infers_named_typed_columns_and_nullability() -> None:
    frame = pd.DataFrame(
        {
            "age": [31, 45],
            "height": [1.8, np.nan],
            "city": ["Oslo", "Rome"],
            "member": [True, False],
            "plan": pd.Categorical(["a", "b"]),
            "joined": pd.to_datetime(["2024-01-01", "2024-02-01"]),
            "score": pd.array([1, None], dtype="Int64"),
            "raw": [b"\x00", b"\x01"],
        }
    )

    schema = infer_schema(frame)

    assert isinstance(schema, TableSchema)
    assert [(c.name, c.type, c.optional) for c in schema.columns] == [
        ("age", "int64", False),
        ("height", "float64", True),
        ("city", "string", False),
        ("member", "bool", False),
        ("plan", "category", False),
        ("joined", "datetime", False),
        ("score", "float64", True),
        ("raw", "binary", False),
    ]


def test_array_infers_dtype_and_shape_with_a_free_batch_dimension() -> None:
    schema = infer_schema(np.zeros((5, 3, 2), dtype=np.float32))

    assert schema == TensorSchema(tensors=(TensorSpec(dtype="float32", shape=(-1, 3, 2)),))


def test_dict_of_arrays_infers_named_tensors() -> None:
    schema = infer_schema({"ids": np.arange(4), "mask": np.ones((4, 7), dtype=bool)})

    assert schema == TensorSchema(
        tensors=(
            TensorSpec(name="ids", dtype="int64", shape=(-1,)),
            TensorSpec(name="mask", dtype="bool", shape=(-1, 7)),
        )
    )


def test_optional_columns_can_be_declared_and_must_exist() -> None:
    frame = pd.DataFrame({"a": [1.0], "b": [2.0]})

    signature = infer_signature(frame, optional=["b"])

    assert isinstance(signature.inputs, TableSchema)
    assert [c.optional for c in signature.inputs.columns] == [False, True]
    with pytest.raises(InvalidArgument, match=r"lacks: \['zzz'\]"):
        infer_signature(frame, optional=["zzz"])


def test_signature_records_outputs_when_given() -> None:
    signature = infer_signature(np.ones((2, 2)), np.array(["x", "y"], dtype=object))

    assert signature.outputs == TensorSchema(tensors=(TensorSpec(dtype="string", shape=(-1,)),))


def test_unnamed_or_mixed_columns_are_refused_with_the_reason() -> None:
    with pytest.raises(InvalidArgument, match="column names must be text; got 0"):
        infer_schema(pd.DataFrame(np.ones((2, 2))))
    with pytest.raises(InvalidArgument, match="column 'x' holds values of mixed"):
        infer_schema(pd.DataFrame({"x": [1, "a"]}))
    with pytest.raises(InvalidArgument, match="single value"):
        infer_schema(np.array(3.0))
    with pytest.raises(InvalidArgument, match="must be an array, a tensor, a DataFrame"):
        infer_schema(3.0)


def test_missing_column_is_an_error_naming_it() -> None:
    schema = _table(a="float64", b="float64", c="float64")

    with pytest.raises(InvalidArgument, match=re.escape("missing column(s) ['b', 'c']")):
        enforce_schema(schema, pd.DataFrame({"a": [1.0]}))


def test_extra_columns_are_dropped_with_a_warning_naming_them() -> None:
    schema = _table(a="float64", b="float64")
    frame = pd.DataFrame({"zz": [0], "b": [2.0], "a": [1.0]})

    with pytest.warns(SignatureWarning, match=re.escape("['zz']")):
        fitted = enforce_schema(schema, frame)

    assert list(fitted.columns) == ["a", "b"]  # also put in the signature's order


def test_safe_casts_are_made() -> None:
    schema = _table(x="float64", flag="int64", small="int32", whole="int64", f32="float32")
    frame = pd.DataFrame(
        {
            "x": [1, 2],  # int → float
            "flag": [True, False],  # bool → int
            "small": np.array([1, 2], dtype=np.int64),  # int64 that fits int32
            "whole": [3.0, 4.0],  # whole floats → int
            "f32": [0.5, 0.25],  # float64 → float32
        }
    )

    fitted = enforce_schema(schema, frame)

    assert [str(t) for t in fitted.dtypes] == ["float64", "int64", "int32", "int64", "float32"]
    assert fitted["whole"].tolist() == [3, 4]


@pytest.mark.parametrize(
    ("expected", "values", "message"),
    [
        (
            "float64",
            ["1.5", "abc"],
            "column 'v' expects float64 values but holds string (e.g. '1.5')",
        ),
        (
            "int64",
            [1.0, 2.5],
            "column 'v' expects int64 values but holds 2.5, which is not a whole",
        ),
        ("int64", [1.0, np.nan], "column 'v' expects int64 values but holds missing values"),
        ("int8", [1, 300], "holds 300, which does not fit in int8"),
        ("uint8", [-1, 3], "holds -1, which does not fit in uint8"),
        ("string", [1, 2], "column 'v' expects string values but holds int64 (e.g. 1)"),
        ("bool", [0, 1], "column 'v' expects bool values but holds int64"),
        ("datetime", ["2024-01-01"], "expects datetime values but holds string"),
    ],
)
def test_unsafe_casts_are_refused_naming_column_and_value(
    expected: str, values: list[object], message: str
) -> None:
    with pytest.raises(InvalidArgument, match=re.escape(message)):
        enforce_schema(_table(v=expected), pd.DataFrame({"v": values}))


def test_optional_column_may_be_left_out_or_hold_nulls() -> None:
    schema = TableSchema(
        columns=(
            ColumnSpec(name="a", type="float64"),
            ColumnSpec(name="n", type="int64", optional=True),
            ColumnSpec(name="s", type="string", optional=True),
        )
    )

    left_out = enforce_schema(schema, pd.DataFrame({"a": [1.0, 2.0]}))
    with_nulls = enforce_schema(schema, pd.DataFrame({"a": [1.0], "n": [np.nan], "s": [None]}))

    assert left_out["n"].isna().all() and left_out["s"].isna().all()
    assert with_nulls["n"].isna().all()


def test_records_and_dicts_are_accepted_as_tables() -> None:
    schema = _table(a="float64", b="string")

    from_records = enforce_schema(schema, [{"a": 1, "b": "x"}, {"a": 2, "b": "y"}])
    from_row = enforce_schema(schema, {"a": 1.5, "b": "z"})

    assert from_records["a"].tolist() == [1.0, 2.0]
    assert from_row.shape == (1, 2)
    with pytest.raises(InvalidArgument, match="expects a table with columns"):
        enforce_schema(schema, np.ones((2, 2)))


def test_category_columns_accept_text() -> None:
    fitted = enforce_schema(_table(c="category"), pd.DataFrame({"c": ["a", "b"]}))

    assert isinstance(fitted["c"].dtype, pd.CategoricalDtype)


def test_tensor_shape_and_dtype_are_checked() -> None:
    schema = infer_schema(np.zeros((2, 4), dtype=np.float32))

    assert enforce_schema(schema, np.ones((7, 4))).dtype == np.float32  # float64 → float32
    assert enforce_schema(schema, [[1, 2, 3, 4]]).dtype == np.float32  # lists, int → float
    with pytest.raises(InvalidArgument, match=re.escape("has shape (3, 5); the model expects")):
        enforce_schema(schema, np.ones((3, 5)))
    with pytest.raises(InvalidArgument, match="expects float32 values but holds string"):
        enforce_schema(schema, np.array([["a"] * 4], dtype=object))


def test_named_tensors_missing_and_extra() -> None:
    schema = infer_schema({"a": np.zeros((2, 2)), "b": np.zeros(2, dtype=np.int64)})

    with pytest.raises(InvalidArgument, match=re.escape("missing input(s) ['b']")):
        enforce_schema(schema, {"a": np.zeros((1, 2))})
    with pytest.warns(SignatureWarning, match=re.escape("['c']")):
        fitted = enforce_schema(schema, {"a": np.zeros((1, 2)), "b": [1], "c": 0})
    assert set(fitted) == {"a", "b"}


def test_matching_data_passes_without_warnings() -> None:
    frame = pd.DataFrame({"a": [1.0], "b": ["x"]})
    schema = infer_schema(frame)

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fitted = enforce_schema(schema, frame)

    pd.testing.assert_frame_equal(fitted, frame)


def test_signature_round_trips_through_json() -> None:
    signature = infer_signature(pd.DataFrame({"a": [1.0, None]}), np.zeros(2))

    assert ModelSignature.model_validate_json(signature.model_dump_json()) == signature

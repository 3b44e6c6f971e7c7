"""Open Inference Protocol requests (JSON and binary tensors), answers and metadata."""

from __future__ import annotations

import json
import struct
from typing import Any

import numpy as np
import pytest

from noria.errors import InvalidArgument
from noria.models.signature import ColumnSpec, ModelSignature, TableSchema, TensorSchema, TensorSpec
from noria.serving.errors import Problem
from noria.serving.open_inference import parse_infer_request
from noria.serving.open_inference_answers import (
    check_requested_outputs,
    model_metadata,
    output_tensors,
)
from noria.serving.predictions import Predictions
from noria.serving.validation import validate

TABLE = ModelSignature(
    inputs=TableSchema(
        columns=(ColumnSpec(name="age", type="int64"), ColumnSpec(name="city", type="string"))
    ),
    outputs=TensorSchema(tensors=(TensorSpec(dtype="int64", shape=(-1,)),)),
)


def body(*inputs: dict[str, Any], **extra: Any) -> bytes:
    return json.dumps({"inputs": list(inputs), **extra}).encode()


def test_json_tensors_become_columns_of_a_table_model() -> None:
    request = parse_infer_request(
        body(
            {"name": "age", "shape": [2, 1], "datatype": "INT32", "data": [31, 45]},
            {"name": "city", "shape": [2], "datatype": "BYTES", "data": ["Oslo", "Rome"]},
            id="req-1",
        ),
        None,
    )
    assert request.id == "req-1" and not request.payload.problems
    found = validate(TABLE, request.payload, model="m")
    assert found.arrays["age"].tolist() == [31, 45] and found.arrays["age"].dtype == np.int64
    assert found.arrays["city"].tolist() == ["Oslo", "Rome"]


def test_every_tensor_problem_is_collected() -> None:
    request = parse_infer_request(
        body(
            {"name": "age", "shape": [3], "datatype": "INT64", "data": [1, 2]},
            {"name": "city", "shape": [1], "datatype": "STRING", "data": ["x"]},
            {"name": "weight", "shape": [1], "datatype": "INT64", "data": [1.5]},
            {"shape": [1]},
        ),
        None,
    )
    fields = [problem.field for problem in request.payload.problems]
    assert fields == ["age", "city", "weight", "inputs[3]"]
    assert request.payload.problems[0].expected == "3 values for shape [3]"
    assert request.payload.problems[2].got == "values that do not fit it without loss"


def test_binary_tensors_follow_the_json_header() -> None:
    header = json.dumps(
        {
            "inputs": [
                {
                    "name": "age",
                    "shape": [2],
                    "datatype": "INT64",
                    "parameters": {"binary_data_size": 16},
                },
                {
                    "name": "city",
                    "shape": [2],
                    "datatype": "BYTES",
                    "parameters": {"binary_data_size": 16},
                },
            ]
        }
    ).encode()
    ages = np.array([31, 45], dtype="<i8").tobytes()
    cities = b"".join(struct.pack("<I", len(word)) + word for word in (b"Oslo", b"Rome"))
    request = parse_infer_request(header + ages + cities, str(len(header)))
    assert not request.payload.problems
    found = validate(TABLE, request.payload, model="m")
    assert found.arrays["age"].tolist() == [31, 45]
    assert found.arrays["city"].tolist() == ["Oslo", "Rome"]
    short = header.replace(b'"binary_data_size": 16}}]', b'"binary_data_size": 14}}]')
    broken = parse_infer_request(short + ages + cities[:14], str(len(short)))
    assert broken.payload.problems[0].got == "an element cut short at byte 8"


def test_a_bad_header_length_is_refused() -> None:
    with pytest.raises(InvalidArgument, match="Inference-Header-Content-Length"):
        parse_infer_request(b"{}", "99")


def test_requested_outputs_must_exist() -> None:
    problems: list[Problem] = []
    check_requested_outputs(("predictions", "proba"), TABLE, problems)
    assert problems == [Problem("outputs[1]", "one of ['predictions']", "'proba'")]


def test_outputs_are_tensors_with_v2_datatypes() -> None:
    predictions = Predictions.from_model(np.array([[0.1, 0.9], [0.8, 0.2]], dtype="float32"), 2)
    assert output_tensors(predictions, ()) == [
        {"name": "predictions", "datatype": "FP32", "shape": [2, 2],
         "data": pytest.approx([0.1, 0.9, 0.8, 0.2])}
    ]  # fmt: skip
    labels = Predictions.from_model(np.array(["yes", "no"], dtype=object), 2)
    assert output_tensors(labels, ())[0]["datatype"] == "BYTES"


def test_metadata_describes_inputs_and_outputs() -> None:
    assert model_metadata("credit", 3, "sklearn", TABLE) == {
        "name": "credit",
        "versions": ["3"],
        "platform": "noria-sklearn",
        "inputs": [
            {"name": "age", "datatype": "INT64", "shape": [-1]},
            {"name": "city", "datatype": "BYTES", "shape": [-1]},
        ],
        "outputs": [{"name": "predictions", "datatype": "INT64", "shape": [-1]}],
    }

"""ONNX round trips: a skl2onnx conversion saved as a ModelProto and as a .onnx file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime
import pytest
from skl2onnx import to_onnx
from sklearn.datasets import load_diabetes, load_iris
from sklearn.linear_model import LinearRegression, LogisticRegression

from noria.errors import InvalidArgument, NotFound
from noria.models.format import load_model, save_model

# onnxruntime computes in float32 where scikit-learn used float64.
TOLERANCE = {"rtol": 1e-4, "atol": 1e-5}


@pytest.fixture(scope="module")
def iris_classifier() -> tuple[Any, Any, np.ndarray]:
    features, target = load_iris(return_X_y=True)
    features = features.astype(np.float32)
    model = LogisticRegression(max_iter=300).fit(features, target)
    proto = to_onnx(model, features[:1], options={"zipmap": False})
    return model, proto, features


def test_classifier_proto_round_trip(tmp_path: Path, iris_classifier: tuple[Any, Any, Any]) -> None:
    model, proto, features = iris_classifier

    manifest = save_model(proto, tmp_path / "m", input_example=features[:3])
    loaded = load_model(tmp_path / "m")

    assert manifest.flavor == "onnx"
    assert isinstance(loaded.raw, onnxruntime.InferenceSession)
    outputs = loaded.predict(features)
    assert set(outputs) == {"label", "probabilities"}
    np.testing.assert_array_equal(outputs["label"], model.predict(features))
    np.testing.assert_allclose(
        loaded.predict_proba(features), model.predict_proba(features), **TOLERANCE
    )
    # float64 rows are cast to the graph's float32 input.
    np.testing.assert_array_equal(
        loaded.predict(features.astype(np.float64))["label"], model.predict(features)
    )


def test_zipmap_probabilities_come_back_as_an_array(
    tmp_path: Path, iris_classifier: tuple[Any, Any, Any]
) -> None:
    model, _, features = iris_classifier
    proto = to_onnx(model, features[:1])  # ZipMap: one {label: probability} dict per row

    save_model(proto, tmp_path / "m", input_example=features[:3])

    np.testing.assert_allclose(
        load_model(tmp_path / "m").predict_proba(features),
        model.predict_proba(features),
        **TOLERANCE,
    )


def test_regressor_from_a_file_path(tmp_path: Path) -> None:
    features, target = load_diabetes(return_X_y=True)
    features = features.astype(np.float32)
    model = LinearRegression().fit(features, target)
    source = tmp_path / "regressor.onnx"
    source.write_bytes(to_onnx(model, features[:1]).SerializeToString())

    save_model(source, tmp_path / "m", input_example=features[:3])
    loaded = load_model(tmp_path / "m")

    np.testing.assert_allclose(
        loaded.predict(features).ravel(), model.predict(features), **TOLERANCE
    )


def test_bad_onnx_paths_are_named(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="no ONNX file at"):
        save_model(tmp_path / "missing.onnx", tmp_path / "a")
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"not a protobuf")
    with pytest.raises(InvalidArgument, match="is not a readable ONNX model"):
        save_model(junk, tmp_path / "b")

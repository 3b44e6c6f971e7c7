"""Validated rows as the model sees them: one numeric block or mixed columns, labelled."""

from __future__ import annotations

import numpy as np
import pandas as pd

from noria.serving.model_input import ModelInput


def test_a_numeric_table_reaches_the_model_as_one_labelled_block() -> None:
    rows = ModelInput("table", {"b": np.array([1.0, 2.0]), "a": np.array([3.0, 4.0])}, 2)
    frame = rows.model_data()
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.columns) == ["b", "a"]  # the signature's order, not sorted
    assert frame.to_numpy().tolist() == [[1.0, 3.0], [2.0, 4.0]]


def test_each_frame_has_its_own_labels_though_they_are_built_once() -> None:
    rows = ModelInput("table", {"x": np.array([1.0]), "y": np.array([2.0])}, 1)
    first = rows.model_data()
    first.columns.name = "renamed by a model"  # a model may touch its input's labels
    second = rows.model_data()
    assert second.columns.name is None and list(second.columns) == ["x", "y"]


def test_mixed_columns_keep_their_types() -> None:
    rows = ModelInput("table", {"n": np.array([1, 2]), "s": np.array(["a", "b"], dtype=object)}, 2)
    frame = rows.model_data()
    assert frame["n"].tolist() == [1, 2] and frame["s"].tolist() == ["a", "b"]

"""Step values through the artifact store: the right serialiser for each type."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from noria.client import Client, connect
from noria.domain.pipelines import OutputRef
from noria.errors import InvalidArgument
from noria.models.format import LoadedModel, load_model, save_model
from noria.pipelines.values import load_value, store_value
from noria.pipelines.worker import decode_context
from noria.settings import Settings


@pytest.fixture
def client(settings: Settings) -> Iterator[Client]:
    with connect(settings) as opened:
        yield opened


def round_trip(client: Client, value: Any) -> tuple[OutputRef, Any, list[str]]:
    ref, warnings = store_value(value, "output", client.artifacts, step="make")
    return ref, load_value(ref, client.artifacts, decode_context(client)), warnings


class Opaque:
    def __init__(self, n: int) -> None:
        self.n = n


def test_dataframes_series_and_arrays_keep_their_types(client: Client) -> None:
    frame = pd.DataFrame({"a": [1, 2], "b": ["x", None]}, index=[10, 20])
    ref, back, warnings = round_trip(client, frame)
    assert (ref.serializer, ref.python_type) == ("parquet", "pandas.DataFrame")
    pd.testing.assert_frame_equal(back, frame)
    series = pd.Series([1.5, 2.5], name="score")
    ref, back, _ = round_trip(client, series)
    assert ref.serializer == "parquet-series"
    pd.testing.assert_series_equal(back, series)
    array = np.arange(6, dtype=np.float32).reshape(2, 3)
    ref, back, _ = round_trip(client, array)
    assert (ref.serializer, ref.media_type) == ("npy", "application/x-npy")
    np.testing.assert_array_equal(back, array)
    assert back.dtype == np.float32 and warnings == []


def test_json_values_are_json_and_equal_values_share_a_digest(client: Client) -> None:
    value = {"auc": 0.91, "classes": ["a", "b"], "nan": float("nan"), "none": None}
    ref, back, _ = round_trip(client, value)
    assert ref.serializer == "json"
    assert back["classes"] == ["a", "b"] and np.isnan(back["nan"])
    again, _ = store_value(
        {"auc": 0.91, "classes": ["a", "b"], "nan": float("nan"), "none": None},
        "x",
        client.artifacts,
        step="s",
    )
    assert again.digest == ref.digest


def test_models_use_the_model_format(client: Client) -> None:
    model = LogisticRegression().fit([[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1])
    ref, back, warnings = round_trip(client, model)
    assert (ref.serializer, warnings) == ("model", [])
    assert isinstance(back, LogisticRegression)
    assert back.predict([[3.0]]).tolist() == [1]


def test_a_loaded_model_comes_back_loaded(client: Client, tmp_path: Any) -> None:
    model = LogisticRegression().fit([[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1])
    save_model(model, tmp_path / "m")
    ref, back, _ = round_trip(client, load_model(tmp_path / "m"))
    assert ref.serializer == "model" and isinstance(back, LoadedModel)


def test_dataset_versions_travel_by_reference(client: Client, tmp_path: Any) -> None:
    version, _ = client.datasets.ingest(pd.DataFrame({"x": [1, 2, 3]}), name="tiny")
    ref, back, _ = round_trip(client, version)
    assert (ref.serializer, ref.refers_to) == ("dataset", "datasets:/tiny/1")
    assert back == version
    assert ref.size < 200  # the reference, not the rows


def test_anything_else_is_pickled_with_a_warning(client: Client) -> None:
    ref, back, warnings = round_trip(client, Opaque(3))
    assert ref.serializer == "pickle" and back.n == 3
    assert (
        len(warnings) == 1 and "was stored with pickle: no typed serialiser fits it" in warnings[0]
    )
    objects = pd.DataFrame({"thing": [Opaque(1), Opaque(2)]})
    ref, back, warnings = round_trip(client, objects)
    assert ref.serializer == "pickle"
    assert "the parquet serialiser failed (Arrow" in warnings[0]
    assert [thing.n for thing in back["thing"]] == [1, 2]


def test_what_pickle_cannot_store_fails_clearly(client: Client) -> None:
    with pytest.raises(InvalidArgument) as raised:
        store_value(lambda x: x, "output", client.artifacts, step="make")
    message = raised.value.message
    assert message.startswith("Step 'make' output 'output' of type builtins.function cannot be")
    assert "pickle failed" in message and "\n" not in message

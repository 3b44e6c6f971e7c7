"""log_model → register_model → set_alias → load_model, embedded and through a server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

import noria
from noria.client import Client, connect
from noria.errors import InvalidArgument
from noria.settings import Settings
from tests.conftest import RunningServer


@pytest.fixture
def default_client(settings: Settings) -> Iterator[Client]:
    with connect(settings) as client:
        previous = noria.set_default_client(client)
        try:
            yield client
        finally:
            noria.set_default_client(previous)


def train_and_log(registered_model_name: str | None = None) -> tuple[str, LogisticRegression]:
    frame = load_iris(as_frame=True).frame
    features, label = frame.drop(columns=["target"]), frame["target"]
    model = LogisticRegression(max_iter=500).fit(features, label)
    with noria.start_run(experiment="iris"):
        noria.log_metric("accuracy", float(model.score(features, label)))
        uri = noria.log_model(
            model, "model", input_example=features.head(5),
            registered_model_name=registered_model_name,
        )  # fmt: skip
    return uri, model


def test_log_register_alias_load(default_client: Client) -> None:
    uri, model = train_and_log()
    assert uri.startswith("runs:/") and uri.endswith("/model")
    version = noria.register_model(uri, "iris-clf")
    assert version.uri == "models:/iris-clf/1" and "accuracy" in version.metrics
    assert '"sepal length (cm)"' in version.signature_json
    noria.set_alias("iris-clf", "champion", version.version)
    features = load_iris(as_frame=True).frame.drop(columns=["target"])
    expected = model.predict_proba(features)
    for source in (uri, "models:/iris-clf/1", "models:/iris-clf@champion"):
        loaded = noria.load_model(source)
        np.testing.assert_array_equal(loaded.predict_proba(features), expected)
    with pytest.raises(InvalidArgument, match="missing"):
        noria.load_model("models:/iris-clf@champion").predict(
            features.drop(columns=["petal width (cm)"])
        )


def test_log_model_registers_when_asked(default_client: Client) -> None:
    train_and_log(registered_model_name="iris-auto")
    assert default_client.registry.get_model("iris-auto").latest_version == 1


def test_log_model_needs_a_run(default_client: Client) -> None:
    with pytest.raises(InvalidArgument, match="needs an active run"):
        noria.log_model(LogisticRegression(), "model")


@pytest.mark.slow
def test_through_a_live_server(noria_server: RunningServer, tmp_path: Path) -> None:
    settings = Settings(store_uri=noria_server.url, home=tmp_path / "client", user="remote")
    with connect(settings) as client:
        previous = noria.set_default_client(client)
        try:
            _, model = train_and_log(registered_model_name="iris-remote")
            loaded = noria.load_model("models:/iris-remote@latest")
        finally:
            noria.set_default_client(previous)
    features = load_iris(as_frame=True).frame.drop(columns=["target"])
    np.testing.assert_array_equal(loaded.predict(features), model.predict(features))

"""Model specs, served names and the serving configuration's checks."""

from __future__ import annotations

import pytest

from noria.errors import InvalidArgument
from noria.serving.config import (
    BatchingConfig,
    ServingConfig,
    derive_name,
    parse_model_spec,
    serving_config,
)
from noria.serving.factory import LAUNCH_VARIABLE, app_from_environment, launch_environment
from noria.settings import Settings


@pytest.mark.parametrize(
    ("uri", "name"),
    [
        ("models:/credit@champion", "credit"),
        ("models:/credit-risk/3", "credit-risk"),
        ("runs:/0193a5c1f2e07d3c9b1e4a6f8d2c0b7e/churn-model", "churn-model"),
        ("out/models/iris", "iris"),
    ],
)
def test_names_are_derived_from_uris(uri: str, name: str) -> None:
    assert derive_name(uri) == name


def test_a_run_without_a_path_needs_a_name() -> None:
    with pytest.raises(InvalidArgument, match="name=URI"):
        derive_name("runs:/0193a5c1f2e07d3c9b1e4a6f8d2c0b7e")


def test_model_specs() -> None:
    batching = BatchingConfig(max_batch_size=8)
    named = parse_model_spec("fraud=models:/fraud-detector/4", batching)
    assert (named.name, named.uri, named.served_name) == (
        "fraud",
        "models:/fraud-detector/4",
        "fraud",
    )
    assert named.batching.max_batch_size == 8
    plain = parse_model_spec("models:/credit@champion")
    assert plain.name is None and plain.served_name == "credit"
    assert parse_model_spec("out/a=b/model").uri == "out/a=b/model"  # '=' inside a path
    with pytest.raises(InvalidArgument, match="names no model"):
        parse_model_spec("fraud=")
    with pytest.raises(InvalidArgument, match="name 'bad name'"):
        parse_model_spec("bad name=models:/x/1")


def test_served_names_must_be_unique() -> None:
    with pytest.raises(InvalidArgument, match="two served models are named 'credit'"):
        serving_config(
            ["models:/credit/1", "models:/credit/2"],
            batching=BatchingConfig(),
            max_body_bytes=1024,
        )
    config = serving_config(
        ["models:/credit/1", "old=models:/credit/2"], batching=BatchingConfig(), max_body_bytes=1
    )
    assert [model.served_name for model in config.models] == ["credit", "old"]


def test_the_launch_environment_round_trips(
    monkeypatch: pytest.MonkeyPatch, settings: Settings
) -> None:
    config = ServingConfig(models=(parse_model_spec("x=/nowhere/model"),), max_body_bytes=99)
    environment = launch_environment(config, settings)
    monkeypatch.setenv(LAUNCH_VARIABLE, environment[LAUNCH_VARIABLE])
    app = app_from_environment()
    assert app.state.serving.config == config
    monkeypatch.delenv(LAUNCH_VARIABLE)
    with pytest.raises(InvalidArgument, match="noria serve"):
        app_from_environment()

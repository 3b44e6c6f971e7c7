"""Model specs, served names and the serving configuration's checks."""

from __future__ import annotations

import pytest

from noria.errors import InvalidArgument
from noria.serving.config import (
    BatchingConfig,
    PredictionLogConfig,
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


def test_aliases_are_followed_and_the_log_is_configured() -> None:
    config = serving_config(
        ["models:/credit@champion", "old=models:/credit/2", "out/churn"],
        batching=BatchingConfig(),
        max_body_bytes=1024,
        watch_interval_s=0.5,
        prediction_log=PredictionLogConfig(max_rows=10, max_age_s=1.5, queue_size=3),
    )
    assert [model.follows_alias for model in config.models] == [True, False, False]
    assert (config.watch_interval_s, config.prediction_log.queue_size) == (0.5, 3)
    assert ServingConfig(models=config.models).prediction_log.enabled is True
    with pytest.raises(InvalidArgument, match="watch_interval_s"):
        serving_config(["m=out/m"], batching=BatchingConfig(), max_body_bytes=1,
                       watch_interval_s=-1)  # fmt: skip


def test_deployments_are_served_under_their_names() -> None:
    batching = BatchingConfig(max_batch_size=4)
    config = serving_config(
        ["models:/credit/1"], batching=batching, max_body_bytes=1, deployments=["credit-api"]
    )
    (deployment,) = config.deployments
    assert (deployment.name, deployment.batching, deployment.shadow_queue) == (
        "credit-api",
        batching,
        1_000,
    )
    alone = serving_config([], batching=batching, max_body_bytes=1, deployments=["a", "b"])
    assert [d.name for d in alone.deployments] == ["a", "b"] and alone.models == ()


@pytest.mark.parametrize(
    ("specs", "deployments", "message"),
    [
        ([], [], "nothing to serve"),
        (["models:/credit/1"], ["credit"], "names both a model and a deployment"),
        ([], ["api", "api"], "deployment 'api' is given twice"),
        ([], ["no spaces"], "Invalid deployment name 'no spaces'"),
    ],
)
def test_deployment_mistakes_are_refused(
    specs: list[str], deployments: list[str], message: str
) -> None:
    with pytest.raises(InvalidArgument, match=message):
        serving_config(specs, batching=BatchingConfig(), max_body_bytes=1, deployments=deployments)

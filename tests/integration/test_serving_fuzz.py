"""Schemathesis fuzzes the model server's OpenAPI spec on a real uvicorn: whatever it sends, no
answer may be a 5xx. The models served never fail on valid input, so a 500 can only be a
request the server let through unchecked or a bug of its own. A deployment (a primary, a
canary and a shadow, sticky by a field) is served beside the models."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import APIOperation, BaseSchema, Case, GenerationMode
from schemathesis.checks import not_a_server_error

import noria
from noria.client import connect
from noria.models.flavors.python import PythonModel
from noria.models.format import save_model
from noria.serving import (
    ServedDeploymentConfig,
    ServedModelConfig,
    ServingConfig,
    create_serving_app,
)
from noria.settings import Settings
from tests.integration.test_serving import serving

pytestmark = pytest.mark.slow
SERVED = ("table", "matrix", "table-api")
EXAMPLES = 40  # per operation and mode


class Zeros(PythonModel):
    """One zero per row, whatever the (validated) rows hold."""

    def predict(self, data: Any) -> Any:
        return np.zeros(len(data))


@pytest.fixture(scope="module")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("fuzz")
    table = pd.DataFrame({
        "age": [31, 45], "income": [1.5, 2.5], "city": ["Oslo", "Lima"], "vip": [True, False],
        "joined": pd.to_datetime(["2024-01-02", "2024-03-04"]),
    })  # fmt: skip
    save_model(Zeros(), folder / "table", input_example=table)
    save_model(Zeros(), folder / "matrix", input_example=np.ones((2, 3), dtype="float32"))
    settings = Settings(home=folder / "home", user="fuzz")
    with connect(settings) as client:
        previous = noria.set_default_client(client)
        try:
            with noria.start_run(experiment="fuzz"):
                for _ in range(2):
                    noria.log_model(
                        Zeros(), "table", input_example=table, registered_model_name="table"
                    )
        finally:
            noria.set_default_client(previous)
        client.registry.set_alias("table", "champion", 1)
        client.deployments.create(
            "table-api",
            model="models:/table@champion",
            canaries={"models:/table/2": 50},
            shadows=["models:/table/1"],
            sticky_key="city",
        )
    config = ServingConfig(
        models=tuple(
            ServedModelConfig(uri=str(folder / name), name=name) for name in ("table", "matrix")
        ),
        deployments=(ServedDeploymentConfig(name="table-api"),),
        max_body_bytes=64 * 1024,
    )
    app = create_serving_app(config, settings=settings)
    with serving(app) as url:
        yield url


@pytest.fixture(scope="module")
def api_schema(server_url: str) -> BaseSchema:
    return schemathesis.openapi.from_url(f"{server_url}/openapi.json")


def case_strategy(
    operation: APIOperation[Any, Any, Any, Any], mode: GenerationMode
) -> st.SearchStrategy[Case[Any]]:
    """Requests for ``operation``; where a model is named (in the path, or ``?model=``), also
    with each served name, so that bodies reach validation rather than stopping at 404."""
    strategies = [operation.as_strategy(mode)]
    if any(parameter.name == "name" for parameter in operation.path_parameters):
        strategies += [operation.as_strategy(mode, path_parameters={"name": n}) for n in SERVED]
    if any(parameter.name == "model" for parameter in operation.query):
        strategies += [operation.as_strategy(mode, query={"model": name}) for name in SERVED]
    return st.one_of(strategies)


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_request_gets_a_server_error(
    api_schema: BaseSchema, server_url: str, mode: GenerationMode
) -> None:
    operations = [result.ok() for result in api_schema.get_all_operations()]  # type: ignore[union-attr]
    assert len(operations) > 15
    if mode is GenerationMode.NEGATIVE:  # any text is a valid name: only bodies can be wrong
        operations = [op for op in operations if len(op.body)]
    for operation in operations:

        @given(case=case_strategy(operation, mode))
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,  # the same requests on every run: a failure reproduces
            suppress_health_check=list(HealthCheck),
        )
        def call(case: Case[Any]) -> None:
            case.call_and_validate(base_url=server_url, checks=[not_a_server_error])

        call()


def test_the_spec_lists_the_routes(api_schema: BaseSchema, tmp_path: Path) -> None:
    paths = set(api_schema.raw_schema["paths"])
    assert {"/v1/models/{name}/predict", "/v1/feedback", "/invocations"} <= paths
    assert {"/v2/models/{name}/infer", "/health/ready", "/metrics"} <= paths

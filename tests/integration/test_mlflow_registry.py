"""MLflow's registry client calls against a real `noria server`, with Noria's SDK beside it:
the registry routes, and MLflow 3's ``log_model`` → register → alias → ``pyfunc.load_model``
through the logged-model routes."""

from __future__ import annotations

import importlib
from pathlib import Path

import numpy as np
import pytest

from noria.client import Client
from tests.integration.test_mlflow_compat import Mlflow, error_code, mlflow, noria, unique

pytestmark = pytest.mark.slow
__all__ = ["mlflow", "noria"]  # fixtures, re-exported for pytest


def test_registry_workflow_reads_back_both_ways(
    mlflow: Mlflow, noria: Client, tmp_path: Path
) -> None:
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    (model_dir / "MLmodel").write_text("flavors: {}\n")
    (model_dir / "model.pkl").write_bytes(b"weights")
    with mlflow.module.start_run() as active:
        mlflow.module.log_metric("auc", 0.9)
        mlflow.module.log_artifacts(str(model_dir), "model")
    run_id = active.info.run_id
    name = unique("mlflow-model")

    created = mlflow.client.create_registered_model(name, tags={"team": "risk"}, description="d")
    assert (created.name, created.description, created.tags) == (name, "d", {"team": "risk"})
    version = mlflow.client.create_model_version(name, f"runs:/{run_id}/model", run_id=run_id)
    assert (version.version, version.run_id, version.status) == ("1", run_id, "READY")
    mlflow.client.create_model_version(name, f"runs:/{run_id}/model", run_id=run_id)
    mlflow.client.set_registered_model_alias(name, "champion", "1")
    by_alias = mlflow.client.get_model_version_by_alias(name, "champion")
    assert by_alias.version == "1" and by_alias.aliases == ["champion"]
    found = mlflow.client.search_model_versions(f"name='{name}'")
    assert sorted(v.version for v in found) == ["1", "2"]
    model = mlflow.client.get_registered_model(name)
    assert model.aliases == {"champion": "1"} and model.latest_versions[0].version == "2"
    assert [m.name for m in mlflow.client.search_registered_models(f"name = '{name}'")] == [name]

    uri = mlflow.client.get_model_version_download_uri(name, "1")
    assert uri.endswith(f"/{run_id}/artifacts/model")
    local = mlflow.module.artifacts.download_artifacts(
        artifact_uri=uri, dst_path=str(tmp_path / "d")
    )
    assert (Path(local) / "model.pkl").read_bytes() == b"weights"

    noria_version = noria.registry.resolve(f"models:/{name}@champion")
    assert (noria_version.version, noria_version.metrics) == (1, {"auc": 0.9})
    assert next(e.action for e in noria.registry.history(name)) == "model.alias_set"
    noria.registry.set_alias(name, "challenger", 2)
    assert mlflow.client.get_model_version_by_alias(name, "challenger").version == "2"

    mlflow.client.delete_registered_model_alias(name, "challenger")
    mlflow.client.delete_model_version(name, "2")
    with pytest.raises(Exception) as missing:
        mlflow.client.get_model_version(name, "2")
    assert error_code(missing.value) == "RESOURCE_DOES_NOT_EXIST"
    mlflow.client.delete_registered_model(name)
    with pytest.raises(Exception) as gone:
        mlflow.client.get_registered_model(name)
    assert error_code(gone.value) == "RESOURCE_DOES_NOT_EXIST"


# MLflow's own import and save warnings; nothing Noria does.
MLFLOW_NOISE = pytest.mark.filterwarnings("ignore::UserWarning", "ignore::FutureWarning")


@MLFLOW_NOISE
def test_mlflow3_log_model_register_alias_and_load(mlflow: Mlflow, noria: Client) -> None:
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    features, labels = load_iris(return_X_y=True)
    classifier = LogisticRegression(max_iter=300).fit(features, labels)
    name = unique("mlflow3-model")
    with mlflow.module.start_run() as active:
        mlflow.module.log_metric("accuracy", 0.97)
        logged = importlib.import_module("mlflow.sklearn").log_model(
            classifier, name="model", registered_model_name=name
        )
    assert str(logged.registered_model_version) == "1"
    mlflow.client.set_registered_model_alias(name, "champion", "1")

    served = importlib.import_module("mlflow.pyfunc").load_model(f"models:/{name}@champion")
    np.testing.assert_array_equal(served.predict(features[:10]), classifier.predict(features[:10]))
    by_run = importlib.import_module("mlflow.pyfunc").load_model(
        f"runs:/{active.info.run_id}/model"
    )
    np.testing.assert_array_equal(by_run.predict(features[:5]), classifier.predict(features[:5]))
    by_id = importlib.import_module("mlflow.pyfunc").load_model(f"models:/{logged.model_id}")
    np.testing.assert_array_equal(by_id.predict(features[:5]), classifier.predict(features[:5]))

    found = mlflow.client.get_logged_model(logged.model_id)
    assert (found.status.name, found.source_run_id) == ("READY", active.info.run_id)
    version = noria.registry.resolve(f"models:/{name}@champion")
    assert version.source == f"models:/{logged.model_id}" and version.run_id == active.info.run_id
    assert version.metrics == {"accuracy": 0.97} and len(version.digest) == 64
    files = {item.path for item in noria.metadata.logged_models.list_files(logged.model_id)}
    assert "MLmodel" in files and "requirements.txt" in files


@MLFLOW_NOISE
def test_mlflow3_logged_model_without_a_run_and_bad_filters(mlflow: Mlflow) -> None:
    from sklearn.linear_model import LinearRegression

    regressor = LinearRegression().fit([[0.0], [1.0], [2.0]], [1.0, 3.0, 5.0])
    mlflow.module.set_experiment(unique("mlflow3-no-run"))
    logged = importlib.import_module("mlflow.sklearn").log_model(regressor, name="line")
    assert not mlflow.client.get_logged_model(logged.model_id).source_run_id  # proto: ""
    loaded = importlib.import_module("mlflow.pyfunc").load_model(logged.model_uri)
    np.testing.assert_allclose(loaded.predict([[3.0]]), [7.0])
    experiment = mlflow.client.get_logged_model(logged.model_id).experiment_id
    assert [m.model_id for m in mlflow.module.search_logged_models(
        experiment_ids=[experiment], filter_string="name = 'line'", output_format="list"
    )] == [logged.model_id]  # fmt: skip
    with pytest.raises(Exception) as unsupported:
        mlflow.module.search_logged_models(
            experiment_ids=[experiment], filter_string="metrics.rmse < 1", output_format="list"
        )
    assert error_code(unsupported.value) == "INVALID_PARAMETER_VALUE"
    assert "metrics.rmse < 1" in str(unsupported.value)

"""MLflow's registry client calls against a real `noria server`, with Noria's SDK beside it.

(``mlflow.<flavor>.log_model`` goes through MLflow 3's logged-model routes, which Noria
does not serve yet; the registry calls themselves are covered here.)
"""

from __future__ import annotations

from pathlib import Path

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

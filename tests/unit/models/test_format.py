"""Model directories: scikit-learn and python round trips, the manifest, environment checks and
the errors a user meets (unknown flavor, unsupported model, corrupt or incomplete directory)."""

from __future__ import annotations

import re
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from sklearn.datasets import load_diabetes, load_iris
from sklearn.ensemble import RandomForestRegressor
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from noria.errors import AlreadyExists, Conflict, InvalidArgument, NotFound, Unsupported
from noria.models.environment import EnvironmentMismatch
from noria.models.flavors.python import ModelContext, PythonModel
from noria.models.format import load_model, save_model
from noria.models.manifest import MANIFEST_FILE, read_manifest
from noria.models.signature import SignatureWarning, TableSchema, TensorSchema


@pytest.fixture(scope="module")
def iris() -> tuple[pd.DataFrame, pd.Series]:
    features, target = load_iris(return_X_y=True, as_frame=True)
    return features, target


@pytest.fixture(scope="module")
def iris_pipeline(iris: tuple[pd.DataFrame, pd.Series]) -> Any:
    features, target = iris
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=300)).fit(features, target)


class Thresholds(PythonModel):
    """Reads its cut-off from an artifact: the python flavor's load_context at work."""

    def __init__(self) -> None:
        self.cutoff: float | None = None

    def load_context(self, context: ModelContext) -> None:
        self.cutoff = float(context.artifacts["cutoff"].read_text())

    def predict(self, data: Any) -> Any:
        return (data["x"] > self.cutoff).astype("int64").to_numpy()


def _edit_manifest(directory: Path, **changes: Any) -> None:
    path = directory / MANIFEST_FILE
    document = yaml.safe_load(path.read_text())
    for dotted, value in changes.items():
        *parents, last = dotted.split("__")
        node = document
        for key in parents:
            node = node[key]
        node[last] = value
    path.write_text(yaml.safe_dump(document))


def test_pipeline_round_trip_predicts_identically(
    tmp_path: Path, iris: tuple[pd.DataFrame, pd.Series], iris_pipeline: Any
) -> None:
    features, _ = iris

    manifest = save_model(iris_pipeline, tmp_path / "m", input_example=features.head(3))
    loaded = load_model(tmp_path / "m")

    assert manifest.flavor == loaded.flavor == "sklearn"
    np.testing.assert_array_equal(loaded.predict(features), iris_pipeline.predict(features))
    np.testing.assert_array_equal(
        loaded.predict_proba(features), iris_pipeline.predict_proba(features)
    )
    assert type(loaded.raw).__name__ == "Pipeline"


def test_manifest_records_signature_example_and_environment(
    tmp_path: Path, iris: tuple[pd.DataFrame, pd.Series], iris_pipeline: Any
) -> None:
    features, _ = iris

    save_model(
        iris_pipeline, tmp_path / "m", input_example=features.head(3), metadata={"team": "ml"}
    )
    manifest = read_manifest(tmp_path / "m")

    assert manifest.signature is not None
    assert isinstance(manifest.signature.inputs, TableSchema)
    assert [c.name for c in manifest.signature.inputs.columns] == list(features.columns)
    assert manifest.signature.outputs == TensorSchema.model_validate(
        {"tensors": [{"dtype": "int64", "shape": [-1]}]}
    )
    assert {"scikit-learn", "numpy", "pandas"} <= set(manifest.environment.packages)
    assert manifest.metadata == {"team": "ml"}
    requirements = (tmp_path / "m" / "requirements.txt").read_text().splitlines()
    assert f"scikit-learn=={manifest.environment.packages['scikit-learn']}" in requirements
    pd.testing.assert_frame_equal(load_model(tmp_path / "m").input_example(), features.head(3))


def test_regressor_without_example_has_no_signature(tmp_path: Path) -> None:
    features, target = load_diabetes(return_X_y=True)
    model = RandomForestRegressor(n_estimators=5, random_state=0).fit(features, target)

    save_model(model, tmp_path / "m")
    loaded = load_model(tmp_path / "m")

    assert loaded.signature is None and loaded.input_example() is None
    np.testing.assert_array_equal(loaded.predict(features), model.predict(features))
    with pytest.raises(Unsupported, match="gives no class probabilities"):
        loaded.predict_proba(features)


def test_predict_enforces_the_signature(
    tmp_path: Path, iris: tuple[pd.DataFrame, pd.Series], iris_pipeline: Any
) -> None:
    features, _ = iris
    save_model(iris_pipeline, tmp_path / "m", input_example=features.head(3))
    loaded = load_model(tmp_path / "m")

    with pytest.raises(InvalidArgument, match=re.escape("missing column(s) ['petal width (cm)']")):
        loaded.predict(features.drop(columns="petal width (cm)"))
    with pytest.warns(SignatureWarning, match="extra"):
        shuffled = features[features.columns[::-1]].assign(extra=1)
        np.testing.assert_array_equal(loaded.predict(shuffled), iris_pipeline.predict(features))
    with pytest.raises(InvalidArgument, match="column 'sepal length \\(cm\\)' expects float64"):
        loaded.predict(features.astype({"sepal length (cm)": str}))


def test_python_model_loads_its_artifacts(tmp_path: Path) -> None:
    cutoff = tmp_path / "cutoff.txt"
    cutoff.write_text("0.5")
    example = pd.DataFrame({"x": [0.2, 0.9]})

    manifest = save_model(
        Thresholds(), tmp_path / "m", input_example=example, artifacts={"cutoff": cutoff}
    )
    cutoff.write_text("0.0")  # the model keeps its own copy
    loaded = load_model(tmp_path / "m")

    assert manifest.flavor == "python"
    assert loaded.predict(pd.DataFrame({"x": [0.1, 0.7]})).tolist() == [0, 1]
    assert (tmp_path / "m" / "artifacts" / "cutoff" / "cutoff.txt").read_text() == "0.5"


def test_code_paths_make_the_model_class_importable_on_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "src"
    source.mkdir()
    (source / "shipped_model.py").write_text(
        "from noria.models.flavors.python import PythonModel\n"
        "class Plus(PythonModel):\n"
        "    def predict(self, data):\n"
        "        return data + 1\n"
    )
    monkeypatch.syspath_prepend(str(source))
    import shipped_model  # type: ignore[import-not-found]

    save_model(shipped_model.Plus(), tmp_path / "m", code_paths=[source / "shipped_model.py"])
    monkeypatch.delitem(sys.modules, "shipped_model")
    (source / "shipped_model.py").unlink()  # only the model directory's copy is left

    loaded = load_model(tmp_path / "m")

    np.testing.assert_array_equal(loaded.predict(np.array([1, 2])), [2, 3])
    assert (tmp_path / "m" / "code" / "shipped_model.py").is_file()


def test_a_different_library_version_warns_on_load(
    tmp_path: Path, iris: tuple[pd.DataFrame, pd.Series], iris_pipeline: Any
) -> None:
    save_model(iris_pipeline, tmp_path / "m", input_example=iris[0].head(2))
    installed = read_manifest(tmp_path / "m").environment.packages["scikit-learn"]
    document = yaml.safe_load((tmp_path / "m" / MANIFEST_FILE).read_text())
    document["environment"]["packages"]["scikit-learn"] = "0.0.1"
    document["environment"]["packages"]["not-a-real-package"] = "1.0"
    (tmp_path / "m" / MANIFEST_FILE).write_text(yaml.safe_dump(document))

    with pytest.warns(EnvironmentMismatch) as caught:
        load_model(tmp_path / "m")

    assert len(caught) == 1
    message = str(caught[0].message)
    assert f"scikit-learn: saved 0.0.1, installed {installed}" in message
    assert "not-a-real-package: saved 1.0, installed nothing" in message
    with pytest.raises(Conflict, match=r"scikit-learn: saved 0\.0\.1"):
        load_model(tmp_path / "m", strict_environment=True)


def test_the_same_environment_loads_silently(tmp_path: Path, iris_pipeline: Any) -> None:
    save_model(iris_pipeline, tmp_path / "m")

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_model(tmp_path / "m", strict_environment=True)


def test_unknown_flavor_and_unsupported_models_list_the_flavors(
    tmp_path: Path, iris_pipeline: Any
) -> None:
    with pytest.raises(InvalidArgument, match="unknown model flavor 'keras'; Noria knows python"):
        save_model(iris_pipeline, tmp_path / "a", flavor="keras")
    with pytest.raises(
        InvalidArgument, match=r"no Noria flavor saves a builtins\.dict.*PythonModel"
    ):
        save_model({"weights": [1, 2]}, tmp_path / "b")
    with pytest.raises(InvalidArgument, match="the xgboost flavor cannot save a sklearn"):
        save_model(iris_pipeline, tmp_path / "c", flavor="xgboost")
    assert list(tmp_path.iterdir()) == []  # nothing half-written is left behind


def test_unfitted_or_unpicklable_models_are_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgument, match="LogisticRegression is not fitted"):
        save_model(LogisticRegression(), tmp_path / "a")

    class Local(PythonModel):
        def predict(self, data: Any) -> Any:
            return data

    with pytest.raises(InvalidArgument, match="cannot be pickled"):
        save_model(Local(), tmp_path / "b")
    assert list(tmp_path.iterdir()) == []


def test_saving_over_an_existing_model_is_refused(tmp_path: Path, iris_pipeline: Any) -> None:
    save_model(iris_pipeline, tmp_path / "m")

    with pytest.raises(AlreadyExists, match="already exists"):
        save_model(iris_pipeline, tmp_path / "m")


def test_a_failing_example_prediction_fails_the_save(tmp_path: Path, iris_pipeline: Any) -> None:
    with pytest.raises(InvalidArgument, match="failed to predict on its input example"):
        save_model(iris_pipeline, tmp_path / "m", input_example=np.ones((2, 3)))
    assert not (tmp_path / "m").exists()


def test_missing_or_corrupt_manifest_is_named(tmp_path: Path, iris_pipeline: Any) -> None:
    with pytest.raises(NotFound, match="no model directory"):
        load_model(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(NotFound, match=r"has no noria-model\.yaml"):
        load_model(tmp_path / "empty")

    save_model(iris_pipeline, tmp_path / "m")
    manifest = tmp_path / "m" / MANIFEST_FILE
    original = manifest.read_text()
    manifest.write_text("flavor: [unclosed\n")
    with pytest.raises(InvalidArgument, match=r"noria-model\.yaml is not valid YAML at line 2"):
        load_model(tmp_path / "m")
    manifest.write_text(original.replace("flavor: sklearn\n", ""))
    with pytest.raises(InvalidArgument, match="field 'flavor': Field required"):
        load_model(tmp_path / "m")
    manifest.write_text(original.replace("format_version: 1", "format_version: 99"))
    with pytest.raises(Unsupported, match="newer than this Noria reads"):
        load_model(tmp_path / "m")
    manifest.write_text(original.replace("flavor: sklearn", "flavor: keras"))
    with pytest.raises(Unsupported, match="flavor 'keras', which this Noria"):
        load_model(tmp_path / "m")


def test_missing_payload_is_not_found(tmp_path: Path, iris_pipeline: Any) -> None:
    payload = save_model(iris_pipeline, tmp_path / "m").payload["file"]
    assert isinstance(payload, str)  # model.skops with skops installed, else model.joblib
    (tmp_path / "m" / payload).unlink()

    with pytest.raises(NotFound, match=rf"the payload '{re.escape(payload)}'.*is missing"):
        load_model(tmp_path / "m")


def test_payload_outside_the_directory_is_refused(tmp_path: Path, iris_pipeline: Any) -> None:
    save_model(iris_pipeline, tmp_path / "m")
    _edit_manifest(tmp_path / "m", payload__file="../../etc/passwd")

    with pytest.raises(InvalidArgument, match="points outside the model directory"):
        load_model(tmp_path / "m")


def test_skops_payload_trusts_only_the_libraries_saved_with(tmp_path: Path) -> None:
    pytest.importorskip("skops")
    import operator

    from sklearn.preprocessing import FunctionTransformer

    features, target = load_iris(return_X_y=True)
    plain = make_pipeline(StandardScaler(), LogisticRegression(max_iter=300)).fit(features, target)
    risky = make_pipeline(FunctionTransformer(operator.neg), LogisticRegression(max_iter=300))
    risky.fit(features, target)

    assert save_model(plain, tmp_path / "plain").payload["serialization"] == "skops"
    with pytest.raises(InvalidArgument, match=r"builds types from outside.*operator\.neg"):
        save_model(risky, tmp_path / "risky")


def test_another_python_minor_version_warns(tmp_path: Path, iris_pipeline: Any) -> None:
    save_model(iris_pipeline, tmp_path / "m")
    _edit_manifest(tmp_path / "m", environment__python="3.9.1")

    with pytest.warns(EnvironmentMismatch, match=r"python: saved 3\.9\.1, installed 3\."):
        load_model(tmp_path / "m")


def test_metadata_must_be_json_like(tmp_path: Path, iris_pipeline: Any) -> None:
    with pytest.raises(InvalidArgument, match=r"metadata\['rows'\] is not JSON-like"):
        save_model(iris_pipeline, tmp_path / "m", metadata={"rows": np.int64(3)})


def test_manifest_round_trips_names_yaml_would_misread(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from noria.models.environment import capture_environment
    from noria.models.manifest import ModelManifest, write_manifest
    from noria.models.signature import infer_signature

    names = ["yes", "a: b", "1", "null", "ünï", "- x", "#y"]
    frame = pd.DataFrame({name: [1.0, None] for name in names})
    manifest = ModelManifest(
        flavor="python",
        payload={"file": "python_model.pkl", "artifacts": {}},
        signature=infer_signature(frame, np.zeros(2)),
        environment=capture_environment(["sklearn"]),
        metadata={"note": "multi\nline: text", "nested": {"k": [1, 2.5, None]}},
        created_at=datetime.now(UTC),
        noria_version="0.1.0",
    )

    write_manifest(manifest, tmp_path)

    assert read_manifest(tmp_path) == manifest
    assert (
        "- {name: 'yes', type: float64, optional: true}" in (tmp_path / MANIFEST_FILE).read_text()
    )

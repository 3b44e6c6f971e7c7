"""XGBoost and LightGBM round trips, through their scikit-learn API and their native Boosters."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import lightgbm
import numpy as np
import pandas as pd
import pytest
import xgboost
from sklearn.datasets import load_diabetes, load_iris

from noria.errors import Unsupported
from noria.models.format import load_model, save_model
from noria.models.manifest import read_manifest


@pytest.fixture(scope="module")
def iris() -> tuple[pd.DataFrame, pd.Series]:
    features, target = load_iris(return_X_y=True, as_frame=True)
    return features, target


@pytest.fixture(scope="module")
def diabetes() -> tuple[pd.DataFrame, pd.Series]:
    features, target = load_diabetes(return_X_y=True, as_frame=True)
    return features, target


def _round_trip(model: Any, directory: Path, example: Any) -> Any:
    save_model(model, directory, input_example=example)
    return load_model(directory)


def test_xgboost_classifier(tmp_path: Path, iris: tuple[pd.DataFrame, pd.Series]) -> None:
    features, target = iris
    model = xgboost.XGBClassifier(n_estimators=5, max_depth=2).fit(features, target)

    loaded = _round_trip(model, tmp_path / "m", features.head(3))

    assert isinstance(loaded.raw, xgboost.XGBClassifier)
    np.testing.assert_array_equal(loaded.predict(features), model.predict(features))
    np.testing.assert_array_equal(loaded.predict_proba(features), model.predict_proba(features))
    manifest = read_manifest(tmp_path / "m")
    assert manifest.payload == {"file": "model.ubj", "class": "XGBClassifier", "format": "ubj"}
    assert "xgboost-cpu" in manifest.environment.packages


def test_xgboost_booster(tmp_path: Path, diabetes: tuple[pd.DataFrame, pd.Series]) -> None:
    features, target = diabetes
    booster = xgboost.train(
        {"max_depth": 2}, xgboost.DMatrix(features, label=target), num_boost_round=5
    )

    loaded = _round_trip(booster, tmp_path / "m", features.head(3))

    assert isinstance(loaded.raw, xgboost.Booster)
    np.testing.assert_array_equal(
        loaded.predict(features), booster.predict(xgboost.DMatrix(features))
    )
    with pytest.raises(Unsupported, match="Booster's predict already returns"):
        loaded.predict_proba(features)


def test_xgboost_regressor_on_arrays(
    tmp_path: Path, diabetes: tuple[pd.DataFrame, pd.Series]
) -> None:
    features, target = (frame.to_numpy() for frame in diabetes)
    model = xgboost.XGBRegressor(n_estimators=5, max_depth=2).fit(features, target)

    loaded = _round_trip(model, tmp_path / "m", features[:4])

    np.testing.assert_array_equal(loaded.predict(features), model.predict(features))


def test_lightgbm_classifier_keeps_labels_and_probabilities(
    tmp_path: Path, iris: tuple[pd.DataFrame, pd.Series]
) -> None:
    features, target = iris
    labels = target.map({0: "setosa", 1: "versicolor", 2: "virginica"})
    model = lightgbm.LGBMClassifier(n_estimators=5, num_leaves=4, verbose=-1)
    model.fit(features, labels)

    loaded = _round_trip(model, tmp_path / "m", features.head(3))

    assert isinstance(loaded.raw, lightgbm.Booster)
    np.testing.assert_array_equal(loaded.predict(features), model.predict(features))
    np.testing.assert_array_equal(loaded.predict_proba(features), model.predict_proba(features))
    assert read_manifest(tmp_path / "m").payload["classes"] == [
        "setosa",
        "versicolor",
        "virginica",
    ]


def test_lightgbm_binary_classifier(tmp_path: Path, iris: tuple[pd.DataFrame, pd.Series]) -> None:
    features, target = iris
    model = lightgbm.LGBMClassifier(n_estimators=5, num_leaves=4, verbose=-1)
    model.fit(features, target == 2)

    loaded = _round_trip(model, tmp_path / "m", features.head(3))

    np.testing.assert_array_equal(loaded.predict(features), model.predict(features))
    np.testing.assert_array_equal(loaded.predict_proba(features), model.predict_proba(features))


def test_lightgbm_regressor_and_booster(
    tmp_path: Path, diabetes: tuple[pd.DataFrame, pd.Series]
) -> None:
    features, target = diabetes
    regressor = lightgbm.LGBMRegressor(n_estimators=5, num_leaves=4, verbose=-1)
    regressor.fit(features, target)
    booster = lightgbm.train(
        {"num_leaves": 4, "verbose": -1},
        lightgbm.Dataset(features, label=target),
        num_boost_round=5,
    )

    from_regressor = _round_trip(regressor, tmp_path / "r", features.head(3))
    from_booster = _round_trip(booster, tmp_path / "b", features.head(3))

    np.testing.assert_array_equal(from_regressor.predict(features), regressor.predict(features))
    np.testing.assert_array_equal(from_booster.predict(features), booster.predict(features))
    with pytest.raises(Unsupported, match="no class probabilities"):
        from_regressor.predict_proba(features)


def test_a_pipeline_records_the_libraries_of_its_steps(
    tmp_path: Path, iris: tuple[pd.DataFrame, pd.Series]
) -> None:
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    features, target = iris
    pipeline = make_pipeline(StandardScaler(), xgboost.XGBClassifier(n_estimators=3))
    pipeline.fit(features, target)

    manifest = save_model(pipeline, tmp_path / "m", input_example=features.head(2))

    assert manifest.flavor == "sklearn"
    assert {"scikit-learn", "xgboost-cpu"} <= set(manifest.environment.packages)
    np.testing.assert_array_equal(
        load_model(tmp_path / "m").predict(features), pipeline.predict(features)
    )


def test_a_missing_library_says_what_to_install(
    tmp_path: Path, diabetes: tuple[pd.DataFrame, pd.Series], monkeypatch: pytest.MonkeyPatch
) -> None:
    features, target = diabetes
    model = lightgbm.LGBMRegressor(n_estimators=2, num_leaves=4, verbose=-1)
    save_model(model.fit(features, target), tmp_path / "m")
    monkeypatch.setitem(sys.modules, "lightgbm", None)  # as if it were not installed

    with pytest.raises(Unsupported, match=r"the lightgbm flavor needs lightgbm.*pip install"):
        load_model(tmp_path / "m")

"""Permutation importance always; SHAP when installed, a clear note when not."""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression

from noria.evaluation.evaluate import evaluate_predictor
from noria.evaluation.explain import SHAP_MISSING_NOTE

from .conftest import Case


@pytest.fixture(scope="module")
def one_feature_matters() -> Case:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"signal": rng.normal(size=400), "noise": rng.normal(size=400)})
    target = 3.0 * frame["signal"] + rng.normal(scale=0.1, size=400)
    # Trained on the signal alone, so shuffling the noise column cannot change a prediction.
    model = LinearRegression().fit(frame.assign(noise=0.0), target)
    return Case(model, frame.assign(y=target), "y")


def test_permutation_importance_finds_the_feature_the_model_uses(one_feature_matters: Case) -> None:
    case = one_feature_matters
    result = evaluate_predictor(case.model, case.data, label=case.label)
    permutation = {f.feature: f for f in result.importance if f.method == "permutation"}
    assert permutation["signal"].importance > 1.0  # R² falls from ~1 to below 0
    assert permutation["noise"].importance == 0.0
    assert permutation["signal"].scoring == "r2"
    assert permutation["signal"].std is not None and permutation["signal"].std > 0


def test_explanations_are_seeded(iris: Case) -> None:
    def importances(seed: int) -> list[tuple[str, float]]:
        result = evaluate_predictor(iris.model, iris.data, label=iris.label, random_state=seed)
        return [(f.method, f.importance) for f in result.importance]

    assert importances(1) == importances(1)
    assert importances(1) != importances(2)


def test_shap_values_rank_the_used_feature_first(one_feature_matters: Case) -> None:
    pytest.importorskip("shap")
    case = one_feature_matters
    result = evaluate_predictor(case.model, case.data, label=case.label)
    shap = {f.feature: f.importance for f in result.importance if f.method == "shap"}
    assert shap["signal"] > 1.0
    assert shap["noise"] == pytest.approx(0.0, abs=1e-9)
    assert SHAP_MISSING_NOTE not in result.notes


def test_shap_explains_class_probabilities(iris: Case) -> None:
    pytest.importorskip("shap")
    result = evaluate_predictor(iris.model, iris.data, label=iris.label)
    shap = [f for f in result.importance if f.method == "shap"]
    assert [f.feature for f in shap] == list(iris.data.columns.drop(iris.label))
    assert all(f.importance >= 0 and f.scoring == "mean_abs_shap" for f in shap)
    permutation = [f for f in result.importance if f.method == "permutation"]
    assert {f.scoring for f in permutation} == {"roc_auc"}


def test_without_shap_only_permutation_importance_is_reported(
    cancer: Case, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "shap", None)  # `import shap` now raises ImportError
    result = evaluate_predictor(cancer.model, cancer.data, label=cancer.label)
    assert {f.method for f in result.importance} == {"permutation"}
    assert SHAP_MISSING_NOTE in result.notes


def test_a_classifier_without_probabilities_is_scored_by_accuracy(cancer: Case) -> None:
    class LabelsOnly:
        def __init__(self, model: LogisticRegression) -> None:
            self.model = model

        def predict(self, frame: pd.DataFrame) -> np.ndarray:
            return np.asarray(self.model.predict(frame))

    result = evaluate_predictor(
        LabelsOnly(cancer.model), cancer.data, label=cancer.label, task="classification"
    )
    assert {f.scoring for f in result.importance if f.method == "permutation"} == {"accuracy"}
    assert not [f for f in result.importance if f.method == "shap"]
    if "shap" in sys.modules:
        assert "SHAP values skipped: a classifier needs predict_proba for them" in result.notes

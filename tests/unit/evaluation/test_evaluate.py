"""evaluate_predictor end to end: suites, confusion matrix, notes, serialisation, errors."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as sk

from noria.errors import InvalidArgument
from noria.evaluation.evaluate import evaluate_predictor, table_digest
from noria.evaluation.metrics import CLASSIFICATION_METRICS
from noria.evaluation.predictions import ClassificationRows, RegressionRows
from noria.evaluation.results import EvaluationResult

from .conftest import Case


def test_binary_classification_suite(cancer: Case) -> None:
    result = evaluate_predictor(cancer.model, cancer.data, label="target", explain=False)
    features = cancer.data.drop(columns="target")
    truth, predicted = cancer.data["target"], cancer.model.predict(features)
    assert result.task == "classification"
    assert result.averaging == "binary" and result.positive_label == 1
    assert tuple(result.metrics) == CLASSIFICATION_METRICS  # all eight, in suite order
    assert result.metrics["roc_auc"] == pytest.approx(
        sk.roc_auc_score(truth, cancer.model.predict_proba(features)[:, 1]), abs=1e-12
    )
    assert result.labels == [0, 1]
    assert result.confusion_matrix == sk.confusion_matrix(truth, predicted).tolist()
    assert set(result.plots) == {"roc", "pr", "calibration"}
    assert result.notes == []
    assert isinstance(result.predictions, ClassificationRows)
    assert result.predictions.n == len(cancer.data) == result.rows


def test_multiclass_suite_says_it_averages_by_macro(iris: Case) -> None:
    result = evaluate_predictor(iris.model, iris.data, label="species", explain=False)
    assert result.averaging == "macro" and result.positive_label is None
    assert result.labels == ["setosa", "versicolor", "virginica"]
    features = iris.data.drop(columns="species")
    assert result.metrics["f1"] == pytest.approx(
        sk.f1_score(iris.data["species"], iris.model.predict(features), average="macro"), abs=1e-12
    )
    assert np.array(result.confusion_matrix).sum() == len(iris.data)


def test_regression_suite_with_slices(diabetes: Case) -> None:
    data = diabetes.data.assign(group=np.where(diabetes.data["sex"] > 0, "a", "b"))
    result = evaluate_predictor(
        diabetes.model,
        data,
        label="progression",
        slices=["group"],
        explain=False,
        features=list(diabetes.data.columns.drop("progression")),
    )
    assert result.task == "regression"
    assert set(result.metrics) == {"rmse", "mae", "r2", "mape"}
    assert result.confusion_matrix is None and result.averaging is None
    assert set(result.plots) == {"residuals"}
    assert sorted((s.value, s.rows) for s in result.slices) == [
        ("a", int((data["group"] == "a").sum())),
        ("b", int((data["group"] == "b").sum())),
    ]
    assert isinstance(result.predictions, RegressionRows)


def test_the_result_serialises_without_its_rows_and_reads_back(cancer: Case) -> None:
    data = cancer.data.assign(band=pd.cut(cancer.data["mean radius"], [0, 12, 16, 40]).astype(str))
    result = evaluate_predictor(
        cancer.model, data, label="target", slices=["band"], features=list(cancer.data.columns[:-1])
    )
    document = json.loads(json.dumps(result.to_dict()))
    assert "predictions" not in document and "_predictions" not in document
    assert document["plots"]["roc"].startswith("<svg")
    assert "plots" not in result.to_dict(plots=False)
    back = EvaluationResult.model_validate(document)
    assert back.model_dump() == result.model_dump() and back.predictions is None
    assert {s["value"] for s in document["slices"]} == set(data["band"])


def test_the_task_is_inferred_from_the_predictor_and_the_label(diabetes: Case) -> None:
    class Constant:
        def __init__(self, value: object) -> None:
            self.value = value

        def predict(self, frame: pd.DataFrame) -> list[object]:
            return [self.value] * len(frame)

    numbers = pd.DataFrame({"x": [1.0, 2.0, 3.0], "y": [1.0, 2.0, 4.0]})
    assert evaluate_predictor(Constant(2.0), numbers, label="y", explain=False).task == "regression"
    words = pd.DataFrame({"x": [1.0, 2.0, 3.0], "y": ["a", "b", "a"]})
    result = evaluate_predictor(Constant("a"), words, label="y", explain=False)
    assert result.task == "classification"
    assert result.metrics["accuracy"] == pytest.approx(2 / 3)
    assert any("no predict_proba" in note for note in result.notes)
    zeros = pd.DataFrame({"x": [1.0, 2.0, 3.0], "y": [0.0, 2.0, 4.0]})
    notes = evaluate_predictor(Constant(2.0), zeros, label="y", explain=False).notes
    assert "mape leaves out the 1 rows whose label is 0" in notes


def test_the_digest_tells_tables_apart(cancer: Case) -> None:
    assert table_digest(cancer.data) == table_digest(cancer.data.copy())
    changed = cancer.data.copy()
    changed.iloc[0, 0] += 1.0
    assert table_digest(changed) != table_digest(cancer.data)
    assert table_digest(pd.DataFrame({"a": [[1], [2]]})).startswith("sha256:")


def test_bad_inputs_name_the_problem(cancer: Case) -> None:
    with pytest.raises(InvalidArgument, match="label column 'churn' is not in the data"):
        evaluate_predictor(cancer.model, cancer.data, label="churn")
    with pytest.raises(InvalidArgument, match="slice column 'region' is not in the data"):
        evaluate_predictor(cancer.model, cancer.data, label="target", slices=["region"])
    with pytest.raises(InvalidArgument, match="has 1 missing values"):
        evaluate_predictor(
            cancer.model,
            cancer.data.assign(target=[None, *cancer.data["target"][1:]]),
            label="target",
        )
    with pytest.raises(InvalidArgument, match="has no predict"):
        evaluate_predictor(object(), cancer.data, label="target")
    with pytest.raises(InvalidArgument, match="no rows"):
        evaluate_predictor(cancer.model, cancer.data.iloc[:0], label="target")
    with pytest.raises(InvalidArgument, match="must be a pandas DataFrame"):
        evaluate_predictor(cancer.model, cancer.data.to_numpy(), label="target")
    with pytest.raises(InvalidArgument, match="task must be 'classification' or 'regression'"):
        evaluate_predictor(cancer.model, cancer.data, label="target", task="ranking")  # type: ignore[arg-type]

"""Small fitted models and evaluation tables shared by the evaluation tests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris, make_classification
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler


@dataclass(frozen=True)
class Case:
    model: Any
    data: pd.DataFrame
    label: str


@pytest.fixture(scope="session")
def cancer() -> Case:
    """Binary: a scaled logistic regression, evaluated on the half it did not see."""
    features, target = load_breast_cancer(return_X_y=True, as_frame=True)
    model = make_pipeline(StandardScaler(), LogisticRegression()).fit(
        features.iloc[::2], target.iloc[::2]
    )
    return Case(model, features.iloc[1::2].assign(target=target.iloc[1::2]), "target")


@pytest.fixture(scope="session")
def iris() -> Case:
    """Multiclass with text labels."""
    features, target = load_iris(return_X_y=True, as_frame=True)
    names = np.array(["setosa", "versicolor", "virginica"])[target]
    model = LogisticRegression(max_iter=1000).fit(features.iloc[::2], names[::2])
    return Case(model, features.iloc[1::2].assign(species=names[1::2]), "species")


@pytest.fixture(scope="session")
def diabetes() -> Case:
    features, target = load_diabetes(return_X_y=True, as_frame=True)
    model = Ridge().fit(features.iloc[::2], target.iloc[::2])
    return Case(model, features.iloc[1::2].assign(progression=target.iloc[1::2]), "progression")


@dataclass(frozen=True)
class Contest:
    """Three models on one 2,000-row table: a strong one, a near twin, a weak one."""

    strong: Any
    twin: Any
    weak: Any
    data: pd.DataFrame


@pytest.fixture(scope="session")
def contest() -> Contest:
    features, target = make_classification(
        n_samples=4000, n_features=8, n_informative=5, random_state=0
    )
    columns = [f"x{i}" for i in range(8)]
    train = pd.DataFrame(features[:2000], columns=columns)
    strong = LogisticRegression().fit(train, target[:2000])
    # Slightly different regularisation: the same model for all practical purposes.
    twin = LogisticRegression(C=0.5).fit(train, target[:2000])
    # Blind to the first five columns, which carry most of the signal.
    weak = LogisticRegression().fit(train.assign(**dict.fromkeys(columns[:5], 0.0)), target[:2000])
    data = pd.DataFrame(features[2000:], columns=columns).assign(label=target[2000:])
    return Contest(strong, twin, weak, data)

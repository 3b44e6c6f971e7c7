"""Which features a model leans on: permutation importance, and SHAP when installed.

Permutation importance shuffles one feature at a time on the evaluation rows and
reports how much a score drops (higher: the model needs that feature more); it works
for any predictor and needs nothing beyond numpy. SHAP values come from shap's
model-agnostic ``KernelExplainer`` on a small background sample and a capped number of
explained rows, and are reported as the mean absolute value per feature. Both are seeded.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from types import ModuleType
from typing import TYPE_CHECKING, Any

from noria.evaluation.metrics import metric_values
from noria.evaluation.predictions import Rows
from noria.evaluation.results import FeatureImportance

if TYPE_CHECKING:
    import pandas as pd

    from noria.evaluation.predictions import FloatArray

PERMUTATION_REPEATS = 5
SHAP_BACKGROUND_ROWS = 20
SHAP_EXPLAINED_ROWS = 50
SHAP_MISSING_NOTE = (
    "SHAP values skipped: the `shap` package is not installed (pip install shap); "
    "permutation importance is reported instead"
)


def permutation_importance(
    predict_rows: Callable[[pd.DataFrame], Rows],
    frame: pd.DataFrame,
    scoring: str,
    *,
    n_repeats: int = PERMUTATION_REPEATS,
    random_state: int = 0,
) -> list[FeatureImportance]:
    """The drop in ``scoring`` (a higher-is-better metric) when each column is shuffled.

    ``predict_rows`` answers a frame made of whole copies of ``frame`` stacked on top
    of each other, so each feature costs one prediction call for all its repeats.
    """
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(random_state)
    baseline = float(_scores(predict_rows(frame), scoring, 1)[0])
    importances = []
    for column in frame.columns:
        shuffled = pd.concat([frame] * n_repeats, ignore_index=True)
        # Shuffle the Series (not its numpy values) so categorical and nullable types survive.
        shuffled[column] = pd.concat(
            [frame[column].iloc[rng.permutation(len(frame))] for _ in range(n_repeats)],
            ignore_index=True,
        )
        drops = baseline - _scores(predict_rows(shuffled), scoring, n_repeats)
        importances.append(
            FeatureImportance(
                feature=str(column),
                method="permutation",
                importance=float(np.mean(drops)),
                std=float(np.std(drops)),
                scoring=scoring,
            )
        )
    return importances


def _scores(rows: Rows, scoring: str, copies: int) -> FloatArray:
    """One score per stacked copy: a block-diagonal weighting picks each copy's rows."""
    import numpy as np

    per_copy = rows.n // copies
    weights = np.repeat(np.eye(copies), per_copy, axis=1).astype(np.float64)
    return metric_values(rows, scoring, weights)


def load_shap() -> ModuleType | None:
    """The shap module, or None when it is not installed (it is an optional extra)."""
    try:
        return importlib.import_module("shap")
    except ImportError:
        return None


def shap_importance(
    shap: ModuleType,
    predict_output: Callable[[pd.DataFrame], Any],
    frame: pd.DataFrame,
    *,
    random_state: int = 0,
) -> list[FeatureImportance]:
    """Mean |SHAP value| per column of ``frame``, explaining ``predict_output``.

    ``predict_output`` returns one number per row (a regression, or the positive-class
    probability) or one column per class (multiclass: averaged over classes too).
    """
    import numpy as np
    import pandas as pd

    background = frame.sample(min(len(frame), SHAP_BACKGROUND_ROWS), random_state=random_state)
    explained = frame.sample(min(len(frame), SHAP_EXPLAINED_ROWS), random_state=random_state + 1)
    columns, dtypes = list(frame.columns), frame.dtypes.to_dict()

    def model(values: Any) -> Any:
        # shap hands over plain arrays; the predictor wants the original columns and types.
        return np.asarray(predict_output(pd.DataFrame(values, columns=columns).astype(dtypes)))

    # KernelExplainer samples coalitions with numpy's global generator: seed it, then restore.
    saved = np.random.get_state()
    np.random.seed(random_state)
    try:
        explainer = shap.KernelExplainer(model, background.to_numpy())
        values = explainer.shap_values(
            explained.to_numpy(), nsamples=2 * len(columns) + 256, l1_reg=False, silent=True
        )
    finally:
        np.random.set_state(saved)
    magnitude = np.abs(np.asarray(values, dtype=np.float64))
    # (rows, features) or (rows, features, outputs): average all but the feature axis.
    per_feature = magnitude.reshape(*magnitude.shape[:2], -1).mean(axis=(0, 2))
    return [
        FeatureImportance(
            feature=str(column), method="shap", importance=float(value), scoring="mean_abs_shap"
        )
        for column, value in zip(columns, per_feature, strict=True)
    ]

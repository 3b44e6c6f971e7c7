"""The quickstart's training pipeline: resolve the data, tune a model, register it.

The same pipeline trains the first model and, started by the drift alert's event trigger
(``noria.quickstart.flows:training``), retrains on the newest data: ``resolve`` never comes
from the cache, so ``datasets:/credit@latest`` is read again on every run.

>>> result = training.run(params={"trials": 4})
>>> result.output("register")["uri"]
'models:/credit-risk/1'
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import noria
from noria import Choice, FloatRange, IntRange
from noria.domain.datasets import DatasetVersion
from noria.domain.entities import EntityKind, EntityRef
from noria.domain.lineage import Relation
from noria.pipelines.search_space import SearchSpace
from noria.quickstart.scenario import CATEGORICAL, FEATURES, LABEL

if TYPE_CHECKING:
    import pandas as pd

MODEL_NAME = "credit-risk"
DATASET = "credit"
SEARCH_SPACE: SearchSpace = {
    "model": Choice(["logistic", "boosting"]),
    "c": FloatRange(0.01, 10.0, log=True),
    "depth": IntRange(2, 4),
    "learning_rate": FloatRange(0.03, 0.3, log=True),
}


def estimator(model: str, c: float, depth: int, learning_rate: float) -> Any:
    """A scikit-learn pipeline: scaled numbers and one-hot categories into the classifier.

    Unknown categories (a new employment type) are ignored rather than refused: the model
    keeps answering when the population changes, which is what the monitor must catch.
    """
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    numbers = [name for name in FEATURES if name not in CATEGORICAL]
    columns = ColumnTransformer(
        [
            ("numbers", StandardScaler(), numbers),
            ("categories", OneHotEncoder(handle_unknown="ignore"), list(CATEGORICAL)),
        ]
    )
    classifier = (
        LogisticRegression(C=c, max_iter=1000)
        if model == "logistic"
        else HistGradientBoostingClassifier(
            max_depth=depth, learning_rate=learning_rate, max_iter=60, random_state=0
        )
    )
    return make_pipeline(columns, classifier)


@noria.step
def fit(
    frame: pd.DataFrame, model: str, c: float, depth: int, learning_rate: float
) -> tuple[dict[str, float], Any]:
    """One tuning trial: 3-fold cross-validated ROC AUC, and the pipeline fitted on all rows."""
    from sklearn.model_selection import cross_val_score

    features, label = frame[list(FEATURES)], frame[LABEL]
    pipeline = estimator(model, c, depth, learning_rate)
    auc = cross_val_score(pipeline, features, label, cv=3, scoring="roc_auc")
    return {"roc_auc": float(auc.mean())}, pipeline.fit(features, label)


@noria.step(cache=False)
def resolve(dataset_uri: str) -> DatasetVersion:
    """The dataset version to train on, pinned (``@latest`` is read anew on every run)."""
    return noria.data.get(dataset_uri)


@noria.step
def search(data: DatasetVersion, trials: int, seed: int) -> tuple[Any, dict[str, Any]]:
    """A small tracked hyperparameter sweep: the best trial's fitted pipeline, and what the
    sweep found (its tuning run, best parameters and cross-validated ROC AUC)."""
    from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

    frame = noria.data.load(data)
    # Two trials at once, one thread each: OpenMP threads of parallel fits would fight.
    with threadpool_limits(limits=1):
        result = noria.tune(
            fit,
            fixed={"frame": frame},
            space=SEARCH_SPACE,
            metric="roc_auc",
            trials=trials,
            parallel=2,
            seed=seed,
            name="credit-risk-search",
        )
    found = {
        "tuning_run": result.id,
        "trials": trials,
        "best_params": result.best_params,
        "cv_roc_auc": result.best_value,
    }
    return result.best_model, found


@noria.step(cache=False)
def register(model: Any, tuning: dict[str, Any], data: DatasetVersion) -> dict[str, Any]:
    """Log the model with an input example and register the next ``credit-risk`` version.

    Lineage: the data → this step's run → the version, and the pipeline run → the version,
    so a version made by a triggered run leads back to the event (and alert) that started it.
    """
    from noria.client import default_client

    run = noria.active_run()
    noria.log_input(data, context="training")
    noria.log_metric("cv_roc_auc", tuning["cv_roc_auc"])
    noria.log_params({f"best.{key}": value for key, value in tuning["best_params"].items()})
    example = noria.data.load(data)[list(FEATURES)].head(5)
    version = noria.register_model(
        noria.log_model(model, "model", input_example=example), MODEL_NAME
    )
    if run is not None:
        pipeline_run = noria.get_run(run.id).tags.get("noria.pipeline_run_id")
        if pipeline_run:
            default_client().lineage.record(
                EntityRef(EntityKind.PIPELINE_RUN, pipeline_run),
                Relation.PRODUCED,
                version.entity(),
            )
    return {"uri": version.uri, "version": version.version, "run_id": version.run_id, **tuning}


@noria.pipeline(name="credit-risk-training")
def training(
    dataset_uri: str = f"datasets:/{DATASET}@latest",
    trials: int = 6,
    seed: int = 7,
    event_payload: dict[str, Any] | None = None,
) -> None:
    """Train ``credit-risk`` on ``dataset_uri``; ``event_payload`` is filled in by an event
    trigger (the alert that asked for retraining) and recorded with the run's parameters."""
    data = resolve(dataset_uri)
    model, tuning = search(data, trials=trials, seed=seed)
    register(model, tuning, data)

"""The main job end to end, on scikit-learn's bundled breast-cancer data (no download).

ingest → validate → train (tracked) → log and register the model → evaluate against a
gate → promote → load by alias and predict → drift report. Run it with `make demo`;
everything lands in ./.noria (NORIA_HOME), where `noria …` commands can inspect it.
"""

from __future__ import annotations

from pathlib import Path

from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import noria
import noria.data

GATE = """rules:
  - roc_auc >= 0.90
  - roc_auc >= champion.roc_auc - 0.005
"""


def main() -> None:
    frame = load_breast_cancer(as_frame=True).frame
    frame.columns = [column.replace(" ", "_") for column in frame.columns]
    train, holdout = train_test_split(frame, test_size=0.3, random_state=7)

    train_version = noria.data.ingest(train, name="cancer-train")
    holdout_version = noria.data.ingest(holdout, name="cancer-holdout")
    print(f"data      {train_version.uri} ({train_version.row_count} rows), {holdout_version.uri}")
    report = noria.data.validate(holdout, train_version.uri)
    errors = sum(anomaly.severity == "error" for anomaly in report.anomalies)
    warnings = len(report.anomalies) - errors
    print(f"validate  holdout vs the train schema: {errors} errors, {warnings} warnings")

    features, label = train.drop(columns=["target"]), train["target"]
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    with noria.start_run(experiment="demo", name="logistic-regression") as run:
        noria.log_input(train_version, context="training")
        noria.log_params({"model": "logistic_regression", "max_iter": 1000})
        model.fit(features, label)
        noria.log_metric("train_accuracy", float(model.score(features, label)))
        uri = noria.log_model(model, "model", input_example=features.head(5))
    version = noria.register_model(uri, "cancer-classifier")
    print(f"train     run {run.id} → {version.uri}")

    outcome = noria.evaluate_with_gate(
        version.uri, holdout_version.uri, label="target", gate=GATE, explain=False
    )
    print(f"evaluate  roc_auc {outcome.candidate.metrics['roc_auc']:.4f}")
    print("\n".join(f"          {line}" for line in outcome.verdict.summary().splitlines()))
    if outcome.verdict.passed:
        noria.set_alias("cancer-classifier", "champion", version.version)
        print(f"promote   models:/cancer-classifier@champion → version {version.version}")

    champion = noria.load_model("models:/cancer-classifier@champion")
    predictions = champion.predict(holdout.drop(columns=["target"]).head(5))
    print(f"predict   {[int(value) for value in predictions]}")

    shifted = holdout.assign(mean_radius=holdout["mean_radius"] * 1.5)
    drift = noria.data.drift(shifted, train_version.uri)
    html = Path(".noria") / "drift.html"
    html.write_text(drift.html(title="Demo: shifted holdout vs training data"), "utf-8")
    flagged = [column.column for column in drift.report.columns if column.drifted]
    verdict = "drifted" if drift.report.drifted else "not drifted overall"
    print(f"drift     {verdict}; drifted columns {flagged}; report {html}")


if __name__ == "__main__":
    main()

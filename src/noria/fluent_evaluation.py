"""Evaluate a registered or logged model on data, and gate it against the champion.

>>> result = noria.evaluate("models:/credit-risk/4", "datasets:/credit-holdout/1", label="default")
>>> outcome = noria.evaluate_with_gate("models:/credit-risk/4", holdout, label="default",
...                                    gate=Path("gate.yaml").read_text())
>>> outcome.verdict.passed

The evaluation runs as a Noria run (experiment ``model-evaluations``): its metrics, the
plots as SVG files, the full result and the verdict as JSON. A gate's verdict is also
stored on the model version, where the approval policy reads it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from noria.client import Client, default_client
from noria.datasets.analysis import is_dataset_uri, table_of
from noria.domain.registry import ModelVersion
from noria.domain.uris import ModelAliasUri, ModelVersionUri, parse_uri
from noria.errors import NotFound
from noria.fluent_models import load_model
from noria.models.evaluable import EvaluablePredictor

if TYPE_CHECKING:
    import pandas as pd

    from noria.evaluation.gates import GateVerdict
    from noria.evaluation.results import EvaluationResult

EXPERIMENT = "model-evaluations"
CHAMPION = "champion"


@dataclass(frozen=True)
class GatedEvaluation:
    candidate: EvaluationResult
    champion: EvaluationResult | None
    champion_version: int | None
    verdict: GateVerdict
    run_id: str


def _client(client: Client | None) -> Client:
    return client if client is not None else default_client()


def _frame(client: Client, data: Any) -> pd.DataFrame:
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        return data
    frame: pd.DataFrame = table_of(client.datasets, data).to_pandas()
    return frame


def _evaluate(
    client: Client, uri: str, frame: pd.DataFrame, label: str, **options: Any
) -> EvaluationResult:
    from noria.evaluation.evaluate import evaluate_predictor

    model = load_model(uri, client=client)
    features = frame.drop(columns=[label]) if label in frame.columns else frame
    predictor = EvaluablePredictor(model, features.head(5))
    return evaluate_predictor(predictor, frame, label=label, **options)


def evaluate(
    model_uri: str,
    data: Any,
    *,
    label: str,
    task: str | None = None,
    slices: Sequence[str] = (),
    explain: bool = True,
    client: Client | None = None,
) -> EvaluationResult:
    """Metrics, slices, plots and explanations of a model on labelled data (a DataFrame, a
    CSV/Parquet path or a dataset URI), recorded as a run."""
    opened = _client(client)
    frame = _frame(opened, data)
    result = _evaluate(opened, model_uri, frame, label, task=task, slices=slices, explain=explain)
    _record(opened, model_uri, data, result, verdict=None)
    return result


def evaluate_with_gate(
    model_uri: str,
    data: Any,
    *,
    label: str,
    gate: str,
    task: str | None = None,
    slices: Sequence[str] = (),
    explain: bool = True,
    client: Client | None = None,
) -> GatedEvaluation:
    """Evaluate the candidate, and the model's champion on the same data when it has one,
    check the gate policy (YAML text), and store the verdict on the candidate version."""
    from noria.evaluation.gates import check_gate, parse_gate_policy

    policy = parse_gate_policy(gate)
    opened = _client(client)
    frame = _frame(opened, data)
    candidate = _evaluate(
        opened, model_uri, frame, label, task=task, slices=slices, explain=explain
    )
    version = _version(opened, model_uri)
    champion_version = _champion(opened, version)
    champion = None
    if champion_version is not None and version is not None:
        champion_uri = f"models:/{version.name}/{champion_version}"
        champion = _evaluate(opened, champion_uri, frame, label, task=task, explain=False)
    verdict = check_gate(policy, candidate, champion)
    if version is not None:
        opened.registry.record_gate(
            version.name,
            version.version,
            passed=verdict.passed,
            verdict=json.dumps(verdict.to_dict(), allow_nan=True),
        )
    run_id = _record(opened, model_uri, data, candidate, verdict=verdict)
    return GatedEvaluation(candidate, champion, champion_version, verdict, run_id)


def _version(client: Client, uri: str) -> ModelVersion | None:
    """The registered version a URI names (``None`` for a run's model)."""
    if not uri.startswith("models:"):
        return None
    parsed = parse_uri(uri)
    if isinstance(parsed, ModelVersionUri | ModelAliasUri):
        return client.registry.resolve(uri)
    return None


def _champion(client: Client, version: ModelVersion | None) -> int | None:
    if version is None:
        return None
    try:
        champion = client.registry.resolve(f"models:/{version.name}@{CHAMPION}")
    except NotFound:
        return None  # the first model: gated on thresholds only
    return None if champion.version == version.version else champion.version


def _record(
    client: Client,
    model_uri: str,
    data: Any,
    result: EvaluationResult,
    *,
    verdict: GateVerdict | None,
) -> str:
    tracker = client.tracker
    with tracker.start_run(experiment=EXPERIMENT, name=f"evaluate {model_uri}") as run:
        run.set_tags({"noria.model_uri": model_uri, "noria.task": result.task})
        run.log_metrics(result.metrics)
        for name, svg in result.plots.items():
            run.log_text(svg, f"plots/{name}.svg")
        run.log_text(json.dumps(result.to_dict(plots=False), indent=2), "evaluation.json")
        if verdict is not None:
            run.log_text(json.dumps(verdict.to_dict(), indent=2), "gate.json")
            run.set_tag("noria.gate", "passed" if verdict.passed else "failed")
        if is_dataset_uri(data):
            run.log_input(data, context="evaluation")
    return run.id

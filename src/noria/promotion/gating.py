"""The offline half of a challenge: the candidate and the champion on the same fresh rows.

Both versions are loaded from the registry (their files cached under
``<home>/cache/models/<run-id>/``, as ``noria.load_model`` keeps them), evaluated with the
evaluation suite, and judged by a gate policy — by default "not worse than the champion on
the main metric", where a difference the data cannot tell counts as passed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from noria.domain.registry import ModelVersion
from noria.domain.uris import RunUri, parse_uri
from noria.errors import InvalidArgument, Unsupported
from noria.evaluation.gates import GateVerdict, check_gate, parse_gate_policy
from noria.models.evaluable import EvaluablePredictor
from noria.models.manifest import MANIFEST_FILE

if TYPE_CHECKING:
    import pandas as pd

    from noria.evaluation.results import EvaluationResult
    from noria.tracking import Tracker

EXPERIMENT = "model-evaluations"  # where noria.evaluate_with_gate records its runs too
# The main metric per task, in order of preference: the first the candidate has is gated.
_MAIN_METRICS = {
    "classification": ("roc_auc", "f1", "accuracy"),
    "regression": ("rmse",),
}


@dataclass(frozen=True)
class GateOutcome:
    candidate: EvaluationResult
    champion: EvaluationResult
    verdict: GateVerdict
    policy_text: str
    run_id: str


def gate_text(gate: str | Path | None) -> str | None:
    """A gate policy's YAML: ``gate`` is a path to a file or the YAML itself."""
    if gate is None:
        return None
    if isinstance(gate, Path) or ("\n" not in gate and gate.endswith((".yaml", ".yml"))):
        path = Path(gate)
        try:
            return path.read_text(encoding="utf-8")
        except OSError as exc:
            raise InvalidArgument(
                f"Cannot read the gate policy {str(path)!r}: {exc.strerror}. Give a path to "
                "a gate YAML file or the YAML text itself."
            ) from None
    return gate


def default_gate(candidate: EvaluationResult) -> str:
    """``<main metric> >= champion.<main metric>`` (``<=`` for rmse), noise passing."""
    for metric in _MAIN_METRICS[candidate.task]:
        if metric in candidate.metrics:
            op = "<=" if metric == "rmse" else ">="
            return f"rules:\n  - {metric} {op} champion.{metric}\nwithin_noise: pass\n"
    raise InvalidArgument(
        f"The candidate has none of the metrics {', '.join(_MAIN_METRICS[candidate.task])} "
        "to compare with the champion: pass a gate policy (--gate gate.yaml)."
    )


class Gatekeeper:
    """Loads versions, evaluates them and checks the gate; records the evaluation as a run."""

    def __init__(self, tracker: Callable[[], Tracker], cache_dir: Path) -> None:
        self._tracker = tracker
        self._cache = cache_dir

    def judge(
        self,
        candidate: ModelVersion,
        champion: ModelVersion,
        frame: pd.DataFrame,
        *,
        label: str,
        gate: str | None,
        data_uri: str | None,
    ) -> GateOutcome:
        if label not in frame.columns:
            raise InvalidArgument(
                f"The challenge data has no label column {label!r}; its columns are "
                f"{', '.join(map(str, frame.columns))}. Pass --label <column>."
            )
        ours = self._evaluate(candidate, frame, label)
        theirs = self._evaluate(champion, frame, label)
        text = gate if gate is not None else default_gate(ours)
        policy = parse_gate_policy(text, source="gate policy")
        verdict = check_gate(policy, ours, theirs)
        run_id = self._record(candidate, champion, ours, verdict, data_uri)
        return GateOutcome(ours, theirs, verdict, text, run_id)

    def pipeline_run_of(self, version: ModelVersion) -> str | None:
        """The pipeline run whose step registered ``version`` (its run's tag), if any."""
        if version.run_id is None:
            return None
        tags = self._tracker().get_run(version.run_id).tags
        return tags.get("noria.pipeline_run_id") or None

    def _evaluate(self, version: ModelVersion, frame: pd.DataFrame, label: str) -> Any:
        from noria.evaluation.evaluate import evaluate_predictor
        from noria.models.format import load_model

        model = load_model(self._directory(version))
        sample = frame.drop(columns=[label]).head(5)
        return evaluate_predictor(
            EvaluablePredictor(model, sample), frame, label=label, explain=False
        )

    def _directory(self, version: ModelVersion) -> Path:
        """The version's files in the local model cache, fetched once."""
        parsed = parse_uri(version.source) if version.source.startswith("runs:") else None
        if not isinstance(parsed, RunUri):
            raise Unsupported(
                f"{version.uri} comes from {version.source!r}, not a Noria run's model: "
                "challenge versions registered from noria.log_model."
            )
        target = self._cache / parsed.run_id / (parsed.path or "root")
        if not (target / MANIFEST_FILE).exists():
            self._tracker().download_artifacts(parsed.run_id, parsed.path, target)
        return target

    def _record(
        self,
        candidate: ModelVersion,
        champion: ModelVersion,
        result: EvaluationResult,
        verdict: GateVerdict,
        data_uri: str | None,
    ) -> str:
        name = f"challenge {candidate.uri} vs {champion.uri}"
        tracker = self._tracker()
        with tracker.start_run(experiment=EXPERIMENT, name=name, record_environment=False) as run:
            run.set_tags(
                {
                    "noria.model_uri": candidate.uri,
                    "noria.champion_uri": champion.uri,
                    "noria.task": result.task,
                    "noria.gate": "passed" if verdict.passed else "failed",
                }
            )
            run.log_metrics(result.metrics)
            run.log_text(json.dumps(verdict.to_dict(), indent=2), "gate.json")
            if data_uri is not None:
                run.log_input(data_uri, context="evaluation")
        return run.id

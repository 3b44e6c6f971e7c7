"""Each check ``noria ci`` runs, as one test case: lint, validate, run, gate.

A check that finds a problem *fails* (with a one-line message and the details); a check
that cannot be carried out at all (a missing file, a module that does not import) is an
*error*; a gate whose run failed is *skipped*. Every outcome is a :class:`CaseResult`.
"""

from __future__ import annotations

import tempfile
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from noria.ci.config import GateCheck, LintCheck, RunCheck, ValidateCheck
from noria.domain.artifacts import Digest
from noria.errors import InvalidArgument, NoriaError
from noria.pipelines.loading import load_pipeline

if TYPE_CHECKING:
    from noria.client import Client
    from noria.pipelines.authoring import Pipeline
    from noria.pipelines.results import PipelineResult

Outcome = Literal["passed", "failed", "error", "skipped"]
CI_EXPERIMENT = "noria-ci"


@dataclass(frozen=True)
class CaseResult:
    group: str  # lint | validate | run | gate
    name: str
    outcome: Outcome
    seconds: float = 0.0
    message: str = ""  # one line: why it failed, erred or was skipped
    details: str = ""  # the whole story
    output: str = ""  # what it made (a pipeline run id, a verdict)

    @property
    def ok(self) -> bool:
        return self.outcome in ("passed", "skipped")


def timed(group: str, name: str, work: Callable[[], CaseResult]) -> CaseResult:
    """Run one check; an exception becomes an error case instead of ending the CI run."""
    started = time.perf_counter()
    try:
        result = work()
    except NoriaError as exc:
        result = CaseResult(group, name, "error", message=exc.message)
    except Exception as exc:  # noqa: BLE001 - a check's own crash is reported, not raised
        result = CaseResult(
            group, name, "error", message=f"{type(exc).__name__}: {exc}",
            details=traceback.format_exc(),
        )  # fmt: skip
    return replace(result, seconds=time.perf_counter() - started)


def params_for(
    pipeline: Pipeline, shared: Mapping[str, Any], own: Mapping[str, Any]
) -> dict[str, Any]:
    """The shared parameters this pipeline declares (the others are for other pipelines),
    under the entry's own, which are all passed on (a wrong one is an error)."""
    names = pipeline.signature.parameters
    return {**{name: value for name, value in shared.items() if name in names}, **own}


def declared_overrides(pipeline: Pipeline, overrides: Sequence[str]) -> list[str]:
    names = pipeline.signature.parameters
    return [item for item in overrides if item.partition("=")[0].strip() in names]


def lint(check: LintCheck, overrides: Sequence[str]) -> CaseResult:
    pipeline = load_pipeline(check.pipeline)
    problems = pipeline.lint(
        params_for(pipeline, check.shared, check.params),
        cli_params=declared_overrides(pipeline, overrides),
    )
    if not problems:
        return CaseResult("lint", check.name, "passed")
    count = f"{len(problems)} problem{'s' if len(problems) > 1 else ''}"
    return CaseResult(
        "lint",
        check.name,
        "failed",
        message=f"{count}: {problems[0]}",
        details="\n".join(str(problem) for problem in problems),
    )


def validate(client: Client, check: ValidateCheck) -> CaseResult:
    from noria.datasets.analysis import validate as validate_data

    name = check.name
    report = validate_data(client.datasets, check.data, check.schema)
    summary = report.summary()
    if report.ok:
        return CaseResult("validate", name, "passed", output=summary)
    first = report.errors[0]
    message = f"{len(report.errors)} error anomalies: [{first.kind}] {first.message}"
    return CaseResult("validate", name, "failed", message=message, details=summary)


def run(
    client: Client, check: RunCheck, overrides: Sequence[str]
) -> tuple[CaseResult, PipelineResult | None]:
    pipeline = load_pipeline(check.pipeline)
    result: PipelineResult = pipeline.run(
        params=params_for(pipeline, check.shared, check.params),
        cli_params=declared_overrides(pipeline, overrides),
        executor=check.executor,
        client=client,
        raise_on_failure=False,
    )
    output = (
        f"pipeline run {result.id} ({result.run.status.value}): noria pipelines show {result.id}"
    )
    if result.succeeded:
        return CaseResult("run", check.name, "passed", output=output), result
    details = "\n\n".join(
        f"step {step.name}: {step.error}" for step in result.steps.values() if step.error
    )
    message = result.run.error or "the pipeline run failed"
    failed = CaseResult(
        "run", check.name, "failed", message=message, details=details, output=output
    )
    return failed, result


def _logged_model(client: Client, result: PipelineResult, step: str) -> str:
    """The step's model output, logged as a run of the ``noria-ci`` experiment, by URI."""
    record = result.step(step)
    models = [ref for ref in record.outputs if ref.serializer == "model"]
    if models:
        with (
            client.tracker.start_run(
                experiment=CI_EXPERIMENT,
                name=f"{result.run.pipeline} {step}",
                tags={"noria.pipeline_run_id": result.id},
            ) as tracking,
            tempfile.TemporaryDirectory(prefix="noria-ci-") as folder,
        ):
            target = client.artifacts.get_dir(Digest.parse(models[0].digest), Path(folder) / "m")
            tracking.log_artifacts(target, "model")
        return f"runs:/{tracking.id}/model"
    value = result.output(step)
    if isinstance(value, str) and value.startswith(("models:/", "runs:/")):
        return value
    shown = record.outputs[0].python_type if record.outputs else "nothing"
    raise InvalidArgument(
        f"Step {step!r} of {result.run.pipeline} returned {shown}, not a model: gate the step "
        "that returns the model (gate.model: STEP), or return a models:/… or runs:/… URI."
    )


def model_uri(client: Client, result: PipelineResult, model: str | None) -> str:
    """``model`` as a URI: given as one, or the output of the step it names (default: the
    pipeline's last step)."""
    if model is not None and ":/" in model:
        return model
    step = model or list(result.steps)[-1]
    return _logged_model(client, result, step)


def gate(client: Client, name: str, check: GateCheck, result: PipelineResult) -> CaseResult:
    from noria.fluent_evaluation import evaluate_with_gate

    try:
        policy = check.policy.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidArgument(f"Cannot read gate policy {check.policy}: {exc.strerror}.") from None
    uri = model_uri(client, result, check.model)
    outcome = evaluate_with_gate(
        uri, check.data, label=check.label, gate=policy, explain=False, client=client
    )
    lines = [
        f"{rule.verdict:>12}  {rule.rule}  (observed {rule.observed}, threshold {rule.threshold})"
        for rule in outcome.verdict.rules
    ]
    output = f"{uri} evaluated in run {outcome.run_id}"
    if outcome.verdict.passed:
        return CaseResult("gate", name, "passed", details="\n".join(lines), output=output)
    failed = [rule for rule in outcome.verdict.rules if not rule.passed]
    message = "gate failed: " + "; ".join(
        f"{rule.rule} (observed {rule.observed:.4g})" if rule.observed is not None else rule.rule
        for rule in failed
    )
    return CaseResult(
        "gate", name, "failed", message=message, details="\n".join(lines), output=output
    )

"""Run a CI plan: every check in order, each one a test case, none stopping the others."""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from noria.ci import checks
from noria.ci.checks import CaseResult
from noria.ci.config import CiPlan, GateCheck, RunCheck

if TYPE_CHECKING:
    from noria.client import Client
    from noria.pipelines.results import PipelineResult


@dataclass(frozen=True)
class CiReport:
    cases: tuple[CaseResult, ...]
    seconds: float

    @property
    def ok(self) -> bool:
        return all(case.ok for case in self.cases)

    def count(self, outcome: str) -> int:
        return sum(case.outcome == outcome for case in self.cases)


def _run_and_gate(client: Client, check: RunCheck, overrides: Sequence[str]) -> list[CaseResult]:
    produced: list[PipelineResult] = []

    def run_once() -> CaseResult:
        case, result = checks.run(client, check, overrides)
        if result is not None:
            produced.append(result)
        return case

    case = checks.timed("run", check.name, run_once)
    if check.gate is None:
        return [case]
    if case.outcome != "passed" or not produced:
        reason = f"the run of {check.name} did not succeed"
        return [case, CaseResult("gate", check.name, "skipped", message=reason)]
    gate: GateCheck = check.gate
    result = produced[0]
    gated = partial(checks.gate, client, check.name, gate, result)
    return [case, checks.timed("gate", check.name, gated)]


def run_plan(client: Client, plan: CiPlan, *, overrides: Sequence[str] = ()) -> CiReport:
    """Lint, validate, run and gate as ``plan`` says; ``overrides`` are ``--param NAME=VALUE``
    strings for every pipeline that declares the parameter (e.g. ``sample=1000``)."""
    started = time.perf_counter()
    root = str(plan.root)
    if root not in sys.path:  # module:pipeline references import from the config's folder
        sys.path.insert(0, root)
    cases = [
        checks.timed("lint", check.name, partial(checks.lint, check, overrides))
        for check in plan.lint
    ]
    cases += [
        checks.timed("validate", check.name, partial(checks.validate, client, check))
        for check in plan.validate
    ]
    for check in plan.run:
        cases += _run_and_gate(client, check, overrides)
    return CiReport(tuple(cases), time.perf_counter() - started)

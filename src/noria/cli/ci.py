"""``noria ci``: lint pipelines, validate data, run on a sample, gate the model; JUnit XML."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from noria.ci import CiPlan, CiReport, load_plan, plan_from_flags, run_plan, write_junit
from noria.ci.config import DEFAULT_CONFIG, GateCheck
from noria.cli.context import open_client
from noria.cli.render import JsonFlag, console, print_json
from noria.errors import InvalidArgument

_MARKS = {
    "passed": ("PASS", "green"),
    "failed": ("FAIL", "red"),
    "error": ("ERROR", "red"),
    "skipped": ("SKIP", "yellow"),
}


def _gate(
    policy: Path | None, data: str | None, label: str | None, model: str | None
) -> GateCheck | None:
    if policy is None:
        if data is not None or label is not None or model is not None:
            raise InvalidArgument("--gate-data, --label and --model go with --gate POLICY.yaml.")
        return None
    if data is None or label is None:
        raise InvalidArgument(
            "--gate POLICY.yaml needs --gate-data (a path or datasets:/… URI) and --label COLUMN."
        )
    return GateCheck(policy, data, label, model)


def _plan(
    config: Path | None,
    lint: list[str],
    validate: list[str],
    run: list[str],
    executor: str,
    gate: GateCheck | None,
) -> CiPlan:
    flagged = bool(lint or validate or run)
    default = Path(DEFAULT_CONFIG)
    if config is None and not flagged and default.is_file():
        config = default
    if config is not None:
        if flagged:
            raise InvalidArgument(
                f"Give checks in {config} or as flags (--lint, --validate, --run), not both."
            )
        return load_plan(config)
    plan = plan_from_flags(
        Path.cwd(), lint=lint, validate=validate, run=run, executor=executor, gate=gate
    )
    if plan.empty:
        raise InvalidArgument(
            f"Nothing to check: write {DEFAULT_CONFIG} (see docs/ci.md) or pass --lint REF, "
            "--validate DATA=SCHEMA or --run REF."
        )
    return plan


def _summary(report: CiReport) -> None:
    out = console()
    for case in report.cases:
        mark, style = _MARKS[case.outcome]
        line = Text(f"{mark:<5} ", style=f"bold {style}")
        line.append(f"{case.group:<8} {case.name}  ({case.seconds:.2f} s)")
        if case.message:
            line.append(f"\n      {case.message}", style=style)
        out.print(line)
    counts = [
        f"{report.count(outcome)} {word}"
        for outcome, word in (
            ("passed", "passed"),
            ("failed", "failed"),
            ("error", "errors"),
            ("skipped", "skipped"),
        )
        if report.count(outcome)
    ]
    verdict = "CI passed" if report.ok else "CI failed"
    out.print(Text(f"{verdict}: {', '.join(counts)} in {report.seconds:.1f} s", style="bold"))


def run_ci(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option("--config", "-c", help=f"The CI config (default: ./{DEFAULT_CONFIG})."),
    ] = None,
    lint: Annotated[
        list[str] | None, typer.Option("--lint", help="Lint this pipeline (repeatable).")
    ] = None,
    validate: Annotated[
        list[str] | None,
        typer.Option("--validate", help="DATA=SCHEMA: a file or dataset URI, and a schema."),
    ] = None,
    run: Annotated[
        list[str] | None, typer.Option("--run", help="Run this pipeline (repeatable).")
    ] = None,
    param: Annotated[
        list[str] | None,
        typer.Option(
            "--param", "-p", help="NAME=VALUE for every pipeline that has it, e.g. sample=1000."
        ),
    ] = None,
    executor: Annotated[str, typer.Option(help="Executor of --run pipelines.")] = "local",
    gate: Annotated[
        Path | None, typer.Option(help="Gate each --run's model with this policy YAML.")
    ] = None,
    gate_data: Annotated[str | None, typer.Option(help="Labelled data for the gate.")] = None,
    label: Annotated[str | None, typer.Option(help="The gate data's label column.")] = None,
    model: Annotated[
        str | None, typer.Option(help="The step returning the model (default: the last step).")
    ] = None,
    junit: Annotated[
        Path | None, typer.Option(help="Write a JUnit XML report here (CI systems read it).")
    ] = None,
    json: JsonFlag = False,
) -> None:
    """Check pipelines before they ship; exit 1 when any check fails.

    Lint pipelines, validate data against its schema, run pipelines on a sample
    (--param sample=1000) and gate the model each run makes, as noria-ci.yaml or
    the flags say. Each check is a test case of the --junit report.
    """
    from noria.client import set_default_client

    plan = _plan(
        config,
        lint or [],
        validate or [],
        run or [],
        executor,
        _gate(gate, gate_data, label, model),
    )
    with open_client(ctx) as client:
        previous = set_default_client(client)  # what steps calling noria.* use
        try:
            report = run_plan(client, plan, overrides=param or [])
        finally:
            set_default_client(previous)
    if junit is not None:
        write_junit(report, junit)
    if json:
        print_json({"ok": report.ok, "seconds": report.seconds, "cases": list(report.cases)})
    else:
        _summary(report)
    if not report.ok:
        raise typer.Exit(1)

"""The function every executor runs: one attempt at one step, from its task description.

It loads the inputs from the artifact store, calls the step inside a child tracking run
(so ``noria.log_metric`` in a step logs there), stores the outputs and the captured
output, and reports references back. The step's own errors are caught and reported in
the outcome, so an executor never has to carry an exception object across processes.
"""

from __future__ import annotations

import inspect
import time
import traceback
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from noria.domain.pipelines import OutputRef, StepOutcome, StepTask
from noria.pipelines.capture import captured_output
from noria.pipelines.codecs import DecodeContext
from noria.pipelines.sessions import client_for, function_for
from noria.pipelines.values import load_value, store_value

if TYPE_CHECKING:
    from noria.client import Client


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def decode_context(client: Client, home: str | None = None) -> DecodeContext:
    base = Path(home).expanduser() if home else client.settings.home.expanduser()
    return DecodeContext(
        datasets=client.metadata.datasets,
        cache_dir=base.absolute() / "cache" / "pipelines" / "folders",
    )


def _call(function: Callable[..., Any], arguments: Mapping[str, Any]) -> Any:
    """Call with positional-only parameters passed by position, the rest by name."""
    positional, named = [], dict(arguments)
    for parameter in inspect.signature(function).parameters.values():
        if parameter.kind is parameter.POSITIONAL_ONLY and parameter.name in named:
            positional.append(named.pop(parameter.name))
    return function(*positional, **named)


def _split_outputs(task: StepTask, result: Any) -> list[tuple[str, Any]]:
    names = task.output_names
    if len(names) == 1:
        return [(names[0], result)]
    if not isinstance(result, tuple) or len(result) != len(names):
        got = f"a tuple of {len(result)}" if isinstance(result, tuple) else type(result).__name__
        raise TypeError(
            f"step {task.step_name!r} declares {len(names)} outputs (a tuple return "
            f"annotation) but returned {got}"
        )
    return list(zip(names, result, strict=True))


def _error_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__


def _run(
    task: StepTask, client: Client, function: Callable[..., Any], report: dict[str, str]
) -> tuple[tuple[OutputRef, ...], list[str]]:
    from noria.fluent import start_run

    context = decode_context(client, task.store.home)
    arguments = dict(task.params)
    for ref in task.inputs:
        arguments[ref.name] = load_value(ref, client.artifacts, context)
    tags = {"noria.pipeline_run_id": task.pipeline_run_id, "noria.step": task.step_name}
    with start_run(
        experiment=task.experiment_id,
        name=task.step_name,
        parent=task.parent_run_id,
        tags=tags,
        client=client,
    ) as run:
        report["tracking_run_id"] = run.id
        result = _call(function, arguments)
    outputs, warnings = [], []
    for name, value in _split_outputs(task, result):
        ref, notes = store_value(value, name, client.artifacts, step=task.step_name)
        outputs.append(ref)
        warnings += notes
    return tuple(outputs), warnings


def run_step_task(task: StepTask) -> StepOutcome:
    """Run one attempt of one step; never raises for the step's own failures."""
    started = now_ms()
    try:
        client = client_for(task)
        function = function_for(task)
    except Exception as exc:  # noqa: BLE001 - reported in the outcome
        return StepOutcome(
            step_run_id=task.step_run_id,
            attempt=task.attempt,
            ok=False,
            started_at=started,
            ended_at=now_ms(),
            error=f"could not prepare the step: {_error_line(exc)}",
            traceback=traceback.format_exc(),
        )
    error = trace = None
    outputs: tuple[OutputRef, ...] = ()
    warnings: list[str] = []
    report: dict[str, str] = {}
    with captured_output() as captured:
        try:
            outputs, warnings = _run(task, client, function, report)
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt):
                raise
            error, trace = _error_line(exc), traceback.format_exc()
    logs_digest = None
    if captured.text:
        stored = client.artifacts.put_bytes(captured.text.encode(), media_type="text/plain")
        logs_digest = str(stored.digest)
    return StepOutcome(
        step_run_id=task.step_run_id,
        attempt=task.attempt,
        ok=error is None,
        started_at=started,
        ended_at=now_ms(),
        outputs=outputs,
        logs_digest=logs_digest,
        tracking_run_id=report.get("tracking_run_id"),
        error=error,
        traceback=trace,
        warnings=tuple(warnings),
    )

"""The driver loop of one pipeline run: cache lookups, submissions, retries, timeouts.

Only this loop writes step records, lineage and cache entries; workers write artifacts
and their child tracking runs. At most ``executor.capacity`` attempts are in flight, so
a submitted attempt is a started one and its timeout counts from submission.
"""

from __future__ import annotations

import time
import warnings
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from noria.domain.entities import EntityKind, EntityRef
from noria.domain.lineage import LineageEdge, Relation
from noria.domain.pipelines import (
    CacheEntry,
    OutputRef,
    StepOutcome,
    StepRun,
    StepStatus,
    StepTask,
)
from noria.domain.uris import parse_uri
from noria.errors import NoriaError
from noria.pipelines.cache import cache_key, extra_key, reusable
from noria.pipelines.code_digest import code_digest
from noria.pipelines.graph import StepNode
from noria.pipelines.schedule import Schedule
from noria.pipelines.values import PickledOutputWarning
from noria.pipelines.worker import now_ms, run_step_task

if TYPE_CHECKING:
    from noria.client import Client
    from noria.ports.executors import Executor

MAX_BACKOFF_S = 300.0


def backoff_s(base: float, failures: int) -> float:
    """Seconds to wait after the ``failures``-th failed attempt: base, then twice, 4 times…"""
    return min(MAX_BACKOFF_S, base * 2.0 ** max(failures - 1, 0))


@dataclass
class StepState:
    node: StepNode
    record: StepRun
    task_base: StepTask  # everything but the inputs, params and attempt
    constants: tuple[OutputRef, ...] = ()
    future: Future[StepOutcome] | None = None
    deadline: float | None = None
    retry_at: float | None = None
    inputs: tuple[OutputRef, ...] = field(default=())


class Execution:
    def __init__(
        self,
        client: Client,
        pipeline: str,
        states: dict[str, StepState],
        executor: Executor,
    ) -> None:
        self.client = client
        self.pipeline = pipeline
        self.states = states
        self.executor = executor
        self.schedule = Schedule({name: state.node.upstream for name, state in states.items()})
        self._in_flight: dict[Future[StepOutcome], str] = {}

    # -- the loop ---------------------------------------------------------------------

    def run(self) -> None:
        try:
            while not self.schedule.finished:
                self._start_what_can_start()
                if self.schedule.finished:
                    break
                self._wait_for_something()
        finally:
            for future in list(self._in_flight):
                self.executor.cancel(future)

    def _start_what_can_start(self) -> None:
        progressed = True
        while progressed:
            progressed = False
            now = time.monotonic()
            due = sorted(
                (s for s in self.states.values() if s.retry_at is not None and s.retry_at <= now),
                key=lambda s: s.retry_at or 0.0,
            )
            for state in due:
                if len(self._in_flight) >= self.executor.capacity:
                    return
                state.retry_at = None
                self._submit(state)
            for name in self.schedule.ready():
                if len(self._in_flight) >= self.executor.capacity:
                    return
                self.schedule.start(name)
                self._begin(self.states[name])
                progressed = True

    def _wait_for_something(self) -> None:
        wakeups = [s.deadline for s in self.states.values() if s.deadline is not None]
        if len(self._in_flight) < self.executor.capacity:  # else a due retry must wait anyway
            wakeups += [s.retry_at for s in self.states.values() if s.retry_at is not None]
        timeout = max(0.0, min(wakeups) - time.monotonic()) if wakeups else None
        if self._in_flight:
            done, _ = wait(list(self._in_flight), timeout=timeout, return_when=FIRST_COMPLETED)
            for future in done:
                self._arrived(future)
        elif timeout is not None:
            time.sleep(timeout)
        else:  # nothing running, nothing waiting, yet not finished: a bug, not a hang
            raise NoriaError(f"Pipeline {self.pipeline!r} stalled with {self.schedule.status}.")
        now = time.monotonic()
        for state in self.states.values():
            if state.deadline is not None and state.deadline <= now and state.future is not None:
                self._in_flight.pop(state.future, None)
                self.executor.cancel(state.future)
                limit = state.task_base.timeout_s
                self._attempt_failed(state, f"TimeoutError: timed out after {limit:g} s", None)

    # -- one step ---------------------------------------------------------------------

    def _begin(self, state: StepState) -> None:
        """Key the step; reuse a cached result, or submit its first attempt."""
        node = state.node
        state.inputs = self._inputs(state)
        try:
            key = self._key(state)
        except Exception as exc:  # noqa: BLE001 - a broken cache_key function fails the step
            self._failed(state, f"cannot compute the cache key: {type(exc).__name__}: {exc}")
            return
        state.record = replace(state.record, cache_key=key, inputs=state.inputs)
        options = node.step.options
        if options.cache:
            entry = self.client.metadata.pipelines.find_cached(key)
            fresh = reusable(
                entry,
                max_age_s=options.max_age_s,
                now_ms=now_ms(),
                artifacts=self.client.artifacts,
            )
            if fresh and entry is not None:
                stamp = now_ms()
                state.record = replace(
                    state.record,
                    status=StepStatus.SUCCEEDED,
                    cache_hit=True,
                    cached_from=entry.step_run_id,
                    started_at=stamp,
                    ended_at=stamp,
                    outputs=tuple(entry.outputs),
                )
                self._succeeded(state)
                return
        self._submit(state)

    def _inputs(self, state: StepState) -> tuple[OutputRef, ...]:
        refs = list(state.constants)
        for parameter, output in state.node.inputs.items():
            produced = self.states[output.producer].record.outputs[output.index]
            refs.append(replace(produced, name=parameter))
        return tuple(refs)

    def _key(self, state: StepState) -> str:
        node = state.node
        params = {
            p.name: p.default
            for p in node.step.signature.parameters.values()
            if p.default is not p.empty
            and p.name not in node.inputs
            and p.name not in node.constants
        }
        params.update(node.params)
        return cache_key(
            step_ref=str(node.step.reference),
            code=code_digest(node.step.function),
            params=params,
            inputs={ref.name: ref.digest for ref in state.inputs},
            output_names=node.output_names,
            extra=extra_key(node.step.options, params, node.name),
        )

    def _submit(self, state: StepState) -> None:
        attempt = state.record.attempts + 1
        task = replace(
            state.task_base, params=state.node.params, inputs=state.inputs, attempt=attempt
        )
        started = state.record.started_at or now_ms()
        state.record = replace(
            state.record, status=StepStatus.RUNNING, attempts=attempt, started_at=started
        )
        self.client.metadata.pipelines.save_step(state.record)
        state.future = self.executor.submit(run_step_task, task)
        timeout = state.task_base.timeout_s
        state.deadline = time.monotonic() + timeout if timeout is not None else None
        self._in_flight[state.future] = state.node.name

    def _arrived(self, future: Future[StepOutcome]) -> None:
        state = self.states[self._in_flight.pop(future)]
        state.future = state.deadline = None
        try:
            outcome = future.result()
        except Exception as exc:  # noqa: BLE001 - the executor failed, not the step
            self._attempt_failed(state, f"executor {self.executor.name} failed: {exc}", None)
            return
        for message in outcome.warnings:
            warnings.warn(message, PickledOutputWarning, stacklevel=2)
        state.record = replace(
            state.record,
            logs_digest=outcome.logs_digest,
            tracking_run_id=outcome.tracking_run_id or state.record.tracking_run_id,
        )
        if not outcome.ok:
            self._attempt_failed(state, outcome.error or "failed", outcome.traceback)
            return
        state.record = replace(
            state.record,
            status=StepStatus.SUCCEEDED,
            outputs=outcome.outputs,
            ended_at=outcome.ended_at,
            error=None,
        )
        if state.node.step.options.cache and state.record.cache_key is not None:
            self.client.metadata.pipelines.save_cached(
                CacheEntry(
                    key=state.record.cache_key,
                    pipeline=self.pipeline,
                    step_name=state.node.name,
                    step_run_id=state.record.id,
                    outputs=outcome.outputs,
                    created_at=outcome.ended_at,
                )
            )
        self._succeeded(state)

    def _attempt_failed(self, state: StepState, error: str, trace: str | None) -> None:
        state.future = state.deadline = None
        attempts, options = state.record.attempts, state.node.step.options
        if attempts <= options.retries:
            delay = backoff_s(options.retry_backoff_s, attempts)
            note = f"attempt {attempts} of {options.retries + 1} failed: {error}; retrying"
            state.record = replace(state.record, error=f"{note} in {delay:g} s")
            self.client.metadata.pipelines.save_step(state.record)
            state.retry_at = time.monotonic() + delay
            return
        detail = error if trace is None else f"{error}\n{trace.rstrip()}"
        self._failed(state, detail)

    # -- endings ----------------------------------------------------------------------

    def _succeeded(self, state: StepState) -> None:
        self.client.metadata.pipelines.save_step(state.record)
        self._record_lineage(state.record)
        self.schedule.succeed(state.node.name)

    def _failed(self, state: StepState, error: str) -> None:
        state.record = replace(
            state.record, status=StepStatus.FAILED, ended_at=now_ms(), error=error
        )
        self.client.metadata.pipelines.save_step(state.record)
        for name in self.schedule.fail(state.node.name):
            skipped = self.states[name]
            skipped.record = replace(
                skipped.record,
                status=StepStatus.SKIPPED,
                error=f"skipped: upstream step {state.node.name!r} failed",
            )
            self.client.metadata.pipelines.save_step(skipped.record)

    def _record_lineage(self, step: StepRun) -> None:
        me = step.entity()
        # The pipeline run is upstream of its steps, so a walk from it (or from the alert
        # that triggered it) reaches their tracking runs and the model versions they made.
        pipeline_run = EntityRef(EntityKind.PIPELINE_RUN, step.pipeline_run_id)
        edges = [LineageEdge(pipeline_run, Relation.PRODUCED, me)]
        edges += [LineageEdge(ref.entity(), Relation.CONSUMED, me) for ref in step.inputs]
        edges += [
            LineageEdge(parse_uri(ref.refers_to).entity(), Relation.CONSUMED, me)  # type: ignore[union-attr]
            for ref in step.inputs
            if ref.refers_to is not None
        ]
        edges += [LineageEdge(me, Relation.PRODUCED, ref.entity()) for ref in step.outputs]
        if step.tracking_run_id is not None and not step.cache_hit:
            edges.append(
                LineageEdge(me, Relation.PRODUCED, EntityRef(EntityKind.RUN, step.tracking_run_id))
            )
        self.client.lineage.record_many(edges)

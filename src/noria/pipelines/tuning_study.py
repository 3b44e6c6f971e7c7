"""The driver of one tuning run: Optuna asks, the executor runs trials, Optuna is told.

At most ``parallel`` trials (and no more than the executor's capacity) are in flight.
With a seed, trials are told in the order they were asked, and trial ``n`` is asked only
once trial ``n - parallel`` has been told: what the sampler knows at each ask — and so the
whole search — then does not depend on which trial happened to finish first.
"""

from __future__ import annotations

import functools
import time
import warnings
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from noria.domain.pipelines import (
    OutputRef,
    StepOutcome,
    StepRun,
    StepStatus,
    StepTask,
    clip_error,
)
from noria.pipelines.search_space import distributions
from noria.pipelines.trial_scores import Verdict, judge
from noria.pipelines.trials import TrialContext, run_trial_task
from noria.pipelines.tuning_records import (
    end_abandoned_run,
    log_trial,
    record_trial_lineage,
    store_address,
)
from noria.pipelines.tuning_result import TrialRecord
from noria.pipelines.values import PickledOutputWarning
from noria.pipelines.worker import now_ms

if TYPE_CHECKING:
    from noria.client import Client
    from noria.pipelines.tuning import TuningPlan
    from noria.ports.executors import Executor
    from noria.tracking.run import ActiveRun


@dataclass
class _Flight:
    number: int
    trial: Any  # the Optuna trial
    record: StepRun
    deadline: float | None


@dataclass
class TuningDriver:
    """Asks Optuna for trials, runs them on the executor, and tells Optuna how they ended."""

    client: Client
    plan: TuningPlan
    executor: Executor
    run_id: str
    tracking: ActiveRun
    session: str
    study: Any
    records: list[StepRun]
    constants: tuple[OutputRef, ...] = ()
    results: dict[int, TrialRecord] = field(default_factory=dict)
    in_flight: dict[Future[StepOutcome], _Flight] = field(default_factory=dict)
    concluded: dict[int, tuple[_Flight, Verdict]] = field(default_factory=dict)
    told: int = 0
    distributions: dict[str, Any] = field(init=False)

    def __post_init__(self) -> None:
        self.distributions = distributions(self.plan.space)

    def run(self) -> None:
        plan = self.plan
        slots = min(plan.parallel, self.executor.capacity)
        asked = 0
        try:
            while self.told < plan.trials:
                limit = min(
                    plan.trials, self.told + slots if plan.seed is not None else plan.trials
                )
                while len(self.in_flight) < slots and asked < limit:
                    self._submit(asked)
                    asked += 1
                self._wait()
                self._tell_what_is_due()
        finally:
            for future in list(self.in_flight):
                self.executor.cancel(future)

    def _wait(self) -> None:
        deadlines = [f.deadline for f in self.in_flight.values() if f.deadline is not None]
        timeout = max(0.0, min(deadlines) - time.monotonic()) if deadlines else None
        done, _ = wait(list(self.in_flight), timeout=timeout, return_when=FIRST_COMPLETED)
        for future in done:
            flight = self.in_flight.pop(future)
            try:
                outcome = future.result()
            except Exception as exc:  # noqa: BLE001 - the executor failed, not the objective
                verdict = Verdict.failed(f"executor {self.executor.name} failed: {exc}")
            else:
                verdict = self._judge(flight, outcome)
            self.concluded[flight.number] = (flight, verdict)
        now = time.monotonic()
        for future, flight in list(self.in_flight.items()):
            if flight.deadline is not None and flight.deadline <= now:
                del self.in_flight[future]
                self.executor.cancel(future)
                self.concluded[flight.number] = (flight, self._abandon(flight))

    def _submit(self, number: int) -> None:
        trial = self.study.ask(self.distributions)
        context = TrialContext(
            number=number,
            metric=self.plan.metric,
            maximize=self.plan.maximize,
            params=dict(trial.params),
            distributions=self.distributions,
            finished=self._finished_trials(),
            pruner=self.plan.pruner,
        )
        record = replace(
            self.records[number],
            status=StepStatus.RUNNING,
            attempts=1,
            started_at=now_ms(),
            inputs=self.constants,
        )
        self.client.metadata.pipelines.save_step(record)
        work = functools.partial(run_trial_task, context)
        future = self.executor.submit(work, self._task(record, trial.params))
        timeout = self.plan.step.options.timeout_s
        deadline = time.monotonic() + timeout if timeout is not None else None
        self.in_flight[future] = _Flight(number, trial, record, deadline)

    def _finished_trials(self) -> tuple[Any, ...]:
        """What a pruner judges against (only sent along when there is a pruner)."""
        if self.plan.pruner is None:
            return ()
        import optuna

        states = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
        return tuple(self.study.get_trials(deepcopy=False, states=states))

    def _task(self, record: StepRun, params: dict[str, Any]) -> StepTask:
        step, node = self.plan.step, self.plan.node
        return StepTask(
            pipeline_run_id=self.run_id,
            step_run_id=record.id,
            step_name=record.name,
            step=step.reference,
            params={**node.params, **params},
            inputs=self.constants,
            output_names=node.output_names,
            attempt=1,
            store=store_address(self.client),
            session=self.session,
            experiment_id=self.tracking.experiment_id,
            parent_run_id=self.tracking.id,
            resources=step.options.resources,
            timeout_s=step.options.timeout_s,
        )

    def _judge(self, flight: _Flight, outcome: StepOutcome) -> Verdict:
        for message in outcome.warnings:
            warnings.warn(message, PickledOutputWarning, stacklevel=2)
        flight.record = replace(
            flight.record,
            outputs=outcome.outputs,
            logs_digest=outcome.logs_digest,
            tracking_run_id=outcome.tracking_run_id,
            ended_at=outcome.ended_at,
        )
        return judge(self.client, outcome, metric=self.plan.metric)

    def _abandon(self, flight: _Flight) -> Verdict:
        """A trial past its timeout: its worker was stopped, so its run is ended here."""
        run = end_abandoned_run(
            self.client,
            experiment_id=self.tracking.experiment_id,
            run_id=self.run_id,
            step=flight.record.name,
        )
        flight.record = replace(flight.record, tracking_run_id=run, ended_at=now_ms())
        limit = self.plan.step.options.timeout_s or 0.0
        return Verdict.failed(f"TimeoutError: timed out after {limit:g} s")

    def _tell_what_is_due(self) -> None:
        if self.plan.seed is None:
            due = sorted(self.concluded)
        else:  # in order: only the unbroken run of concluded trials after the last told
            due = []
            while self.told + len(due) in self.concluded:
                due.append(self.told + len(due))
        for number in due:
            self._tell(*self.concluded.pop(number))
            self.told += 1

    def _tell(self, flight: _Flight, verdict: Verdict) -> None:
        import optuna

        for step, value in sorted(verdict.reported.items()):
            flight.trial.report(value, step)  # so samplers and pruners see the curve
        if verdict.state == "COMPLETE":
            self.study.tell(flight.trial, verdict.value)
        else:
            self.study.tell(flight.trial, state=optuna.trial.TrialState[verdict.state])
        self._record(flight, verdict)

    def _record(self, flight: _Flight, verdict: Verdict) -> None:
        complete = verdict.state == "COMPLETE"
        record = replace(
            flight.record,
            status=StepStatus.SUCCEEDED if complete else StepStatus.FAILED,
            ended_at=flight.record.ended_at or now_ms(),
            error=clip_error(verdict.error),
        )
        self.client.metadata.pipelines.save_step(record)
        if record.tracking_run_id is not None:
            log_trial(
                self.client,
                record.tracking_run_id,
                tuning_run_id=self.run_id,
                number=flight.number,
                state=verdict.state,
                params=flight.trial.params,
                metrics=verdict.metrics,
                step=max(verdict.reported, default=-1) + 1,  # after the reported values
            )
        if complete:
            record_trial_lineage(self.client, record)
        self.records[flight.number] = record
        self.results[flight.number] = TrialRecord(
            number=flight.number,
            state=verdict.state,
            params=dict(flight.trial.params),
            value=verdict.value if complete else None,
            step_run_id=record.id,
            tracking_run_id=record.tracking_run_id,
            error=verdict.error,
            model=verdict.model,
        )

    def best(self) -> TrialRecord | None:
        if not any(trial.state == "COMPLETE" for trial in self.results.values()):
            return None
        return self.results[self.study.best_trial.number]


def new_study(plan: TuningPlan, run_id: str) -> Any:
    import optuna

    return optuna.create_study(
        study_name=run_id,
        direction="maximize" if plan.maximize else "minimize",
        sampler=plan.sampler or optuna.samplers.TPESampler(seed=plan.seed),
        pruner=optuna.pruners.NopPruner(),  # trials prune themselves, in their workers
    )

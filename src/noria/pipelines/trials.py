"""The worker's side of a tuning trial: run the objective step, and prune it on request.

A trial is an ordinary step attempt (:func:`~noria.pipelines.worker.run_step_task`) run
with a :class:`TrialContext` in scope, on any executor. Inside the objective,
:func:`report_trial` logs an intermediate value of the tuned metric and asks the study's
pruner whether to stop. The pruner judges against the trials that had finished when this
one started (sent along in the context), so it works the same in a thread, a process or
a Ray task, with no connection back to the driver.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from noria.domain.pipelines import StepOutcome, StepTask
from noria.pipelines.worker import run_step_task

PRUNED_ERROR = "TrialPruned"  # how a pruned trial's outcome error starts (the exception's name)


@dataclass(frozen=True)
class TrialContext:
    """What a trial's worker needs besides its task (picklable: it travels with the task)."""

    number: int
    metric: str
    maximize: bool
    params: Mapping[str, Any]
    distributions: Mapping[str, Any]  # Optuna distributions, by parameter
    finished: tuple[Any, ...] = ()  # Optuna FrozenTrials done when this trial started
    pruner: Any = None  # an Optuna pruner; None never prunes


class _LiveTrial:
    """The running trial as a one-trial Optuna study, built on the first report."""

    def __init__(self, context: TrialContext) -> None:
        self.context = context
        self._trial: Any = None

    def should_prune(self, value: float, step: int) -> bool:
        if self.context.pruner is None:
            return False
        trial = self._optuna_trial()
        trial.report(value, step)
        return bool(trial.should_prune())

    def _optuna_trial(self) -> Any:
        if self._trial is None:
            import optuna

            context = self.context
            direction = optuna.study.StudyDirection
            storage = optuna.storages.InMemoryStorage()
            name = f"noria-trial-{context.number}"
            storage.create_new_study(
                [direction.MAXIMIZE if context.maximize else direction.MINIMIZE], study_name=name
            )
            study = optuna.study.Study(
                study_name=name,
                storage=storage,
                sampler=optuna.samplers.RandomSampler(),  # never samples: params are enqueued
                pruner=context.pruner,
            )
            study.add_trials(context.finished)
            study.enqueue_trial(dict(context.params))
            self._trial = study.ask(dict(context.distributions))
        return self._trial


_live: ContextVar[_LiveTrial | None] = ContextVar("noria_tuning_trial", default=None)


def run_trial_task(context: TrialContext, task: StepTask) -> StepOutcome:
    """One trial: the objective step's attempt, with ``context`` for :func:`report_trial`.

    Executors run it as ``functools.partial(run_trial_task, context)``.
    """
    token = _live.set(_LiveTrial(context))
    try:
        return run_step_task(task)
    finally:
        _live.reset(token)


def report_trial(value: float, step: int) -> None:
    """Report the tuned metric's value at ``step`` (an epoch, say) from inside an objective.

    The value is logged to the trial's run under the tuned metric. When the study has a
    pruner and it judges this trial hopeless, ``optuna.TrialPruned`` is raised: let it
    propagate, and the trial is recorded as pruned. Outside a trial (the objective called
    directly), this does nothing.

    >>> for epoch in range(20):
    ...     score = fit_one_epoch(model)
    ...     noria.report_trial(score, step=epoch)
    """
    live = _live.get()
    if live is None:
        return
    from noria.fluent import active_run

    run = active_run()
    if run is not None:
        run.log_metric(live.context.metric, float(value), step=step)
    if live.should_prune(float(value), step):
        import optuna

        raise optuna.TrialPruned(f"pruned at step {step} ({live.context.metric}={float(value):g})")

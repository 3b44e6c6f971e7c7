"""The executor port: where pipeline steps run (threads, processes, a Ray cluster).

An executor runs ``work(task)`` somewhere and hands back a future of the outcome. The
work function is a module-level function (picklable by reference) and the task a
frozen, picklable description (see :class:`~noria.domain.pipelines.StepTask`), so a
backend may ship both to another process or machine. Values never travel through the
executor: workers read inputs from and write outputs to the artifact store.

Retries, timeouts and the order of steps belong to the pipeline runner; an executor only
starts work, reports how much it runs at once, and stops work the runner gave up on.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from typing import Protocol, runtime_checkable

from noria.domain.pipelines import StepOutcome, StepTask

StepWork = Callable[[StepTask], StepOutcome]


@runtime_checkable
class Executor(Protocol):
    @property
    def name(self) -> str:
        """How run records name this executor, e.g. ``local`` or ``local:processes``."""
        ...

    @property
    def capacity(self) -> int:
        """How many tasks run at once; the runner never submits more than this."""
        ...

    @property
    def in_process(self) -> bool:
        """Whether tasks run in the driver's process (so they may use its open stores and
        steps defined inside functions)."""
        ...

    def submit(self, work: StepWork, task: StepTask) -> Future[StepOutcome]:
        """Start ``work(task)`` now. ``work`` must catch the step's own errors and report
        them in the outcome; a failed future means the executor itself failed."""
        ...

    def cancel(self, future: Future[StepOutcome]) -> None:
        """Stop a task the runner gave up on (a timeout). Best effort: a task that cannot be
        stopped keeps running, but its outcome is ignored."""
        ...

    def close(self) -> None:
        """Stop anything still running and release the executor's resources."""
        ...

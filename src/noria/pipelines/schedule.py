"""Which steps may start: the pure bookkeeping of a DAG being run.

A step is ready when every step it waits for has succeeded. A failure skips every step
downstream of it (transitively) and nothing else, so independent branches run on.
"""

from __future__ import annotations

from collections.abc import Mapping

from noria.domain.pipelines import StepStatus


class Schedule:
    def __init__(self, upstream: Mapping[str, tuple[str, ...]]) -> None:
        self._upstream = dict(upstream)
        self._downstream: dict[str, list[str]] = {name: [] for name in upstream}
        for name, parents in upstream.items():
            for parent in parents:
                self._downstream[parent].append(name)
        self.status = dict.fromkeys(upstream, StepStatus.PENDING)

    def ready(self) -> list[str]:
        """Pending steps whose upstream all succeeded, in declaration order."""
        return [
            name
            for name, status in self.status.items()
            if status is StepStatus.PENDING
            and all(self.status[parent] is StepStatus.SUCCEEDED for parent in self._upstream[name])
        ]

    def start(self, name: str) -> None:
        self.status[name] = StepStatus.RUNNING

    def succeed(self, name: str) -> None:
        self.status[name] = StepStatus.SUCCEEDED

    def fail(self, name: str) -> list[str]:
        """Mark ``name`` failed; returns the steps this skips, nearest first."""
        self.status[name] = StepStatus.FAILED
        skipped: list[str] = []
        frontier = list(self._downstream[name])
        while frontier:
            child = frontier.pop(0)
            if self.status[child] is StepStatus.PENDING:
                self.status[child] = StepStatus.SKIPPED
                skipped.append(child)
                frontier.extend(self._downstream[child])
        return skipped

    @property
    def finished(self) -> bool:
        return all(status.is_terminal for status in self.status.values())

    def failed(self) -> list[str]:
        return [name for name, status in self.status.items() if status is StepStatus.FAILED]

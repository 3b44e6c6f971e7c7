"""What a pipeline run hands back: its records, and its step outputs on demand."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from noria.domain.artifacts import Digest
from noria.domain.pipelines import PipelineRun, PipelineStatus, StepRun
from noria.errors import NoriaError, NotFound

if TYPE_CHECKING:
    from noria.client import Client


class PipelineResult:
    """A finished pipeline run. ``result.output("train")`` loads that step's output."""

    def __init__(self, client: Client, run: PipelineRun, steps: list[StepRun]) -> None:
        self._client = client
        self.run = run
        self.steps = {step.name: step for step in steps}

    @property
    def id(self) -> str:
        return self.run.id

    @property
    def succeeded(self) -> bool:
        return self.run.status is PipelineStatus.SUCCEEDED

    def step(self, name: str) -> StepRun:
        found = self.steps.get(name)
        if found is None:
            raise NotFound(
                f"Pipeline run {self.id} has no step {name!r}; its steps are: "
                f"{', '.join(self.steps)}."
            )
        return found

    def output(self, step: str, output: str | int = 0) -> Any:
        """A step's output value (by index, or name: ``output``, ``output_0``, …)."""
        from noria.pipelines.values import load_value
        from noria.pipelines.worker import decode_context

        record = self.step(step)
        refs = record.outputs
        if isinstance(output, int):
            if not 0 <= output < len(refs):
                raise NotFound(
                    f"Step {step!r} of run {self.id} has {len(refs)} outputs "
                    f"({record.status.value}); there is no output {output}."
                )
            ref = refs[output]
        else:
            named = [ref for ref in refs if ref.name == output]
            if not named:
                shown = ", ".join(ref.name for ref in refs) or "none"
                raise NotFound(f"Step {step!r} has no output {output!r}; its outputs: {shown}.")
            ref = named[0]
        return load_value(ref, self._client.artifacts, decode_context(self._client))

    def logs(self, step: str) -> str:
        """What the step printed (stdout and stderr) in its last attempt."""
        digest = self.step(step).logs_digest
        if digest is None:
            return ""
        return self._client.artifacts.get_bytes(Digest.parse(digest)).decode(errors="replace")

    def __repr__(self) -> str:
        return f"PipelineResult({self.run.pipeline!r}, id={self.id!r}, {self.run.status.value})"


class PipelineFailed(NoriaError):
    """A pipeline run ended FAILED; ``result`` holds its records."""

    error_code = "PIPELINE_FAILED"
    http_status = 500

    def __init__(self, result: PipelineResult) -> None:
        super().__init__(
            f"Pipeline {result.run.pipeline!r} run {result.id} failed: {result.run.error}. "
            f"See `noria pipelines show {result.id}`."
        )
        self.result = result

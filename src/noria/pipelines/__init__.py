"""Pipelines: typed Python functions as steps, composed into a DAG, cached and retried.

>>> import noria
>>> @noria.step
... def double(x: int) -> int:
...     return 2 * x
>>> @noria.pipeline
... def twice(x: int = 1) -> None:
...     double(double(x))
>>> result = twice.run(params={"x": 3})
>>> result.output("double_2")
12

See ``docs/pipelines.md``.
"""

from __future__ import annotations

from noria.pipelines.authoring import Pipeline, Step, StepOptions, pipeline, step
from noria.pipelines.locations import Problem
from noria.pipelines.results import PipelineFailed, PipelineResult
from noria.pipelines.values import PickledOutputWarning

__all__ = [
    "PickledOutputWarning",
    "Pipeline",
    "PipelineFailed",
    "PipelineResult",
    "Problem",
    "Step",
    "StepOptions",
    "pipeline",
    "step",
]

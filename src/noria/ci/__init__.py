"""``noria ci``: what a CI job checks before a pipeline ships — lint the pipelines, validate
data against its schema, run a pipeline on a sample, gate the model it makes — reported as
JUnit XML. See ``docs/ci.md``.
"""

from noria.ci.checks import CaseResult
from noria.ci.config import CiPlan, load_plan, plan_from_flags
from noria.ci.junit import junit_xml, write_junit
from noria.ci.runner import CiReport, run_plan

__all__ = [
    "CaseResult",
    "CiPlan",
    "CiReport",
    "junit_xml",
    "load_plan",
    "plan_from_flags",
    "run_plan",
    "write_junit",
]

"""The CI report as JUnit XML, which GitHub Actions reporters and GitLab read.

One ``<testsuite>`` per kind of check (lint, validate, run, gate), one ``<testcase>`` per
check: ``<failure>`` when it found a problem, ``<error>`` when it could not be carried out,
``<skipped>`` for a gate whose run failed; ``<system-out>`` says what it made.
"""

from __future__ import annotations

import socket
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

from noria.ci.checks import CaseResult
from noria.ci.runner import CiReport

GROUPS = ("lint", "validate", "run", "gate")


def _counts(element: ET.Element, cases: list[CaseResult]) -> None:
    element.set("tests", str(len(cases)))
    element.set("failures", str(sum(case.outcome == "failed" for case in cases)))
    element.set("errors", str(sum(case.outcome == "error" for case in cases)))
    element.set("skipped", str(sum(case.outcome == "skipped" for case in cases)))
    element.set("time", f"{sum(case.seconds for case in cases):.3f}")


def _case(suite: ET.Element, case: CaseResult) -> None:
    element = ET.SubElement(suite, "testcase", classname=f"noria.ci.{case.group}", name=case.name)
    element.set("time", f"{case.seconds:.3f}")
    if case.outcome == "failed":
        ET.SubElement(
            element, "failure", message=case.message, type=f"{case.group}-failed"
        ).text = case.details or case.message
    elif case.outcome == "error":
        ET.SubElement(element, "error", message=case.message, type="error").text = (
            case.details or case.message
        )
    elif case.outcome == "skipped":
        ET.SubElement(element, "skipped", message=case.message)
    if case.output or (case.outcome == "passed" and case.details):
        text = "\n".join(part for part in (case.output, case.details) if part)
        ET.SubElement(element, "system-out").text = text


def junit_xml(report: CiReport) -> bytes:
    root = ET.Element("testsuites", name="noria ci")
    _counts(root, list(report.cases))
    root.set("time", f"{report.seconds:.3f}")
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    for group in GROUPS:
        cases = [case for case in report.cases if case.group == group]
        if not cases:
            continue
        suite = ET.SubElement(root, "testsuite", name=group, timestamp=stamp)
        suite.set("hostname", socket.gethostname())
        _counts(suite, cases)
        for case in cases:
            _case(suite, case)
    ET.indent(root)
    text: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return text + b"\n"


def write_junit(report: CiReport, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(junit_xml(report))

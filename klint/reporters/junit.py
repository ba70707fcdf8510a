"""JUnit XML for CI test views: one testsuite, one failing testcase per finding.

Input problems are ``<error>`` testcases, suppressed findings (with ``--show-suppressed``)
are ``<skipped>``; a clean run has one passing testcase so the suite is never empty.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from klint.findings import Finding, Notification, Report
from klint.reporters.base import ReportContext, printable


def _text(value: str) -> str:
    """XML 1.0 cannot hold most control characters even escaped: spell them out."""
    return printable(value)


class JunitReporter:
    """``<testsuites><testsuite name="klint">…`` as read by GitLab, Jenkins and Azure."""

    def render(self, report: Report, context: ReportContext) -> str:
        suite = ET.Element("testsuite", name="klint")
        failures = errors = skipped = 0
        for note in report.notifications:
            suite.append(_notification_case(note))
            errors += 1
        for finding in report.findings:
            if finding.suppression is not None and not context.show_suppressed:
                continue
            case = _finding_case(finding)
            suite.append(case)
            if finding.suppression is not None:
                skipped += 1
            else:
                failures += 1
        if len(suite) == 0:
            ET.SubElement(suite, "testcase", classname="klint", name="no findings")
        suite.set("tests", str(len(suite)))
        suite.set("failures", str(failures))
        suite.set("errors", str(errors))
        suite.set("skipped", str(skipped))
        root = ET.Element(
            "testsuites",
            name="klint",
            tests=suite.get("tests", "0"),
            failures=str(failures),
            errors=str(errors),
            skipped=str(skipped),
        )
        root.append(suite)
        ET.indent(root)
        body = ET.tostring(root, encoding="unicode")
        return '<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n"


def _finding_case(finding: Finding) -> ET.Element:
    span = finding.location.span
    where = f"{finding.location.path}:{span.start_line}:{span.start_column}"
    case = ET.Element(
        "testcase",
        classname=_text(finding.location.path),
        name=_text(f"{finding.rule_id} {finding.rule_name} at line {span.start_line}"),
        file=_text(finding.location.path),
        line=str(span.start_line),
    )
    detail = f"{where}: {finding.severity.value}: {finding.message} [{finding.rule_id}]"
    if finding.suppression is not None:
        ET.SubElement(case, "skipped", message=_text(finding.suppression.justification))
    else:
        failure = ET.SubElement(
            case, "failure", message=_text(finding.message), type=finding.severity.value
        )
        failure.text = _text(detail)
    return case


def _notification_case(note: Notification) -> ET.Element:
    path = note.location.path if note.location is not None else "klint"
    case = ET.Element("testcase", classname=_text(path), name=_text(f"klint {note.code}"))
    if note.location is not None:
        case.set("file", _text(path))
        case.set("line", str(note.location.span.start_line))
    error = ET.SubElement(case, "error", message=_text(note.message), type=note.code)
    error.text = _text(f"{path}: {note.level.value}: {note.message} [{note.code}]")
    return case

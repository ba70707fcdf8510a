"""JUnit XML for CI test views: one testsuite, one testcase per finding.

A finding at or above ``--fail-on`` is a ``<failure>``; one below it passes the run, so it
is a passing testcase whose ``<system-out>`` holds the finding (Jenkins marks a build
unstable for any failure). Input problems that fail the run are ``<error>`` testcases,
others pass with ``<system-out>``; suppressed findings (with ``--show-suppressed``) are
``<skipped>``; a clean run has one passing testcase so the suite is never empty.

The XML is valid against Jenkins' xUnit ``junit-10.xsd`` (restated in
``schemas/junit-jenkins.xsd``): no ``skipped`` on ``<testsuites>`` and no ``file``/``line``
on ``<testcase>``; the place is in the name and the failure text. ``classname`` is the file
relative to the repository root and every (classname, name) pair is unique, since test
views merge equal pairs into one test.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from klint.findings import Finding, Notification, Report
from klint.reporters.base import ReportContext, printable, repo_path


def _text(value: str) -> str:
    """XML 1.0 cannot hold most control characters even escaped: spell them out."""
    return printable(value)


class JunitReporter:
    """``<testsuites><testsuite name="klint">…`` as read by GitLab, Jenkins and Azure."""

    def render(self, report: Report, context: ReportContext) -> str:
        suite = ET.Element("testsuite", name="klint")
        failures = errors = skipped = 0
        names = _UniqueNames()
        threshold = context.fail_on
        for note in report.notifications:
            fails = threshold is not None and (note.fatal or note.level.rank >= threshold.rank)
            suite.append(_notification_case(note, context, names, fails=fails))
            errors += fails
        for finding in report.findings:
            if finding.suppression is not None and not context.show_suppressed:
                continue
            fails = threshold is not None and finding.severity.rank >= threshold.rank
            case = _finding_case(finding, context, names, fails=fails)
            suite.append(case)
            if finding.suppression is not None:
                skipped += 1
            else:
                failures += fails
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
        )
        root.append(suite)
        ET.indent(root)
        body = ET.tostring(root, encoding="unicode")
        return '<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n"


class _UniqueNames:
    """Testcase names unique per classname: line, then line and column, then a counter."""

    def __init__(self) -> None:
        self.used: set[tuple[str, str]] = set()

    def pick(self, classname: str, *candidates: str) -> str:
        for candidate in candidates:
            if (classname, candidate) not in self.used:
                self.used.add((classname, candidate))
                return candidate
        counter = 2
        while (classname, f"{candidates[-1]} #{counter}") in self.used:
            counter += 1
        name = f"{candidates[-1]} #{counter}"
        self.used.add((classname, name))
        return name


def _finding_case(
    finding: Finding, context: ReportContext, names: _UniqueNames, *, fails: bool
) -> ET.Element:
    span = finding.location.span
    path = repo_path(finding.location.path, context)
    where = f"{path}:{span.start_line}:{span.start_column}"
    classname = _text(path)
    title = f"{finding.rule_id} {finding.rule_name} at line {span.start_line}"
    name = names.pick(classname, _text(title), _text(f"{title}:{span.start_column}"))
    case = ET.Element("testcase", classname=classname, name=name)
    detail = f"{where}: {finding.severity.value}: {finding.message} [{finding.rule_id}]"
    if finding.suppression is not None:
        ET.SubElement(case, "skipped", message=_text(finding.suppression.justification))
    elif not fails:
        ET.SubElement(case, "system-out").text = _text(f"{detail} (below --fail-on)")
    else:
        failure = ET.SubElement(
            case, "failure", message=_text(finding.message), type=finding.severity.value
        )
        failure.text = _text(detail)
    return case


def _notification_case(
    note: Notification, context: ReportContext, names: _UniqueNames, *, fails: bool
) -> ET.Element:
    path = repo_path(note.location.path, context) if note.location is not None else "klint"
    title = f"klint {note.code}"
    if note.location is not None:
        title += f" at line {note.location.span.start_line}"
    case = ET.Element("testcase", classname=_text(path), name=names.pick(_text(path), _text(title)))
    where = path
    if note.location is not None:
        where += f":{note.location.span.start_line}:{note.location.span.start_column}"
    detail = _text(f"{where}: {note.level.value}: {note.message} [{note.code}]")
    if fails:
        ET.SubElement(case, "error", message=_text(note.message), type=note.code).text = detail
    else:
        ET.SubElement(case, "system-out").text = detail
    return case

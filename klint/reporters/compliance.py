"""``--format compliance``: per framework, each control passed or failed, in Markdown.

Markdown reads well as plain text in a terminal and renders on GitHub (e.g. in a step
summary). Run with ``--profile all`` to check every control.
"""

from __future__ import annotations

from klint.compliance import Framework, Status, build, summary
from klint.findings import Report
from klint.reporters.base import ReportContext
from klint.reporters.markdown import cell

_ICONS = {Status.PASS: "✅ pass", Status.FAIL: "❌ fail", Status.NOT_CHECKED: "➖ not checked"}
_MAX_OBJECTS = 5


class ComplianceReporter:
    """Framework-by-framework compliance in Markdown."""

    def render(self, report: Report, context: ReportContext) -> str:
        catalog = context.catalog or context.rules
        frameworks = build(report, catalog, context.rules)
        lines = ["# klint compliance report", ""]
        lines += _summary_lines(report)
        for framework in frameworks:
            lines += _framework_lines(framework)
        return "\n".join(lines).rstrip() + "\n"


def _summary_lines(report: Report) -> list[str]:
    counts = summary(report)
    lines = [
        f"{report.objects_scanned} objects in {report.files_scanned} files; "
        f"{len(report.active)} findings, {len(report.suppressed)} suppressed.",
        "",
        "| severity | findings |",
        "|---|---:|",
    ]
    lines += [
        f"| {level} | {counts['severity'].get(level, 0)} |"
        for level in ("error", "warning", "note")
    ]
    lines += ["", "| rule family | findings |", "|---|---:|"]
    lines += [f"| {cell(name)} | {n} |" for name, n in sorted(counts["family"].items())]
    lines += ["", "| namespace | findings |", "|---|---:|"]
    lines += [f"| {cell(name)} | {n} |" for name, n in sorted(counts["namespace"].items())]
    return [*lines, ""]


def _framework_lines(framework: Framework) -> list[str]:
    counts = framework.counts()
    lines = [
        f"## {framework.title}",
        "",
        f"{counts[Status.PASS]} passed, {counts[Status.FAIL]} failed, "
        f"{counts[Status.NOT_CHECKED]} not checked.",
        "",
        "| control | status | rules | failing objects | first findings |",
        "|---|---|---|---|---|",
    ]
    for control in framework.controls:
        rules = ", ".join(rule.id for rule in control.rules)
        objects = control.objects
        shown = ", ".join(cell(o) for o in objects[:_MAX_OBJECTS])
        if len(objects) > _MAX_OBJECTS:
            shown += f" (+{len(objects) - _MAX_OBJECTS} more)"
        where = ", ".join(
            cell(f"{f.location.path}:{f.location.span.start_line}") for f in control.findings[:3]
        )
        lines.append(
            f"| {cell(control.title)} | {_ICONS[control.status]} | {rules} | {shown} | {where} |"
        )
    return [*lines, ""]

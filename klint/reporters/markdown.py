"""A Markdown summary for ``$GITHUB_STEP_SUMMARY``: counts by severity and rule, top findings."""

from __future__ import annotations

import html
import re
from collections import Counter

from klint.findings import Finding, Report, Severity
from klint.reporters.base import ReportContext, printable

TOP = 20
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]|#~!])")
_ORDER = (Severity.ERROR, Severity.WARNING, Severity.NOTE)


def cell(text: str) -> str:
    """Text safe inside a table cell: no HTML, links, emphasis, pipes or line breaks."""
    text = printable(text.replace("\r\n", " ").replace("\n", " ").replace("\t", " "))
    return _MARKDOWN_SPECIAL.sub(r"\\\1", html.escape(text, quote=False))


def _rank(finding: Finding) -> tuple[int, tuple[str, int, int, str, str]]:
    return (-finding.severity.rank, finding.sort_key())


class MarkdownReporter:
    """GitHub-flavoured Markdown; deterministic, safe to append to a step summary."""

    def render(self, report: Report, context: ReportContext) -> str:
        active = report.active
        lines = [f"## klint: {_plural(len(active), 'finding')}", ""]
        lines.append(
            f"{_plural(report.objects_scanned, 'object')} in "
            f"{_plural(report.files_scanned, 'file')}"
            + (f", {len(report.suppressed)} suppressed" if report.suppressed else "")
            + (
                f", {_plural(len(report.notifications), 'input problem')}"
                if report.notifications
                else ""
            )
            + "."
        )
        if not active and not report.notifications:
            return "\n".join([*lines, "", "No findings.", ""])
        by_severity = Counter(f.severity for f in active)
        lines += ["", "| Severity | Findings |", "| --- | ---: |"]
        lines += [f"| {level.value} | {by_severity[level]} |" for level in _ORDER]
        if active:
            names = {f.rule_id: f.rule_name for f in active}
            by_rule = Counter(f.rule_id for f in active)
            per_level = Counter((f.rule_id, f.severity) for f in active)
            help_uri = {rule.id: rule.help_uri for rule in context.rules}
            # a rule's findings can differ in severity (a note for a node agent): one column each
            lines += [
                "",
                "| Rule | Errors | Warnings | Notes | Findings |",
                "| --- | ---: | ---: | ---: | ---: |",
            ]
            for rule_id, count in sorted(by_rule.items(), key=lambda i: (-i[1], i[0])):
                label = f"{rule_id} {cell(names[rule_id])}"
                if rule_id in help_uri:
                    label = f"[{label}]({help_uri[rule_id]})"
                levels = " | ".join(str(per_level[(rule_id, level)]) for level in _ORDER)
                lines.append(f"| {label} | {levels} | {count} |")
            top = sorted(active, key=_rank)[:TOP]
            title = "Top findings" if len(active) > TOP else "Findings"
            shown = f" ({TOP} of {len(active)})" if len(active) > TOP else ""
            lines += [
                "",
                f"### {title}{shown}",
                "",
                "| Severity | Rule | Location | Message |",
                "| --- | --- | --- | --- |",
            ]
            for finding in top:
                span = finding.location.span
                where = f"{finding.location.path}:{span.start_line}:{span.start_column}"
                lines.append(
                    f"| {finding.severity.value} | {finding.rule_id} | {cell(where)} "
                    f"| {cell(finding.message)} |"
                )
        if report.notifications:
            lines += [
                "",
                "### Input problems",
                "",
                "| Level | Code | Location | Message |",
                "| --- | --- | --- | --- |",
            ]
            for note in report.notifications:
                where = (
                    ""
                    if note.location is None
                    else (f"{note.location.path}:{note.location.span.start_line}")
                )
                lines.append(
                    f"| {note.level.value} | {cell(note.code)} | {cell(where)} "
                    f"| {cell(note.message)} |"
                )
        return "\n".join(lines) + "\n"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"

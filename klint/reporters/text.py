"""Human text: ``path:line:col: level: message [rule]``, one finding per line."""

from __future__ import annotations

from collections import Counter

from klint.findings import Applicability, Finding, Notification, Report, Severity
from klint.reporters.base import ReportContext, line_start, printable, printable_lines

_COLORS = {Severity.ERROR: "\x1b[31m", Severity.WARNING: "\x1b[33m", Severity.NOTE: "\x1b[36m"}
_RESET = "\x1b[0m"


class TextReporter:
    """The default format; matches errorformat ``%f:%l:%c: %m`` for editors."""

    def render(self, report: Report, context: ReportContext) -> str:
        lines = [self._notification(n, context) for n in report.notifications]
        for finding in report.findings:
            if finding.suppression is None or context.show_suppressed:
                lines.append(self._finding(finding, context))
        if not context.extra.get("quiet"):
            lines.append(summary_line(report))
        return "".join(line + "\n" for line in lines)

    def _finding(self, finding: Finding, context: ReportContext) -> str:
        span = finding.location.span
        level = self._level(finding.severity, context)
        text = (
            f"{line_start(finding.location.path)}:{span.start_line}:{span.start_column}: "
            f"{level}: {printable(finding.message)} [{finding.rule_id} {finding.rule_name}]"
        )
        for related in finding.related:
            text += (
                f" ({printable(related.message)} {printable(related.location.path)}:"
                f"{related.location.span.start_line})"
            )
        if finding.suppression is not None:
            text += f" (suppressed: {printable(finding.suppression.justification)})"
        elif finding.fix is not None and context.extra.get("show_fixes"):
            text += f" [*] fix: {printable(finding.fix.description)}"
        return text

    def _notification(self, notification: Notification, context: ReportContext) -> str:
        level = self._level(notification.level, context)
        where = "klint"
        if notification.location is not None:
            span = notification.location.span
            path = line_start(notification.location.path)
            where = f"{path}:{span.start_line}:{span.start_column}"
        return f"{where}: {level}: {printable_lines(notification.message)} [{notification.code}]"

    @staticmethod
    def _level(severity: Severity, context: ReportContext) -> str:
        if not context.color:
            return severity.value
        return f"{_COLORS[severity]}{severity.value}{_RESET}"


def plural(count: int, word: str) -> str:
    """``1 object``, ``2 objects``; ``entry`` → ``entries``."""
    if count == 1:
        return f"{count} {word}"
    return f"{count} {word[:-1]}ies" if word.endswith("y") else f"{count} {word}s"


def fixable_text(report: Report) -> str:
    """``; 3 fixable with `klint fix`, 2 more with `klint fix --unsafe``` (empty: none)."""
    fixes = [f.fix for f in report.active if f.fix is not None]
    safe = sum(1 for fix in fixes if fix.applicability is Applicability.SAFE)
    unsafe = len(fixes) - safe
    if not fixes:
        return ""
    if not safe:
        return f"; {unsafe} fixable with `klint fix --unsafe`"
    more = f", {unsafe} more with `klint fix --unsafe`" if unsafe else ""
    return f"; {safe} fixable with `klint fix`{more}"


def summary_line(report: Report) -> str:
    """``klint: 3 findings (1 error, 2 warnings, 0 notes) in 4 objects from 2 files``."""
    counts = Counter(f.severity for f in report.active)
    parts = [plural(counts[s], s.value) for s in (Severity.ERROR, Severity.WARNING, Severity.NOTE)]
    extra = ""
    if report.suppressed:
        extra += f", {len(report.suppressed)} suppressed"
    if report.baseline is not None:
        fixed = len(report.baseline.fixed)
        extra += f", {report.baseline.matched} baselined, {plural(fixed, 'baseline entry')} fixed"
    if report.notifications:
        extra += f", {plural(len(report.notifications), 'input problem')}"
    # a file skipped by one unit and linted by another (a failed build's base) is not skipped
    skipped = {n.location.path if n.location else "" for n in report.skipped} - set(report.linted)
    if skipped:
        extra += f", {plural(len(skipped), 'file')} skipped (-v lists them)"
    return (
        f"klint: {plural(len(report.active), 'finding')} ({', '.join(parts)}{extra}) in "
        f"{plural(report.objects_scanned, 'object')} from {plural(report.files_scanned, 'file')}"
        f"{fixable_text(report)}"
    )

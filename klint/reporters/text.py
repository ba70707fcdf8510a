"""Human text: ``path:line:col: level: message [rule]``, one finding per line."""

from __future__ import annotations

from collections import Counter

from klint.findings import Finding, Notification, Report, Severity
from klint.reporters.base import ReportContext, printable

_COLORS = {Severity.ERROR: "\x1b[31m", Severity.WARNING: "\x1b[33m", Severity.NOTE: "\x1b[36m"}
_RESET = "\x1b[0m"


class TextReporter:
    """The default format; matches errorformat ``%f:%l:%c: %m`` for editors."""

    def render(self, report: Report, context: ReportContext) -> str:
        lines = [self._notification(n, context) for n in report.notifications]
        for finding in report.findings:
            if finding.suppression is None or context.show_suppressed:
                lines.append(self._finding(finding, context))
        lines.append(self._summary(report))
        return "\n".join(lines) + "\n"

    def _finding(self, finding: Finding, context: ReportContext) -> str:
        span = finding.location.span
        level = self._level(finding.severity, context)
        text = (
            f"{printable(finding.location.path)}:{span.start_line}:{span.start_column}: "
            f"{level}: {printable(finding.message)} [{finding.rule_id} {finding.rule_name}]"
        )
        for related in finding.related:
            text += (
                f" ({printable(related.message)} {printable(related.location.path)}:"
                f"{related.location.span.start_line})"
            )
        if finding.suppression is not None:
            text += f" (suppressed: {printable(finding.suppression.justification)})"
        return text

    def _notification(self, notification: Notification, context: ReportContext) -> str:
        level = self._level(notification.level, context)
        where = "klint"
        if notification.location is not None:
            span = notification.location.span
            where = f"{printable(notification.location.path)}:{span.start_line}:{span.start_column}"
        return f"{where}: {level}: {printable(notification.message)} [{notification.code}]"

    @staticmethod
    def _level(severity: Severity, context: ReportContext) -> str:
        if not context.color:
            return severity.value
        return f"{_COLORS[severity]}{severity.value}{_RESET}"

    @staticmethod
    def _summary(report: Report) -> str:
        counts = Counter(f.severity for f in report.active)
        parts = [
            f"{counts[s]} {s.value}{'s' if counts[s] != 1 else ''}"
            for s in (Severity.ERROR, Severity.WARNING, Severity.NOTE)
        ]
        suppressed = len(report.suppressed)
        extra = f", {suppressed} suppressed" if suppressed else ""
        if report.baseline is not None:
            fixed = len(report.baseline.fixed)
            extra += (
                f", {report.baseline.matched} baselined, "
                f"{fixed} baseline entr{'y' if fixed == 1 else 'ies'} fixed"
            )
        problems = len(report.notifications)
        extra += f", {problems} input problem{'s' if problems != 1 else ''}" if problems else ""
        return (
            f"klint: {len(report.active)} finding{'s' if len(report.active) != 1 else ''} "
            f"({', '.join(parts)}{extra}) in {report.objects_scanned} objects from "
            f"{report.files_scanned} file{'s' if report.files_scanned != 1 else ''}"
        )

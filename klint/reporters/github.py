"""GitHub Actions workflow commands: ``::error file=…,line=…::message``.

File paths are relative to the repository root, as in SARIF and GitLab reports: the runner
resolves ``file=`` against the workspace, not the step's working directory.
"""

from __future__ import annotations

import re

from klint.findings import Report, Severity
from klint.reporters.base import ReportContext, repo_path, visible

_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]")
_COMMANDS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTE: "notice"}


def escape_data(text: str) -> str:
    """Escape a message the way the Actions runner decodes it (``%``, CR, LF).

    Other control characters (ANSI escapes, NUL), bidi controls and ``##[`` are spelled out
    first so input cannot restyle, reorder or hide log lines.
    """
    text = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text.replace("\r\n", "\n"))
    text = visible(text).replace("##[", "##\\[")  # bidi controls; legacy ``##[`` commands
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a property value (also ``:`` and ``,``) so it cannot end the command early."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


class GithubReporter:
    """Annotations for repositories without code scanning."""

    def render(self, report: Report, context: ReportContext) -> str:
        lines = []
        for notification in report.notifications:
            props = f"title={escape_property('klint ' + notification.code)}"
            if notification.location is not None:
                span = notification.location.span
                props = (
                    f"file={escape_property(repo_path(notification.location.path, context))},"
                    f"line={span.start_line},col={span.start_column},{props}"
                )
            lines.append(
                f"::{_COMMANDS[notification.level]} {props}::{escape_data(notification.message)}"
            )
        for finding in report.active:
            span = finding.location.span
            title = escape_property(f"{finding.rule_id} {finding.rule_name}")
            lines.append(
                f"::{_COMMANDS[finding.severity]} "
                f"file={escape_property(repo_path(finding.location.path, context))},"
                f"line={span.start_line},col={span.start_column},endLine={span.end_line},"
                f"endColumn={span.end_column},title={title}::{escape_data(finding.message)}"
            )
        return "\n".join(lines) + ("\n" if lines else "")

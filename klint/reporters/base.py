"""The reporter protocol and what every reporter is given besides the report."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from klint import __version__
from klint.catalog import Rule
from klint.findings import Finding, Report

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# Characters that reorder or hide text (bidi controls, Trojan Source), break lines outside
# ASCII, or that XML 1.0 cannot hold (lone surrogates, U+FFFE, U+FFFF).
_INVISIBLE = re.compile(
    "[\u061c\u200b-\u200f\u202a-\u202e\u2028\u2029\u2066-\u2069\ufeff\ufffe\uffff\ud800-\udfff]"
)
# GitHub's runner runs ``##[command]`` anywhere in a log line, ``::command::`` at its start.
_LEGACY_COMMAND = "##["


@dataclass(frozen=True)
class ReportContext:
    """Run facts reporters may show: the rules, where paths are relative to, terminal info."""

    rules: Sequence[Rule]
    cwd: Path
    root: Path
    color: bool = False
    category: str = "klint"
    show_suppressed: bool = False
    version: str = __version__
    extra: dict[str, str] = field(default_factory=dict)
    catalog: Sequence[Rule] = ()  # every known rule (compliance shows the ones not run)


class Reporter(Protocol):
    """Formats a report as text."""

    def render(self, report: Report, context: ReportContext) -> str:
        """The whole output, ready to write."""
        ...


def visible(text: str) -> str:
    """Spell out bidi controls and invisible characters as ``\\u202e`` text."""
    if not _INVISIBLE.search(text):
        return text
    return _INVISIBLE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def printable(text: str) -> str:
    """``text`` safe in a human format or a CI log: control characters (ANSI escapes,
    newlines) as ``\\x1b``, bidi and invisible characters as ``\\u202e``, and no legacy
    ``##[`` workflow command."""
    text = visible(_CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text))
    return text.replace(_LEGACY_COMMAND, "##\\[")


def line_start(path: str) -> str:
    """A path that starts an output line: :func:`printable`, and quoted when it would
    begin a workflow command (``::add-mask::x.yaml``), starts with a space or a quote."""
    text = printable(path)
    if text.startswith((":", '"')) or text[:1].isspace():
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return text


def visible_report(report: Report) -> Report:
    """A copy of ``report`` whose messages have bidi and invisible characters spelled out.

    Machine formats (JSON, SARIF, GitLab) keep paths exact and get messages from here, so
    what a person reads in a code-scanning UI cannot be reordered by the input.
    """
    import copy
    import dataclasses

    def finding(item: Finding) -> Finding:
        related = tuple(dataclasses.replace(r, message=visible(r.message)) for r in item.related)
        suppression = item.suppression
        if suppression is not None:
            suppression = dataclasses.replace(
                suppression, justification=visible(suppression.justification)
            )
        return dataclasses.replace(
            item, message=visible(item.message), related=related, suppression=suppression
        )

    def needs(item: Finding) -> bool:
        texts = [item.message, *(r.message for r in item.related)]
        if item.suppression is not None:
            texts.append(item.suppression.justification)
        return any(_INVISIBLE.search(text) for text in texts)

    result = copy.copy(report)
    result.findings = [finding(f) if needs(f) else f for f in report.findings]
    result.notifications = [
        dataclasses.replace(n, message=visible(n.message)) if _INVISIBLE.search(n.message) else n
        for n in report.notifications
    ]
    return result


def repo_path(path: str, context: ReportContext) -> str:
    """A report path relative to the repository root, ``/``-separated (CI annotations)."""
    absolute = Path(path) if Path(path).is_absolute() else context.cwd / path
    try:
        return absolute.relative_to(context.root).as_posix()
    except ValueError:
        return path

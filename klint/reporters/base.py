"""The reporter protocol and what every reporter is given besides the report."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from klint import __version__
from klint.catalog import Rule
from klint.findings import Finding, Report, Severity
from klint.printable import INVISIBLE
from klint.printable import line_start as line_start  # re-exported for the reporters
from klint.printable import printable as printable
from klint.printable import visible as visible


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
    # Lowest level that fails the run (JUnit marks only those as failures); None: never.
    fail_on: Severity | None = Severity.WARNING


class Reporter(Protocol):
    """Formats a report as text."""

    def render(self, report: Report, context: ReportContext) -> str:
        """The whole output, ready to write."""
        ...


CONTINUATION = "    | "


def printable_lines(text: str) -> str:
    """A message of several lines (a Helm render error) with real newlines: each line
    :func:`printable`, continuation lines behind ``    | `` so that none can start a
    workflow command (``::error::``) or pass for a finding line."""
    lines = text.replace("\r\n", "\n").strip("\n").split("\n")
    return "\n".join([printable(lines[0]), *(CONTINUATION + printable(line) for line in lines[1:])])


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
        return any(INVISIBLE.search(text) for text in texts)

    result = copy.copy(report)
    result.findings = [finding(f) if needs(f) else f for f in report.findings]
    result.notifications = [
        dataclasses.replace(n, message=visible(n.message)) if INVISIBLE.search(n.message) else n
        for n in report.notifications
    ]
    return result


def repo_path(path: str, context: ReportContext) -> str:
    """A report path relative to the repository root, ``/``-separated (CI annotations)."""
    return _repo_path(path, context.cwd, context.root)


@functools.lru_cache(maxsize=4096)
def _repo_path(path: str, cwd: Path, root: Path) -> str:
    absolute = Path(path) if Path(path).is_absolute() else cwd / path
    try:
        return absolute.relative_to(root).as_posix()
    except ValueError:
        return path

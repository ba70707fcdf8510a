"""The reporter protocol and what every reporter is given besides the report."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from klint import __version__
from klint.catalog import Rule
from klint.findings import Report

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


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


def printable(text: str) -> str:
    """Escape control characters (ANSI escapes, newlines) so input cannot forge output."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def repo_path(path: str, context: ReportContext) -> str:
    """A report path relative to the repository root, ``/``-separated (CI annotations)."""
    absolute = Path(path) if Path(path).is_absolute() else context.cwd / path
    try:
        return absolute.relative_to(context.root).as_posix()
    except ValueError:
        return path

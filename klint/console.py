"""What the CLI prints besides the report: stderr summaries, statistics, rule pages.

Reports go to stdout or ``--output``; everything here is for the person at the terminal.
"""

from __future__ import annotations

import os
import sys
from collections import Counter
from collections.abc import Sequence
from typing import TextIO

from klint.findings import Notification, Report, Severity
from klint.reporters.base import printable
from klint.reporters.text import summary_line

__all__ = ["exit_code", "problem_lines", "skipped_lines", "statistics", "summary_line", "use_color"]

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


def use_color(flag: bool | None, stream: TextIO, to_file: bool) -> bool:
    """``--color/--no-color`` if given; else colour on a terminal unless ``NO_COLOR`` is set."""
    if flag is not None:
        return flag
    if to_file or os.environ.get("NO_COLOR"):
        return False
    return stream.isatty()


def statistics(report: Report) -> str:
    """Active findings counted per rule, most frequent first (``--statistics``)."""
    counts = Counter((f.rule_id, f.rule_name) for f in report.active)
    rows = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    width = len(str(rows[0][1])) if rows else 1
    lines = [f"{count:>{width}}  {rule_id}  {name}" for (rule_id, name), count in rows]
    return "".join(line + "\n" for line in lines)


def problem_lines(notifications: Sequence[Notification]) -> list[str]:
    """Input problems that fail the run, one ``path:line:col: level: message`` line each."""
    lines = []
    for note in notifications:
        if note.level is not Severity.ERROR and not note.fatal:
            continue
        where = "klint"
        if note.location is not None:
            span = note.location.span
            where = f"{printable(note.location.path)}:{span.start_line}:{span.start_column}"
        lines.append(f"{where}: {note.level.value}: {printable(note.message)} [{note.code}]")
    return lines


def skipped_lines(report: Report) -> list[str]:
    """``--verbose``: the inputs skipped because they are not Kubernetes."""
    lines = []
    for note in report.skipped:
        where = "<input>"
        if note.location is not None:
            where = f"{note.location.path}:{note.location.span.start_line}"
        lines.append(f"klint: skipped {printable(where)}: {printable(note.message)}")
    return lines


def explain_text(markdown: str, stream: TextIO) -> str:
    """A rule page rendered for a terminal (rich); piped or with ``NO_COLOR``, the Markdown."""
    if not stream.isatty():
        return markdown
    try:
        from rich.console import Console
        from rich.markdown import Markdown
    except ImportError:  # pragma: no cover - rich comes with typer
        return markdown
    import io

    buffer = io.StringIO()
    plain = bool(os.environ.get("NO_COLOR"))
    console = Console(file=buffer, force_terminal=True, no_color=plain, highlight=False)
    console.print(Markdown(markdown))
    return buffer.getvalue()


def write_stderr(lines: Sequence[str]) -> None:
    """Lines to standard error."""
    if lines:
        sys.stderr.write("".join(line + "\n" for line in lines))
        sys.stderr.flush()


def exit_code(report: Report, fail_on: Severity) -> int:
    """0 no finding at or above ``fail_on``; 1 such findings (or input that cannot be
    parsed); 2 a fatal problem (render, configuration). Shared by both CLI paths."""
    if any(n.fatal for n in report.notifications):
        return EXIT_ERROR
    if any(f.severity.rank >= fail_on.rank for f in report.active):
        return EXIT_FINDINGS
    if any(n.level is Severity.ERROR for n in report.notifications):
        return EXIT_FINDINGS
    return EXIT_CLEAN

"""What the CLI prints besides the report: stderr summaries, statistics, rule pages.

Reports go to stdout or ``--output``; everything here is for the person at the terminal.
"""

from __future__ import annotations

import os
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from klint.catalog import Rule
from klint.findings import Notification, Report, Severity
from klint.reporters.base import printable, printable_lines
from klint.reporters.text import summary_line

__all__ = [
    "linted_lines",
    "problem_lines",
    "skipped_lines",
    "statistics",
    "summary_line",
    "use_color",
]


def use_color(flag: bool | None, stream: TextIO, to_file: bool) -> bool:
    """``--color/--no-color`` if given; never into a file; else ``NO_COLOR`` off,
    ``FORCE_COLOR`` on (even piped, as in CI logs), ``TERM=dumb`` off, else on a terminal."""
    if flag is not None:
        return flag
    if to_file or os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR", "") not in ("", "0", "false"):
        return True
    if os.environ.get("TERM") == "dumb":
        return False
    return stream.isatty()


class Progress:
    """``klint: 12/40 lint units`` on a terminal's standard error, rewritten in place and
    cleared at the end; nothing at all when standard error is not a terminal."""

    def __init__(self, stream: TextIO, interval: float = 0.1) -> None:
        self.stream = stream
        self.interval = interval
        self.last = 0.0
        self.width = 0

    @classmethod
    def on_terminal(cls, stream: TextIO) -> Progress | None:
        """A display on ``stream`` if it is a terminal, else None."""
        try:
            return cls(stream) if stream.isatty() else None
        except (AttributeError, ValueError):  # a closed or replaced stream
            return None

    def __call__(self, done: int, total: int) -> None:
        import time

        now = time.monotonic()
        if done < total and now - self.last < self.interval:
            return
        self.last = now
        text = f"klint: {done}/{total} lint unit{'' if total == 1 else 's'}"
        self.stream.write("\r" + text.ljust(self.width))
        self.stream.flush()
        self.width = max(self.width, len(text))

    def finish(self) -> None:
        """Clear the line (with spaces: no escape sequence a dumb terminal would print)."""
        if self.width:
            self.stream.write("\r" + " " * self.width + "\r")
            self.stream.flush()
            self.width = 0


def statistics(report: Report) -> str:
    """Active findings counted per rule, most frequent first, then the total
    (``--statistics``); ``[*]`` marks rules whose findings ``klint fix`` can fix."""
    active = report.active
    counts = Counter((f.rule_id, f.rule_name) for f in active)
    fixable = {f.rule_id for f in active if f.fix is not None}
    rows = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    width = len(str(len(active)))
    lines = [
        f"{count:>{width}}  {rule_id}  {'[*] ' if rule_id in fixable else ''}{name}"
        for (rule_id, name), count in rows
    ]
    lines.append(
        f"{len(active):>{width}}  total in {len(rows)} rule{'' if len(rows) == 1 else 's'}"
    )
    return "".join(line + "\n" for line in lines)


def rules_json(rules: Sequence[Rule]) -> str:
    """``klint rules --format json``: the catalogue as a stable JSON list."""
    import json

    items = [
        {
            "id": rule.id,
            "name": rule.name,
            "summary": rule.summary,
            "severity": rule.severity.value,
            "security_severity": rule.security_severity,
            "profiles": list(rule.profiles),
            "tags": list(rule.tags),
            "frameworks": rule.frameworks(),
            "fixable": bool(rule.fix),
            "builtin": rule.builtin,
            "help_uri": rule.help_uri,
        }
        for rule in rules
    ]
    # custom rules are repository text: ASCII JSON (bidi and control characters as \\u
    # escapes) and no "##[" a CI log would run, as for the other JSON formats
    return json.dumps(items, indent=2).replace("##[", "##\\u005b") + "\n"


def problem_lines(notifications: Sequence[Notification]) -> list[str]:
    """Input problems (errors and warnings; notes stay in the report), one ``path:line:col:
    level: message`` line each."""
    lines = []
    for note in notifications:
        if note.level is Severity.NOTE and not note.fatal:
            continue
        where = "klint"
        if note.location is not None:
            span = note.location.span
            where = f"{printable(note.location.path)}:{span.start_line}:{span.start_column}"
        lines.append(f"{where}: {note.level.value}: {printable_lines(note.message)} [{note.code}]")
    return lines


def linted_lines(report: Report) -> list[str]:
    """``--verbose``: every file linted, one ``klint: linted <file>`` line each."""
    return [f"klint: linted {printable(path)}" for path in report.linted]


def skipped_lines(report: Report) -> list[str]:
    """``--verbose``: the inputs skipped, with the reason (not Kubernetes, part of a unit)."""
    lines = []
    for note in report.skipped:
        where = "<input>"
        if note.location is not None:
            where = f"{note.location.path}:{note.location.span.start_line}"
        lines.append(f"klint: skipped {printable(where)}: {printable(note.message)}")
    return lines


def config_line(explicit: Path | None, disabled: bool, cwd: Path) -> str:
    """``-v``: which configuration file this run reads."""
    from klint.config import find_config

    if disabled:
        return "klint: config: none (--no-config)"
    if explicit is not None:
        return f"klint: config: {printable(str(explicit))} (--config)"
    found = find_config(cwd)
    if found is None:
        return "klint: config: none found (defaults)"
    return f"klint: config: {printable(os.path.relpath(found, cwd))}"


def explain_text(markdown: str, stream: TextIO) -> str:
    """A rule page rendered for a terminal (rich); piped or with ``NO_COLOR``, the Markdown."""
    if not use_color(None, stream, to_file=False):
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

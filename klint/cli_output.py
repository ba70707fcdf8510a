"""Where ``klint check`` writes: the report (stdout or ``-o``), extra reports (``--report``)."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

from klint.cli_exit import UsageFailure
from klint.findings import Report
from klint.reporters import FORMATS, ReportContext, Reporter, get_reporter


def pieces_of(reporter: Reporter, report: Report, context: ReportContext) -> Iterator[str]:
    """The report in pieces: the reporter's own stream when it has one."""
    stream = getattr(reporter, "stream", None)
    if stream is not None:
        yield from stream(report, context)
    else:
        yield reporter.render(report, context)


def parse_report_spec(text: str) -> tuple[str, Path]:
    """``--report FORMAT:FILE`` → (format, path); a usage error otherwise."""
    name, colon, path = text.partition(":")
    if not colon or not path or name not in FORMATS:
        raise UsageFailure(
            f"invalid --report {text!r}: use FORMAT:FILE with FORMAT one of {', '.join(FORMATS)}"
        )
    return name, Path(path)


def write_reports(
    specs: Iterable[tuple[str, Path]], report: Report, context: ReportContext
) -> list[Path]:
    """Write each extra report (no colour); returns the files written."""
    written = []
    for name, path in specs:
        write_pieces(pieces_of(get_reporter(name), report, context), path)
        written.append(path)
    return written


def repository_path(display: str, cwd: Path) -> str:
    """A path shown relative to ``cwd`` made relative to the repository root (``git apply``
    reads patch headers from the top of the work tree, wherever it runs)."""
    import os

    from klint.run import find_root

    relative = os.path.relpath(os.path.normpath(cwd / display), find_root(cwd))
    return display if relative.startswith("..") else Path(relative).as_posix()


def write_text(text: str, output: Path | None) -> None:
    """One text to stdout or to ``output``."""
    write_pieces([text], output)


def write_pieces(pieces: Iterable[str], output: Path | None) -> None:
    """Write a report as it is formatted (a large SARIF log is never one string).

    The folder of ``output`` is created when missing (``-o out/klint.sarif``).
    """
    if output is None:
        for piece in pieces:
            sys.stdout.write(piece)
        sys.stdout.flush()
        return
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        with output.open("w", encoding="utf-8") as handle:
            for piece in pieces:
                handle.write(piece)
    except OSError as error:
        raise UsageFailure(f"cannot write {output}: {error.strerror}") from None

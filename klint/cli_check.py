"""``klint check`` after its command line is parsed: one function for every path in.

The typer command (:func:`klint.cli.check`) and the console script's fast path
(:mod:`klint.entry`) both call :func:`run_check`, so what reaches stdout, stderr and the exit
code is the same whichever parsed the command line.
"""

from __future__ import annotations

import dataclasses
import sys
from dataclasses import dataclass
from pathlib import Path

from klint import console
from klint import run as lint_run
from klint.cli_exit import exit_code
from klint.cli_output import pieces_of, write_pieces, write_reports
from klint.printable import printable
from klint.run import RunOptions


@dataclass(frozen=True)
class CheckOutput:
    """What the CLI adds to :class:`RunOptions`: where and how the report is shown."""

    output: Path | None = None
    color: bool | None = None  # None: on a terminal (NO_COLOR, FORCE_COLOR, TERM=dumb)
    verbose: bool = False
    statistics: bool = False
    show_files: bool = False  # --show-files: the files linted on stdout instead of the report
    show_fixes: bool = False
    reports: tuple[tuple[str, Path], ...] = ()  # --report FORMAT:FILE
    never: bool = False  # --fail-on never
    exit_zero: bool = False


def run_check(options: RunOptions, shown: CheckOutput) -> int:
    """Lint, write the report and the stderr lines, and return the exit code."""
    cwd = Path.cwd()
    use_color = console.use_color(shown.color, sys.stdout, to_file=shown.output is not None)
    if shown.verbose:
        console.write_stderr([console.config_line(options.config, options.no_config, cwd)])
    progress = None if options.quiet else console.Progress.on_terminal(sys.stderr)
    try:
        report, reporter, context, effective_fail_on = lint_run.lint_report(
            options, cwd=cwd, color=use_color, progress=progress
        )
    finally:
        if progress is not None:
            progress.finish()
    threshold = None if shown.never else effective_fail_on
    context = dataclasses.replace(
        context,
        fail_on=threshold,
        extra={**context.extra, **({"show_fixes": "yes"} if shown.show_fixes else {})},
    )
    console.write_stderr(report.warnings)
    if shown.show_files:
        # as ruff's --show-files: one file per line; what was skipped, with why, on stderr
        write_pieces(["".join(f"{printable(path)}\n" for path in report.linted)], shown.output)
        console.write_stderr(console.skipped_lines(report))
        return exit_code(report, threshold, zero=shown.exit_zero)
    if shown.verbose:
        console.write_stderr(console.linted_lines(report) + console.skipped_lines(report))
    write_reports(list(shown.reports), report, dataclasses.replace(context, color=False))
    if shown.statistics:
        write_pieces([console.statistics(report)], shown.output)
    else:
        write_pieces(pieces_of(reporter, report, context), shown.output)
    if shown.output is not None or options.output_format != "text" or shown.statistics:
        # the problems are not in what reached the terminal: say them on stderr
        console.write_stderr(console.problem_lines(report.notifications))
    if shown.output is not None and not options.quiet:
        console.write_stderr([console.summary_line(report)])
    return exit_code(report, threshold, zero=shown.exit_zero)

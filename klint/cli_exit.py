"""Exit codes of ``klint`` and how a finished run maps to one.

0 clean; 1 findings at or above ``--fail-on``; 2 a usage or configuration error, or part of
the input could not be linted (a chart that fails to render, a unit over its budget);
3 an internal error (a bug in klint). ``--exit-zero`` and ``--fail-on never`` turn 1 and
the "could not lint part of this" 2 into 0; the problem is still reported. A usage error
and an internal error are never turned into 0.
"""

from __future__ import annotations

import os
import sys
from typing import NoReturn

from klint.errors import KlintError
from klint.findings import Report, Severity
from klint.printable import printable

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR, EXIT_INTERNAL = 0, 1, 2, 3

# Fatal notifications that say the command line itself named nothing lintable.
USAGE_CODES = frozenset({"path-not-found", "no-files-found"})
# Notifications that are bugs in klint, not problems of the input: the unit's (or check's)
# other findings and every other unit's are still reported, and the run exits 3.
INTERNAL_CODES = frozenset({"internal-check-error", "unit-error"})


class UsageFailure(Exception):
    """A problem with the command line or configuration: exit 2 with one line."""


def exit_code(report: Report, fail_on: Severity | None, *, zero: bool = False) -> int:
    """The run's exit code; ``fail_on`` None (``--fail-on never``) or ``zero`` (``--exit-zero``)
    pass findings and input that could not be linted, never a usage or internal error."""
    fatal = [n for n in report.notifications if n.fatal]
    if any(n.code in INTERNAL_CODES for n in report.notifications):
        return EXIT_INTERNAL
    if any(n.code in USAGE_CODES for n in fatal):
        return EXIT_ERROR
    if zero or fail_on is None:
        return EXIT_CLEAN
    if fatal:
        return EXIT_ERROR
    if any(f.severity.rank >= fail_on.rank for f in report.active):
        return EXIT_FINDINGS
    if any(n.level is Severity.ERROR for n in report.notifications):
        return EXIT_FINDINGS
    return EXIT_CLEAN


def fail(message: str, code: int = EXIT_ERROR) -> NoReturn:
    """One ``klint: error:`` line on stderr (names cannot forge log lines), then exit."""
    sys.stderr.write(f"klint: error: {printable(message)}\n")
    sys.exit(code)


def exit_on_error(error: BaseException) -> NoReturn:
    """How a command that raised ends, on every CLI path: a usage or input error is one line
    and exit 2, a closed pipe is quiet, an interrupt says so, anything else is a bug (3)."""
    if isinstance(error, (UsageFailure, KlintError)):
        fail(str(error))
    if isinstance(error, BrokenPipeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(EXIT_ERROR)
    if isinstance(error, KeyboardInterrupt):
        fail("interrupted")
    fail(f"internal error: {type(error).__name__}: {error}", EXIT_INTERNAL)

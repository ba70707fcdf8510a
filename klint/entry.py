"""The ``klint`` console script: a fast path for ``klint check [--format F] [-o FILE] PATH...``.

Importing typer and click costs ~40 ms, a third of an on-save run. The common invocation is
parsed here by hand and run exactly as :func:`klint.cli.check` runs it; anything else (another
command, an option this parser does not know, no path, ``-``) goes to the typer CLI, so new
options keep working without touching this module. ``tests/test_entry.py`` checks that both
paths print the same bytes and exit with the same code.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

# Options taking a value, by spelling → RunOptions/CLI field.
_VALUED = {"--format": "format", "--output": "output", "-o": "output", "--cache-dir": "cache_dir"}
_FLAGS = {"--quiet": "quiet", "-q": "quiet", "--no-cache": "no_cache"}


def parse_check(argv: list[str]) -> dict[str, Any] | None:
    """The options of a plain ``check`` command line, or None when typer must parse it."""
    if not argv or argv[0] != "check":
        return None
    parsed: dict[str, Any] = {"format": "text", "output": None}
    paths: list[str] = []
    words = iter(argv[1:])
    for word in words:
        if not word.startswith("-"):
            paths.append(word)
            continue
        name, equals, value = word.partition("=")
        if equals and not name.startswith("--"):
            return None  # click reads "-o=x" as the value "=x": leave it to click
        if name in _VALUED:
            if not equals:
                value = next(words, "")
                if not value or value.startswith("-"):
                    return None  # let click report the missing value
            key = _VALUED[name]
            if key in parsed and parsed[key] not in (None, "text"):
                return None  # repeated: click's last-wins rule, leave it to click
            parsed[key] = value
        elif word in _FLAGS:
            parsed[_FLAGS[word]] = True
        else:
            return None  # "-", "--", --help, or an option only typer knows
    if not paths:
        return None
    parsed["paths"] = paths
    return parsed


def _check(parsed: dict[str, Any]) -> int:
    """``klint.cli.check`` for the options :func:`parse_check` accepts (the same function)."""
    import gc

    from klint.import_cost import DataclassCode, RegexCode

    # Importing the checks allocates ~100,000 long-lived objects; the collector would walk
    # them some 40 times (~5% of a one-file run) and find nothing to free.
    gc.disable()
    code, patterns = DataclassCode.load(), RegexCode.load()
    code.install()
    patterns.install()
    try:
        from klint.cli_check import CheckOutput, run_check
        from klint.run import RunOptions
    finally:
        patterns.uninstall()
        code.uninstall()
        gc.freeze()  # what the modules hold stays: later collections skip it
        gc.enable()

    output = Path(str(parsed["output"])) if parsed["output"] is not None else None
    options = RunOptions(
        paths=tuple(parsed["paths"]),
        output_format=str(parsed["format"]),
        quiet=bool(parsed.get("quiet")),
        no_cache=bool(parsed.get("no_cache")),
        cache_dir=Path(parsed["cache_dir"]) if parsed.get("cache_dir") is not None else None,
    )
    return run_check(options, CheckOutput(output=output))


def main(argv: list[str] | None = None) -> None:
    """Console entry point: the fast path when it applies, else :func:`klint.cli.main`.

    Run as the process itself (``argv`` None), it ends with :func:`exit_now`."""
    args = sys.argv[1:] if argv is None else argv
    parsed = parse_check(args)
    try:
        if parsed is None or os.environ.get("KLINT_NO_FAST_PATH"):
            from klint.cli import main as typer_main

            typer_main(args)
            code = 0
        else:
            try:
                code = _check(parsed)
            except (Exception, KeyboardInterrupt) as error:
                from klint.cli_exit import exit_on_error

                exit_on_error(error)
    except SystemExit as done:
        if argv is not None or not isinstance(done.code, int):
            raise
        code = done.code
    if argv is None:
        exit_now(code)
    sys.exit(code)


def exit_now(code: int) -> None:
    """End the process with ``code`` once exit handlers have run and output is flushed,
    without tearing down every object one by one: after a large run (a parsed CRD base of
    millions of nodes) that teardown alone took over a second. Falls back to a normal exit
    while other threads run or when flushing fails (a closed pipe reports as usual)."""
    threading = sys.modules.get("threading")
    if threading is not None and threading.active_count() > 1:
        return
    import atexit

    atexit._run_exitfuncs()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        return
    os._exit(code)

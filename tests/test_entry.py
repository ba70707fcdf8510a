"""The console script's fast path prints what the typer CLI prints, byte for byte."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from klint.entry import parse_check
from tests.conftest import REPO, run_cli

EXAMPLE = "fixtures/examples/insecure-deployment.yaml"
INVOCATIONS = [
    ("check", EXAMPLE),
    ("check", "--format", "sarif", EXAMPLE),
    ("check", "--format=json", EXAMPLE, "fixtures/examples/hardened-deployment.yaml"),
    ("check", "--format", "github", "fixtures/bad/syntax-error.yaml"),
    ("check", "-q", "fixtures/examples"),
    ("check", "--format", "nope", EXAMPLE),
    ("check", "fixtures/no-such-file.yaml"),
    ("check", "--format", "junit", "fixtures/bad"),
]


@pytest.mark.parametrize("args", INVOCATIONS, ids=lambda args: " ".join(args[1:]))
def test_fast_path_output_is_the_typer_output(args: tuple[str, ...], tmp_path: Path) -> None:
    cache = ("--cache-dir", str(tmp_path / "cache"))
    fast = run_cli(*args, *cache)
    slow = run_cli(*args, *cache, env={"KLINT_NO_FAST_PATH": "1"})
    assert (fast.stdout, fast.stderr, fast.returncode) == (
        slow.stdout,
        slow.stderr,
        slow.returncode,
    )


def test_fast_path_output_file_and_summary(tmp_path: Path) -> None:
    outputs = []
    for env in ({}, {"KLINT_NO_FAST_PATH": "1"}):
        target = tmp_path / f"out{len(outputs)}.sarif"
        done = run_cli(
            "check", "--format", "sarif", "-o", str(target), EXAMPLE, "--no-cache", env=env
        )
        outputs.append((target.read_text(), done.stdout, done.stderr, done.returncode))
    assert outputs[0] == outputs[1]
    assert "12 findings" in outputs[0][2]


def test_fast_path_does_not_import_typer() -> None:
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "klint", "check", "--no-cache", EXAMPLE],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert "klint.run" in result.stderr
    assert " typer" not in result.stderr and " click" not in result.stderr


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["rules"],
        ["check"],
        ["check", "-"],
        ["check", "--help"],
        ["check", "--fail-on", "error", "x.yaml"],
        ["check", "--format"],
        ["check", "--format", "json", "--format", "sarif", "x.yaml"],
        ["check", "--", "x.yaml"],
        ["check", "-o=out.json", "x.yaml"],
        ["check", "--quiet=yes", "x.yaml"],
    ],
)
def test_anything_else_goes_to_typer(argv: list[str]) -> None:
    assert parse_check(argv) is None


def test_the_common_invocation_is_parsed() -> None:
    assert parse_check(["check", "--format", "sarif", "-o", "out.sarif", "a.yaml", "b"]) == {
        "format": "sarif",
        "output": "out.sarif",
        "paths": ["a.yaml", "b"],
    }


def test_the_process_runs_exit_handlers_and_writes_the_whole_report() -> None:
    script = (
        "import atexit, sys\n"
        "atexit.register(lambda: sys.stderr.write('handler ran\\n'))\n"
        f"sys.argv = ['klint', 'check', '--format', 'json', '--no-cache', {EXAMPLE!r}]\n"
        "from klint.entry import main\n"
        "main()\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 1
    assert "handler ran" in done.stderr
    assert len(json.loads(done.stdout)["findings"]) == 12


def test_exit_now_skips_teardown_only_when_nothing_else_runs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import atexit
    import os
    import threading

    from klint import entry

    events: list[object] = []
    monkeypatch.setattr(atexit, "_run_exitfuncs", lambda: events.append("handlers"))
    monkeypatch.setattr(os, "_exit", lambda code: events.append(("exit", code)))
    monkeypatch.setattr(threading, "active_count", lambda: 2)
    entry.exit_now(1)
    assert events == []  # another thread runs: the normal exit joins it
    monkeypatch.setattr(threading, "active_count", lambda: 1)
    entry.exit_now(1)
    assert events == ["handlers", ("exit", 1)]


def test_an_in_process_call_exits_normally() -> None:
    from klint.entry import main

    with pytest.raises(SystemExit) as done:
        main(["check", "--no-cache", "-q", EXAMPLE])
    assert done.value.code == 1

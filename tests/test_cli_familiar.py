"""The CLI people know from ruff and kube-linter: help, version, completion, progress on a
terminal, fixable counts, statistics, JSON rule list, typo suggestions, colour variables."""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, REPO, run_cli

INSECURE = "fixtures/examples/insecure-deployment.yaml"
WIDE = {"COLUMNS": "300"}


def test_short_help_version_and_completion() -> None:
    for args in (("-h",), ("check", "-h"), ("rules", "-h")):
        result = run_cli(*args)
        assert result.returncode == 0 and "Usage: klint" in result.stdout, args
    version = run_cli("-V")
    assert version.returncode == 0 and version.stdout.startswith("klint ")
    assert version.stdout == run_cli("--version").stdout
    completion = run_cli("--show-completion", "bash", env={"SHELL": "/bin/bash"})
    assert completion.returncode == 0, completion.stderr
    assert "complete" in completion.stdout and "klint" in completion.stdout


def test_help_texts_say_never_and_the_real_render_memory_default() -> None:
    text = " ".join(run_cli("check", "--help", env=WIDE).stdout.split())
    assert "never" in text[text.index("--fail-on") :][:300]
    memory = text[text.index("--render-memory") :][:300]
    assert "768" in memory and "[default: 0]" not in memory


def test_fixable_counts_and_show_fixes() -> None:
    plain = run_cli("check", INSECURE)
    data = json.loads(run_cli("check", "--format", "json", INSECURE).stdout)
    summary = plain.stdout.splitlines()[-1]
    assert summary.startswith("klint: 12 findings")
    assert summary.endswith("; 1 fixable with `klint fix`, 8 more with `klint fix --unsafe`")
    marked = [line for line in run_cli("check", "--show-fixes", INSECURE).stdout.splitlines()]
    assert sum(" [*] fix: " in line for line in marked) == 9
    assert len(data["findings"]) == 12
    assert not any("[*]" in line for line in plain.stdout.splitlines())


def test_statistics_sorted_by_count_with_a_total() -> None:
    lines = run_cli("check", "--statistics", "fixtures/examples", "fixtures/bad").stdout
    rows = lines.splitlines()
    *rules, total = rows
    counts = [int(row.split()[0]) for row in rules]
    assert counts == sorted(counts, reverse=True) and len(counts) > 3
    assert total.split()[0] == str(sum(counts))
    assert total.endswith(f"total in {len(rules)} rules")


def test_rules_as_json_and_unknown_profile_is_an_error() -> None:
    listed = json.loads(run_cli("rules", "--format", "json").stdout)
    text_rows = run_cli("rules").stdout.splitlines()
    assert [item["id"] for item in listed] == [row.split()[0] for row in text_rows]
    first = listed[0]
    assert {"id", "name", "severity", "profiles", "help_uri", "fixable"} <= first.keys()
    restricted = json.loads(run_cli("rules", "--format", "json", "--profile", "nsa").stdout)
    assert 0 < len(restricted) < len(listed)
    bad = run_cli("rules", "--profile", "foo")
    checked = run_cli("check", "--profile", "foo", INSECURE)
    assert bad.returncode == checked.returncode == 2
    assert bad.stderr == checked.stderr and "unknown profile 'foo'" in bad.stderr


def test_typos_get_one_suggestion() -> None:
    lookalike = run_cli("check", "--select", "KL1O1", INSECURE)
    assert lookalike.returncode == 2
    assert "did you mean KL101 (privileged-container)?" in lookalike.stderr
    command = run_cli("chekc")
    assert command.returncode == 2
    assert command.stderr.count("Did you mean") == 1, command.stderr


def test_force_color_and_term_dumb(tmp_path: Path) -> None:
    forced = run_cli("check", INSECURE, env={"FORCE_COLOR": "1"})
    assert "\x1b[31merror\x1b[0m" in forced.stdout  # piped, yet coloured as asked
    assert "\x1b[" not in run_cli("check", INSECURE, env={"FORCE_COLOR": "0"}).stdout
    both = run_cli("check", INSECURE, env={"FORCE_COLOR": "1", "NO_COLOR": "1"})
    assert "\x1b[" not in both.stdout
    to_file = tmp_path / "out.txt"
    run_cli("check", "-o", str(to_file), INSECURE, env={"FORCE_COLOR": "1"})
    assert "\x1b[" not in to_file.read_text()
    from klint.console import use_color

    class Terminal:
        def isatty(self) -> bool:
            return True

    saved = {k: os.environ.pop(k, None) for k in ("TERM", "NO_COLOR", "FORCE_COLOR")}
    try:
        assert use_color(None, Terminal(), to_file=False) is True  # type: ignore[arg-type]
        os.environ["TERM"] = "dumb"
        assert use_color(None, Terminal(), to_file=False) is False  # type: ignore[arg-type]
    finally:
        for key, value in saved.items():
            os.environ.pop(key, None)
            if value is not None:
                os.environ[key] = value


def run_with_terminal_stderr(*args: str, cwd: Path = REPO) -> tuple[int, str, str]:
    """Run klint with stderr on a pseudo-terminal (stdout a pipe); returns code, out, err."""
    if sys.platform == "win32":
        pytest.skip("needs a pseudo-terminal")
    master, slave = os.openpty()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("GITHUB_ACTIONS", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "klint", *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=slave,
        env=env,
    )
    os.close(slave)
    chunks = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.5)
        if ready:
            try:
                data = os.read(master, 4096)
            except OSError:  # the child closed its end
                break
            if not data:
                break
            chunks.append(data)
        elif process.poll() is not None:
            break
    out = process.stdout.read().decode() if process.stdout else ""
    code = process.wait(timeout=60)
    os.close(master)
    return code, out, b"".join(chunks).decode()


def test_progress_on_a_terminal_only(tmp_path: Path) -> None:
    for index in range(3):
        folder = tmp_path / f"app{index}"
        folder.mkdir()
        (folder / "deploy.yaml").write_text(
            (FIXTURES / "examples" / "hardened-deployment.yaml").read_text()
        )
    code, out, err = run_with_terminal_stderr("check", "--jobs", "1", ".", cwd=tmp_path)
    assert code == 0, err
    assert "klint: 3/3 lint units" in err, repr(err)
    cleared = err.rsplit("\r", 2)[-2]
    assert err.endswith("\r") and cleared.strip() == "" and cleared  # the line is wiped
    assert "lint unit" not in out  # the report stays clean
    piped = run_cli("check", "--jobs", "1", ".", cwd=tmp_path)
    assert "lint unit" not in piped.stderr + piped.stdout
    code, _, quiet_err = run_with_terminal_stderr("check", "-q", ".", cwd=tmp_path)
    assert "lint unit" not in quiet_err


@pytest.mark.skipif(
    __import__("importlib").util.find_spec("helm_python") is None, reason="needs helm-python-sdk"
)
def test_render_errors_keep_their_newlines_but_cannot_forge_log_lines(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    chart = tmp_path / "c"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: c\nversion: 0.1.0\n")
    (chart / "templates" / "a.yaml").write_text(
        '{{ fail "first line\\nsecond \\u001b[31mred\\n::error::forged\\n##[error]old" }}\n'
    )
    for fmt in ("text", "json"):
        result = run_cli("check", "--format", fmt, "c", cwd=tmp_path)
        assert result.returncode == 2
        shown = result.stdout if fmt == "text" else result.stderr
        lines = shown.splitlines()
        start = next(i for i, line in enumerate(lines) if "failed to render" in line)
        assert lines[start].endswith("first line"), lines
        assert lines[start + 1] == "    | second \\x1b[31mred"  # real newline, escaped ANSI
        assert lines[start + 2] == "    | ::error::forged"  # never at the start of a line
        assert lines[start + 3].startswith("    | ##\\[error]old")  # then the values advice
        assert lines[start + 3].endswith("[helm-render]")
        assert not any(line.lstrip().startswith("::") for line in lines)


def test_rules_json_of_a_hostile_custom_rule_cannot_forge_log_lines(tmp_path: Path) -> None:
    from tests.adversarial.test_forged_commands import RULE, forged_lines

    (tmp_path / ".git").mkdir()
    (tmp_path / "rules").mkdir()
    hostile = RULE.format(id="EVIL-001").replace(
        "summary: A hostile custom rule", 'summary: "##[error]legacy \\u202e bidi"'
    )
    (tmp_path / "rules" / "evil.yaml").write_text(hostile)
    done = run_cli("rules", "--format", "json", "--no-config", "--rules-dir", "rules", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert not forged_lines(done.stdout) and "##[" not in done.stdout
    (evil,) = [r for r in json.loads(done.stdout) if r["id"] == "EVIL-001"]
    assert evil["summary"] == "##[error]legacy \u202e bidi"  # lossless JSON escapes
    assert "\u202e" not in done.stdout

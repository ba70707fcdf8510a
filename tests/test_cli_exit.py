"""Exit codes 0/1/2/3, errors on stderr in every format, paths that hold nothing, outputs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from klint.cli_exit import EXIT_CLEAN, EXIT_ERROR, EXIT_FINDINGS, EXIT_INTERNAL, exit_code
from klint.findings import Notification, Report, Severity
from tests.conftest import FIXTURES, REPO, needs_helm_sdk, run_cli

INSECURE = "fixtures/examples/insecure-deployment.yaml"
BROKEN_CHART = "fixtures/helm/broken"  # a value it needs is missing (`fail`): the render fails
needs_helm = needs_helm_sdk


def report_with(*codes: str, fatal: bool = True) -> Report:
    return Report(notifications=[Notification(code, "x", None, fatal=fatal) for code in codes])


@pytest.mark.parametrize(
    ("codes", "zero", "expected"),
    [
        ((), False, EXIT_CLEAN),
        (("helm-render",), False, EXIT_ERROR),
        (("helm-render",), True, EXIT_CLEAN),  # could not lint part of it: --exit-zero passes
        (("path-not-found",), True, EXIT_ERROR),  # a usage error never passes
        (("no-files-found",), True, EXIT_ERROR),
        (("internal-check-error",), False, EXIT_INTERNAL),  # a bug in klint
        (("internal-check-error", "helm-render"), True, EXIT_INTERNAL),
    ],
)
def test_exit_code_classes(codes: tuple[str, ...], zero: bool, expected: int) -> None:
    assert exit_code(report_with(*codes), Severity.WARNING, zero=zero) == expected
    if zero:  # --fail-on never (no threshold) acts as --exit-zero
        assert exit_code(report_with(*codes), None) == expected


def test_a_bug_inside_one_unit_exits_3_even_when_not_fatal() -> None:
    # a check that raised (non-fatal: the unit's other findings stand) is still a bug
    assert exit_code(report_with("internal-check-error", fatal=False), None) == EXIT_INTERNAL
    assert exit_code(report_with("unit-error", fatal=False), Severity.ERROR) == EXIT_INTERNAL


def test_fail_on_never_passes_findings_but_not_usage_errors() -> None:
    assert exit_code(report_with("helm-render"), None) == EXIT_CLEAN
    assert exit_code(report_with("path-not-found"), None) == EXIT_ERROR
    assert exit_code(report_with("x", fatal=False), Severity.WARNING) == EXIT_FINDINGS


@needs_helm
@pytest.mark.parametrize("fmt", ["json", "sarif", "junit", "markdown", "gitlab-codequality"])
def test_a_render_failure_is_on_stderr_in_every_format(fmt: str) -> None:
    result = run_cli("check", "--format", fmt, INSECURE, BROKEN_CHART)
    assert result.returncode == 2, result.stderr
    assert (
        f"{BROKEN_CHART}/templates/configmap.yaml:6:1: error: chart {BROKEN_CHART} failed"
        in result.stderr
    )
    assert "[helm-render]" in result.stderr


@needs_helm
def test_exit_zero_and_never_pass_unlintable_input_but_still_report_it() -> None:
    for flag in (("--exit-zero",), ("--fail-on", "never")):
        result = run_cli("check", "--format", "sarif", *flag, INSECURE, BROKEN_CHART)
        assert result.returncode == 0, (flag, result.stderr)
        assert "[helm-render]" in result.stderr
        (run,) = json.loads(result.stdout)["runs"]
        assert run["invocations"][0]["executionSuccessful"] is False
        assert run["results"]
    missing = run_cli("check", "--exit-zero", "no/such/path")
    assert missing.returncode == 2  # a usage error stays one


def test_paths_that_hold_nothing_say_so_and_exit_2(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "readme.txt").write_text("hello\n")
    (tmp_path / "readme.txt").write_text("hello\n")
    for path in ("empty", "docs", "readme.txt"):
        for fmt in ("text", "json"):
            result = run_cli("check", "--format", fmt, path, cwd=tmp_path)
            assert result.returncode == 2, (path, fmt, result.stdout, result.stderr)
            said = result.stderr if fmt != "text" else result.stdout  # text: in the report
            assert f"no Kubernetes files found in {path}" in said, result
    # YAML that is not Kubernetes (a CI workflow) was found and passes quietly
    (tmp_path / "ci.yml").write_text("on: push\n")
    assert run_cli("check", "ci.yml", cwd=tmp_path).returncode == 0


def test_output_folder_is_created_and_extra_reports_come_from_the_same_run(
    tmp_path: Path,
) -> None:
    sarif = tmp_path / "out" / "deep" / "klint.sarif"
    summary = tmp_path / "summary" / "klint.md"
    result = run_cli(
        "check",
        "--output-format",
        "sarif",
        "-o",
        str(sarif),
        "--report",
        f"markdown:{summary}",
        INSECURE,
    )
    assert result.returncode == 1, result.stderr
    results = json.loads(sarif.read_text())["runs"][0]["results"]
    text = summary.read_text()
    assert text.startswith(f"## klint: {len(results)} findings")
    bad = run_cli("check", "--report", "nope:x", INSECURE)
    assert bad.returncode == 2 and "invalid --report 'nope:x'" in bad.stderr


def test_verbose_names_the_config_file(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(
        (FIXTURES / "examples" / "hardened-deployment.yaml").read_text()
    )
    (tmp_path / ".git").mkdir()
    assert "klint: config: none found" in run_cli("check", "-v", "a.yaml", cwd=tmp_path).stderr
    (tmp_path / ".klint.yaml").write_text("fail-on: error\n")
    result = run_cli("check", "-v", "a.yaml", cwd=tmp_path)
    assert "klint: config: .klint.yaml\n" in result.stderr
    assert "(--no-config)" in run_cli("check", "-v", "--no-config", "a.yaml", cwd=tmp_path).stderr
    assert REPO.exists()


def test_kl000_has_a_page_that_exists_and_explain_shows_it() -> None:
    from klint.reporters import input_problem

    page = REPO / "docs" / "input-problems.md"
    assert page.read_text() == input_problem.PAGE, "run `python -m klint docs`"
    assert input_problem.HELP_URI.endswith("/blob/main/docs/input-problems.md")
    for name in ("KL000", "kl000", "input-problem"):
        result = run_cli("explain", name)
        assert result.returncode == 0, result.stderr
        assert result.stdout == input_problem.PAGE


def test_a_bug_in_klint_exits_3_with_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import klint.run
    from klint.cli import main

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(klint.run, "lint_report", broken)
    # cli_check calls it through the module, so the patch holds whatever was imported before
    with pytest.raises(SystemExit) as exit_info:
        main(["check", "--exit-zero", INSECURE])  # --exit-zero never hides a bug
    assert exit_info.value.code == EXIT_INTERNAL
    assert capsys.readouterr().err == "klint: error: internal error: RuntimeError: boom\n"

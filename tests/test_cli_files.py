"""``-v`` lists every file linted and every file skipped with why, ``--show-files`` prints the
files linted one per line (as ruff's does) and exits as check would, and the summary line
says when something was skipped (issue 23 §1)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from klint.entry import parse_check
from tests.conftest import FIXTURES, needs_helm_sdk, run_cli

DEPLOYMENT = (FIXTURES / "examples" / "insecure-deployment.yaml").read_text(encoding="utf-8")


def _tree(tmp_path: Path) -> Path:
    (tmp_path / "deploy").mkdir()
    (tmp_path / "deploy" / "app.yaml").write_text(DEPLOYMENT, encoding="utf-8")
    (tmp_path / "deploy" / "ci.yaml").write_text("jobs: {build: {runs-on: ubuntu}}\n")
    (tmp_path / "web.yaml").write_text(DEPLOYMENT.replace("name: ", "name: web-", 1))
    return tmp_path


def test_verbose_lists_every_file_linted_and_every_file_skipped_with_why(tmp_path: Path) -> None:
    result = run_cli("check", "-v", ".", cwd=_tree(tmp_path))
    lines = result.stderr.splitlines()
    assert "klint: linted deploy/app.yaml" in lines
    assert "klint: linted web.yaml" in lines
    assert not any(line.startswith("klint: linted deploy/ci.yaml") for line in lines)
    (skipped,) = [line for line in lines if line.startswith("klint: skipped ")]
    assert skipped.startswith("klint: skipped deploy/ci.yaml:1: ")
    assert len(skipped) > len("klint: skipped deploy/ci.yaml:1: ")  # the reason


def test_the_summary_says_when_files_were_skipped(tmp_path: Path) -> None:
    summary = run_cli("check", ".", cwd=_tree(tmp_path)).stdout.splitlines()[-1]
    assert "1 file skipped (-v lists them)" in summary
    (tmp_path / "deploy" / "ci.yaml").unlink()
    assert "skipped" not in run_cli("check", ".", cwd=tmp_path).stdout.splitlines()[-1]


@pytest.mark.parametrize("fail_on", [[], ["--fail-on", "never"]])
def test_show_files_prints_the_files_linted_and_exits_as_check_would(
    tmp_path: Path, fail_on: list[str]
) -> None:
    tree = _tree(tmp_path)
    shown = run_cli("check", "--show-files", *fail_on, ".", cwd=tree)
    assert shown.stdout.splitlines() == ["deploy/app.yaml", "web.yaml"]
    assert "deploy/ci.yaml" in shown.stderr  # skipped, with why, on stderr
    assert shown.returncode == run_cli("check", *fail_on, ".", cwd=tree).returncode
    summary = json.loads(run_cli("check", "--format", "json", ".", cwd=tree).stdout)["summary"]
    assert summary["files"] == len(shown.stdout.splitlines())


@pytest.mark.parametrize("flag", ["-v", "--verbose", "--show-files"])
def test_the_fast_path_leaves_the_new_flags_to_typer(flag: str) -> None:
    assert parse_check(["check", flag, "."]) is None


@needs_helm_sdk
def test_show_files_lists_a_charts_templates_and_its_crds() -> None:
    shown = run_cli("check", "--show-files", "chart-with-crds", cwd=FIXTURES / "signal")
    assert shown.stdout.splitlines() == [
        "chart-with-crds/crds/extra/gadgets.yaml",
        "chart-with-crds/crds/widgets.yaml",
        "chart-with-crds/templates/clusterrole.yaml",
    ]


def test_show_files_lists_what_an_overlay_build_read_patches_included() -> None:
    if shutil.which("kustomize") is None and shutil.which("kubectl") is None:
        pytest.skip("needs kustomize or kubectl")
    shown = run_cli(
        "check", "--show-files", "--no-cache", "overlays/prod", cwd=FIXTURES / "kustomize"
    )
    assert shown.stdout.splitlines() == [
        "base/deployment.yaml",
        "base/kustomization.yaml",
        "base/service.yaml",
        "overlays/prod/escalation.json.yaml",  # a JSON 6902 patch
        "overlays/prod/kustomization.yaml",
        "overlays/prod/privileged.yaml",  # a strategic-merge patch
    ]


@pytest.mark.parametrize("form", [["--format", "json"], ["-o", "report.txt"]])
def test_warning_level_input_problems_are_said_on_stderr_too(
    tmp_path: Path, form: list[str]
) -> None:
    (tmp_path / "cm.yaml").write_text(
        'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  name: b\ndata: {x: "1"}\n'
    )
    result = run_cli("check", "--no-cache", *form, "cm.yaml", cwd=tmp_path)
    assert result.returncode == 0  # a warning does not fail the run
    assert any(
        line.startswith("cm.yaml:5:3: warning: duplicate key")
        for line in result.stderr.splitlines()
    )

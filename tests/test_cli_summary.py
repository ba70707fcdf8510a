"""What the summary counts (each file once), what ``klint fix`` says it fixed, diff headers."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, run_cli

POD = (
    "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n"
    "    - name: a\n      image: a:1.0\n      securityContext: {privileged: true}\n"
)


def summary_files(cwd: Path, *paths: str) -> int:
    data = json.loads(run_cli("check", "--format", "json", *paths, cwd=cwd).stdout)
    return int(data["summary"]["files"])


def test_a_base_used_by_many_overlays_is_one_file(tmp_path: Path) -> None:
    if shutil.which("kustomize") is None and shutil.which("kubectl") is None:
        pytest.skip("needs kustomize or kubectl")
    (tmp_path / ".git").mkdir()
    (tmp_path / "base").mkdir()
    (tmp_path / "base" / "pod.yaml").write_text(POD)
    (tmp_path / "base" / "kustomization.yaml").write_text("resources: [pod.yaml]\n")
    for name in ("dev", "prod", "test"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "kustomization.yaml").write_text(
            f"resources: [../base]\ncommonLabels: {{tier: {name}}}\n"
        )
    # base/pod.yaml, read by four builds, is one file; so is each kustomization.yaml
    assert summary_files(tmp_path, ".") == 5
    (tmp_path / "plain.yaml").write_text(POD.replace("name: p}", "name: q}"))
    assert summary_files(tmp_path, ".") == 6


def test_an_empty_config_or_manifest_is_not_a_linted_file(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "pod.yaml").write_text(POD)
    (tmp_path / ".klint.yaml").write_text("")
    (tmp_path / "empty.yaml").write_text("# nothing yet\n")
    assert summary_files(tmp_path, ".") == 1
    result = run_cli("check", "-v", ".", cwd=tmp_path)
    assert "klint: skipped empty.yaml:1: empty" in result.stderr
    assert "in 1 object from 1 file;" in result.stdout.splitlines()[-1]


def test_a_broken_config_is_not_called_a_manifest(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "pod.yaml").write_text(POD)
    (tmp_path / ".klint.yaml").write_text("select: [\n")
    result = run_cli("check", ".", cwd=tmp_path)
    assert result.returncode == 2
    assert "invalid configuration: YAML syntax error" in result.stderr
    assert "not a Kubernetes manifest" not in result.stderr


def active_count(cwd: Path, path: str) -> int:
    data = json.loads(run_cli("check", "--format", "json", path, cwd=cwd).stdout)
    return int(data["summary"]["findings"])


def test_fix_unsafe_says_how_many_findings_went_away(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    shutil.copy(FIXTURES / "examples" / "insecure-deployment.yaml", tmp_path / "app.yaml")
    (tmp_path / "pod.yaml").write_text(POD)
    before = active_count(tmp_path, ".")
    result = run_cli("fix", "--unsafe", ".", cwd=tmp_path)
    after = active_count(tmp_path, ".")
    assert before > after
    (line,) = [line for line in result.stderr.splitlines() if "klint: fixed " in line]
    assert line.startswith(f"klint: fixed {before - after} finding(s) with "), (line, before, after)


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_fix_diff_headers_are_repository_relative_and_git_apply_takes_them(
    tmp_path: Path,
) -> None:
    def git(*args: str, cwd: Path = tmp_path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)

    git("init", "-q")
    sub = tmp_path / "deploy" / "k8s"
    sub.mkdir(parents=True)
    shutil.copy(FIXTURES / "examples" / "insecure-deployment.yaml", sub / "app.yaml")
    patch = run_cli("fix", "--diff", "--unsafe", "app.yaml", cwd=sub).stdout
    assert "--- a/deploy/k8s/app.yaml\n+++ b/deploy/k8s/app.yaml\n" in patch
    (tmp_path / "fix.patch").write_text(patch)
    for where in (tmp_path, sub):  # from the top and from the file's folder
        checked = git("apply", "--check", str(tmp_path / "fix.patch"), cwd=where)
        assert checked.returncode == 0, checked.stderr
    applied = git("apply", str(tmp_path / "fix.patch"))
    assert applied.returncode == 0, applied.stderr
    assert active_count(sub, "app.yaml") < active_count(
        tmp_path, str(FIXTURES / "examples" / "insecure-deployment.yaml")
    )

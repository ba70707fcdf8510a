"""Paths named on the command line (pre-commit's file lists) never lead out of the repository."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import run_cli

SECRET = "apiVersion: v1\nkind: Secret\nmetadata: {name: stolen-canary-7f3a}\n"
POD = (
    "apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n  containers: [{name: a, image: a}]\n"
)


def test_a_named_link_out_of_the_repository_is_refused_and_the_rest_linted(
    tmp_path: Path,
) -> None:
    outside = tmp_path / "outside.yaml"
    outside.write_text(SECRET + "bad: [\n", encoding="utf-8")
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "leak.yaml").symlink_to(outside)
    (repo / "pod.yaml").write_text(POD, encoding="utf-8")
    result = run_cli("check", "--format", "json", "leak.yaml", "pod.yaml", cwd=repo)
    assert result.returncode == 1
    assert "stolen-canary" not in result.stdout + result.stderr
    assert '"code": "outside-root"' in result.stdout
    assert '"path": "leak.yaml"' in result.stdout
    assert '"path": "pod.yaml"' in result.stdout  # the other file is still linted


def test_a_named_link_inside_the_repository_is_linted(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "real").mkdir()
    (repo / "real" / "pod.yaml").write_text(POD, encoding="utf-8")
    (repo / "pod.yaml").symlink_to(repo / "real" / "pod.yaml")
    result = run_cli("check", "--format", "json", "pod.yaml", cwd=repo)
    assert "outside-root" not in result.stdout
    assert '"rule_id"' in result.stdout


def test_a_committed_baseline_that_links_out_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside.json"
    outside.write_text('{"stolen-canary": 1}', encoding="utf-8")
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "pod.yaml").write_text(POD, encoding="utf-8")
    (repo / ".klint-baseline.json").symlink_to(outside)
    result = run_cli("check", "--baseline", ".klint-baseline.json", "pod.yaml", cwd=repo)
    assert result.returncode == 2
    assert "symbolic link" in result.stderr
    assert "stolen-canary" not in result.stdout + result.stderr


def test_a_baseline_that_is_a_device_is_refused_without_reading_it(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "pod.yaml").write_text(POD, encoding="utf-8")
    result = run_cli("check", "--baseline", "/dev/zero", "pod.yaml", cwd=repo)
    assert result.returncode == 2
    assert "not a klint baseline" in result.stderr or "outside" in result.stderr

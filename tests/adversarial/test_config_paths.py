"""``.klint.yaml`` comes with the pull request: every path in it stays inside the repository."""

from __future__ import annotations

from pathlib import Path

import pytest

from klint.config import ConfigError, load_config
from tests.conftest import run_cli

SECRET = "CI_TOKEN=super-secret-value"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository with a file outside it that holds a secret."""
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "values.yaml").write_text(f"{SECRET}: [\n", encoding="utf-8")
    (tmp_path / "outside" / "rules").mkdir()
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    (root / "chart").mkdir()
    (root / "chart" / "values-prod.yaml").write_text("replicas: 2\n", encoding="utf-8")
    return root


@pytest.mark.parametrize(
    ("config", "line", "key"),
    [
        (
            "helm:\n  charts:\n    chart:\n      values: [../outside/values.yaml]\n",
            4,
            "helm.charts.chart.values.0",
        ),
        (
            "helm:\n  charts:\n    chart:\n      values: [{outside}/values.yaml]\n",
            4,
            "helm.charts.chart.values.0",
        ),
        ("rules-dirs: [../outside/rules]\n", 1, "rules-dirs.0"),
        ("helm:\n  charts:\n    ../outside: {}\n", 3, "helm.charts.../outside"),
        ("kustomize:\n  overlays:\n    /etc: {}\n", 3, "kustomize.overlays./etc"),
    ],
)
def test_paths_outside_the_repository_are_refused(
    repo: Path, config: str, line: int, key: str
) -> None:
    (repo / ".klint.yaml").write_text(
        config.replace("{outside}", str(repo.parent / "outside")), encoding="utf-8"
    )
    with pytest.raises(ConfigError) as raised:
        load_config(repo / ".klint.yaml", ".klint.yaml")
    message = str(raised.value)
    assert message.startswith(f".klint.yaml:{line}:"), message
    assert f" {key}: " in message
    assert "outside the root" in message
    assert SECRET not in message


def test_a_symlink_inside_that_leads_outside_is_refused(repo: Path) -> None:
    (repo / "chart" / "linked.yaml").symlink_to(repo.parent / "outside" / "values.yaml")
    (repo / ".klint.yaml").write_text(
        "helm:\n  charts:\n    chart:\n      values: [chart/linked.yaml]\n", encoding="utf-8"
    )
    with pytest.raises(ConfigError, match="is a symbolic link that leads outside"):
        load_config(repo / ".klint.yaml")


def test_a_config_that_is_a_symlink_to_outside_is_not_read(repo: Path) -> None:
    (repo / ".klint.yaml").symlink_to(repo.parent / "outside" / "values.yaml")
    (repo / "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\n", encoding="utf-8")
    result = run_cli("check", "cm.yaml", cwd=repo)
    assert result.returncode == 2
    assert ".klint.yaml: is a symbolic link that leads outside" in result.stderr
    assert SECRET not in result.stderr + result.stdout


def test_paths_inside_the_repository_still_work(repo: Path) -> None:
    (repo / "rules").mkdir()
    (repo / ".klint.yaml").write_text(
        "rules-dirs: [rules]\n"
        "helm:\n  charts:\n    chart:\n      values: [chart/values-prod.yaml]\n",
        encoding="utf-8",
    )
    config = load_config(repo / ".klint.yaml")
    assert config.rules_dirs == ((repo / "rules").resolve(),)
    assert config.charts[(repo / "chart").resolve()].values == (
        str((repo / "chart" / "values-prod.yaml").resolve()),
    )

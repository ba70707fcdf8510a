"""Editor mode, ``klint check --stdin-filename PATH -`` (integration.md E1, E2, E4)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import pytest

from tests.conftest import run_cli

DEPLOYMENT = b"""\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: app
          image: nginx:1.27.3
          securityContext:
            privileged: true
"""


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / ".git").mkdir()
    (tmp_path / "sub").mkdir()
    return tmp_path


def sarif_uris(stdout: str) -> set[str]:
    log = json.loads(stdout)
    return {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        for r in log["runs"][0]["results"]
    }


def stdin_check(cwd: Path, path: str, *args: str, data: bytes = DEPLOYMENT) -> Any:
    return run_cli("check", "--stdin-filename", path, *args, "-", cwd=cwd, stdin=data)


def test_text_reports_the_given_path(repo: Path) -> None:
    result = stdin_check(repo, "deploy/web.yaml")
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert all(line.startswith("deploy/web.yaml:") for line in lines[:-1])
    assert lines[-1].startswith("klint: ")
    assert [line for line in lines if "[KL101 " in line] == [
        (
            'deploy/web.yaml:16:25: error: container "app" sets securityContext.privileged to '
            "true (Pod Security Standards baseline: Privileged Containers). "
            "[KL101 privileged-container]"
        )
    ]
    assert not (repo / "deploy").exists()  # the path need not exist and is never created


def test_relative_path_stays_as_given_from_a_subdirectory(repo: Path) -> None:
    """Not made root-relative: nvim-lint joins relative URIs with its cwd."""
    result = stdin_check(repo / "sub", "x/web.yaml", "--format", "sarif")
    assert result.returncode == 1, result.stderr
    assert sarif_uris(result.stdout) == {"x/web.yaml"}


def test_relative_path_is_percent_encoded(repo: Path) -> None:
    result = stdin_check(repo, "my dir/web 1.yaml", "--format", "sarif")
    assert sarif_uris(result.stdout) == {"my%20dir/web%201.yaml"}


def test_absolute_path_gives_a_file_uri(repo: Path) -> None:
    target = repo / "sub" / "web.yaml"
    result = stdin_check(repo, str(target), "--format", "sarif")
    assert sarif_uris(result.stdout) == {target.as_uri()}
    assert sarif_uris(result.stdout) == {f"file://{target}"}


def nvim_lint_for_sarif_match(uri: str, buffer: str, cwd: Path) -> bool:
    """nvim-lint's for_sarif: ``file://`` URIs become paths, others are joined with cwd."""
    if uri.startswith("file://"):
        path = unquote(urlparse(uri).path)
    else:
        path = os.path.normpath(os.path.join(cwd, unquote(uri)))
    return path == buffer


@pytest.mark.parametrize("relative", [True, False])
def test_nvim_lint_matches_every_result_to_the_buffer(repo: Path, relative: bool) -> None:
    buffer = repo / "sub" / "app" / "web.yaml"
    given = "app/web.yaml" if relative else str(buffer)
    result = stdin_check(repo / "sub", given, "--format", "sarif")
    log = json.loads(result.stdout)
    results = log["runs"][0]["results"]
    assert len(results) >= 3
    for item in results:
        location = item["locations"][0]["physicalLocation"]
        assert location["region"]["startLine"] >= 1 and item["message"]["text"]
        uri = location["artifactLocation"]["uri"]
        assert nvim_lint_for_sarif_match(uri, str(buffer), repo / "sub"), uri


def test_json_and_stderr_clean(repo: Path) -> None:
    result = stdin_check(repo, "web.yaml", "--format", "json")
    document = json.loads(result.stdout)
    assert {f["path"] for f in document["findings"]} == {"web.yaml"}
    assert result.stderr == ""


def test_config_is_found_from_the_path_not_the_cwd(repo: Path) -> None:
    (repo / "sub" / ".klint.yaml").write_text("ignore: [KL101]\n")
    from_root = stdin_check(repo, "sub/web.yaml", "--format", "json")
    ids = {f["rule_id"] for f in json.loads(from_root.stdout)["findings"]}
    assert "KL101" not in ids and "KL201" in ids
    elsewhere = stdin_check(repo, "other/web.yaml", "--format", "json")
    assert "KL101" in {f["rule_id"] for f in json.loads(elsewhere.stdout)["findings"]}


def test_excluded_path_reports_nothing(repo: Path) -> None:
    (repo / ".klint.yaml").write_text("exclude: [generated/]\n")
    result = stdin_check(repo, "generated/web.yaml")
    assert result.returncode == 0, result.stdout
    kept = stdin_check(repo, "kept/web.yaml")
    assert kept.returncode == 1


def test_parse_errors_are_reported_on_the_path(repo: Path) -> None:
    result = stdin_check(
        repo, "broken.yaml", "--format", "json", data=b"apiVersion: v1\nkind: [Pod\nb: 3\n"
    )
    notes = json.loads(result.stdout)["notifications"]
    assert [n["path"] for n in notes] == ["broken.yaml"]
    assert result.returncode == 1

"""Packaged charts (``x-1.0.tgz``): findings on the template line inside the archive, and a
release archive kept in a repository (a Helm repository in git) linted as published."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path
from typing import Any

from tests.conftest import HELM_FIXTURES, needs_helm_sdk, run_cli

pytestmark = needs_helm_sdk


def _package(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    (repo / "helm-releases").mkdir(parents=True)
    with tarfile.open(repo / "helm-releases" / "web-0.1.0.tgz", "w:gz") as tar:
        tar.add(HELM_FIXTURES / "web", arcname="web")
    return repo


def _findings(repo: Path, *paths: str) -> list[dict[str, Any]]:
    result = run_cli("check", "--no-cache", "--format", "json", *paths, cwd=repo)
    findings: list[dict[str, Any]] = json.loads(result.stdout)["findings"]
    return findings


def test_a_packaged_chart_is_located_on_the_template_line_inside_the_archive(
    tmp_path: Path,
) -> None:
    repo = _package(tmp_path)
    privileged = [
        f for f in _findings(repo, "helm-releases/web-0.1.0.tgz") if f["rule_id"] == "KL101"
    ]
    assert [(f["path"], f["severity"]) for f in privileged] == [
        ("helm-releases/web-0.1.0.tgz!/web/templates/deployment.yaml", "error")
    ]
    assert privileged[0]["line"] > 1


def test_release_archives_in_a_repository_are_published_notes_privileged_included(
    tmp_path: Path,
) -> None:
    repo = _package(tmp_path)
    named = {
        (f["rule_id"], f["line"]): f["severity"]
        for f in _findings(repo, "helm-releases/web-0.1.0.tgz")
    }
    whole = _findings(repo, ".")
    lowered = [f for f in whole if ("expected-for", "published") in _properties(f)]
    assert lowered and all("a packaged chart release" in f["message"] for f in lowered)
    assert all(f["severity"] == "note" for f in lowered)
    assert any(named[(f["rule_id"], f["line"])] != "note" for f in lowered)
    # a copy fixed in its chart sources: never-downgraded rules are notes there too, and
    # keep their level when the archive is named on the command line
    privileged = [f for f in whole if f["rule_id"] == "KL101"]
    assert privileged and all(f in lowered for f in privileged)
    assert all(named[(f["rule_id"], f["line"])] == "error" for f in privileged)


def _properties(finding: dict[str, Any]) -> set[tuple[str, str]]:
    props = finding.get("properties") or {}
    return {(k, str(v)) for k, v in props.items()} if isinstance(props, dict) else set()

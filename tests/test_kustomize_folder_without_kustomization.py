"""A folder named as a resource that has no kustomization file: kustomize cannot build it,
and klint says why (kustomize itself only says, from klint's copy, that it cannot read it)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import run_cli

pytestmark = pytest.mark.skipif(
    shutil.which("kustomize") is None and shutil.which("kubectl") is None,
    reason="needs kustomize or kubectl",
)


def test_a_folder_whose_kustomization_a_makefile_writes_is_named_with_the_reason(
    tmp_path: Path,
) -> None:
    """solr-operator: config/manager holds kustomization_base.yaml, which its Makefile copies
    to kustomization.yaml before deploying."""
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "config" / "manager").mkdir(parents=True)
    (repo / "config" / "manager" / "kustomization_base.yaml").write_text("resources: []\n")
    (repo / "config" / "default").mkdir()
    (repo / "config" / "default" / "kustomization.yaml").write_text("resources:\n  - ../manager\n")
    result = run_cli("check", "--format", "json", "--no-cache", "config/default", cwd=repo)
    [problem] = json.loads(result.stdout)["notifications"]
    assert result.returncode == 2 and problem["code"] == "kustomize-build"
    assert "'../manager'" in problem["message"]
    assert "without a kustomization file" in problem["message"]
    assert "kustomization_base.yaml" in problem["message"]
    assert "lstat" not in problem["message"] and str(tmp_path) not in problem["message"]

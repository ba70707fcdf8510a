"""A JSON 6902 patch that changes ``/kind`` keeps the trace to the declaring file
(fixtures/kustomize-kind-patch, modelled on a namespace-install overlay that turns a
ClusterRole into a Role)."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from tests.conftest import REPO, run_cli

pytestmark = pytest.mark.skipif(shutil.which("kubectl") is None, reason="needs kubectl")
OVERLAY = "fixtures/kustomize-kind-patch/namespace-install"


def test_findings_on_an_object_whose_kind_a_patch_changed_stay_on_its_base_lines() -> None:
    built = subprocess.run(
        ["kubectl", "kustomize", OVERLAY], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert "kind: Role\n" in built.stdout  # the patch did change the kind
    data = json.loads(run_cli("check", "--format", "json", OVERLAY).stdout)
    assert data["findings"]
    assert {f["path"] for f in data["findings"]} == {
        "fixtures/kustomize-kind-patch/base/clusterrole.yaml"
    }
    wildcard = sorted(f["line"] for f in data["findings"] if f["rule_id"] == "KL501")
    assert wildcard == [9, 10, 11]  # apiGroups, resources, verbs of rules[1]

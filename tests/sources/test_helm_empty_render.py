"""A chart whose default values render nothing is linted with its ci/ values, or said to
render nothing (issue 23 §1: -v names every input looked at)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import needs_helm_sdk, run_cli

TEMPLATE = """{{- range .Values.deployments }}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .name }}
spec:
  selector: {matchLabels: {app: {{ .name }}}}
  template:
    metadata: {labels: {app: {{ .name }}}}
    spec:
      containers:
        - name: app
          image: nginx:1.27
          securityContext:
            privileged: true
---
{{- end }}
"""


def _chart(root: Path, ci: bool) -> Path:
    (root / ".git").mkdir()
    chart = root / "generic"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: generic\nversion: 0.1.0\n")
    (chart / "values.yaml").write_text("deployments: []\n")
    (chart / "templates" / "deployments.yaml").write_text(TEMPLATE)
    if ci:
        (chart / "ci").mkdir()
        (chart / "ci" / "ct-values.yaml").write_text("deployments:\n  - name: web\n")
    return chart


@needs_helm_sdk
def test_an_empty_default_render_is_linted_with_the_ci_values(tmp_path: Path) -> None:
    _chart(tmp_path, ci=True)
    result = run_cli("check", "--no-cache", "--format", "json", ".", cwd=tmp_path)
    data = json.loads(result.stdout)
    privileged = [f for f in data["findings"] if f["rule_id"] == "KL101"]
    assert [(f["path"], f["line"]) for f in privileged] == [
        ("generic/templates/deployments.yaml", 15)
    ]
    (note,) = data["notifications"]
    assert note["path"] == "generic/ci/ct-values.yaml"
    assert "render no object" in note["message"]
    assert result.returncode == 1


@needs_helm_sdk
def test_an_empty_render_without_ci_values_is_said_in_verbose(tmp_path: Path) -> None:
    _chart(tmp_path, ci=False)
    result = run_cli("check", "-v", "--no-cache", ".", cwd=tmp_path)
    assert result.returncode == 0
    assert (
        "klint: skipped generic/Chart.yaml:1: chart generic renders no object with its default "
        "values; set values in .klint.yaml (helm.charts) or pass -f to lint what it can render"
    ) in result.stderr.splitlines()

"""A block action among a container's literal fields that rendered nothing there is not
where a missing field comes from (sample6 items 10/16/22: karpenter 0.3.3's
``{{- with .Values.controller.env }}{{- toYaml . | nindent 10 }}`` under ``env:``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import needs_helm_sdk, run_cli

pytestmark = needs_helm_sdk

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: controller
spec:
  selector:
    matchLabels:
      app: controller
  template:
    metadata:
      labels:
        app: controller
    spec:
      containers:
        - name: manager
          image: "registry.example/manager:1.0"
          env:
            - name: SYSTEM_NAMESPACE
              valueFrom:
                fieldRef:
                  fieldPath: metadata.namespace
            {{- with .Values.env }}
            {{- toYaml . | nindent WIDTH }}
            {{- end }}
"""
BLOCK = 23  # the toYaml line
CONTAINER = 15  # - name: manager


def chart(tmp_path: Path, width: int, values: str = "env: []\n") -> Path:
    root = tmp_path / "controller"
    (root / "templates").mkdir(parents=True)
    (root / "Chart.yaml").write_text("apiVersion: v2\nname: controller\nversion: 0.1.0\n")
    (root / "values.yaml").write_text(values)
    text = DEPLOYMENT.replace("WIDTH", str(width))
    (root / "templates" / "deployment.yaml").write_text(text)
    return root


def missing_field_findings(root: Path) -> list[dict[str, object]]:
    result = run_cli(
        "check", "--format", "json", "--select", "KL201", "--no-cache", str(root), cwd=root
    )
    data = json.loads(result.stdout)
    return [f for f in data["findings"] if f["rule_id"] == "KL201"]


@pytest.mark.parametrize("width", [10, 12])
def test_a_block_that_rendered_nothing_is_not_the_missing_fields_line(
    tmp_path: Path, width: int
) -> None:
    [finding] = missing_field_findings(chart(tmp_path, width))
    assert finding["line"] == CONTAINER
    assert finding["related"] == []  # no values key: env.securityContext would be wrong


def test_a_block_that_rendered_container_fields_keeps_its_line(tmp_path: Path) -> None:
    # the same text where the block does render container fields: it stays the place
    values = "env:\n  workingDir: /srv\n"
    [finding] = missing_field_findings(chart(tmp_path, 10, values))
    assert finding["line"] == BLOCK

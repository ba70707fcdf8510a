"""Mapping rendered objects back to a chart costs what the chart's content costs: a template
of a million empty sections and a 5 MB values file read by a thousand objects stay cheap
(issue 22: alignment was O(documents × sections), values.yaml was parsed per finding)."""

from __future__ import annotations

from pathlib import Path

from tests.adversarial.probes import measured_run
from tests.conftest import needs_helm_sdk

pytestmark = needs_helm_sdk

MiB = 1024**2
POD = """\
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers:
  - name: c
    image: nginx:1.25
    securityContext: {privileged: true}
"""


def chart(repo: Path, template: str, values: str = "") -> None:
    (repo / ".git").mkdir(parents=True, exist_ok=True)
    (repo / "chart" / "templates").mkdir(parents=True)
    (repo / "chart" / "Chart.yaml").write_text("apiVersion: v2\nname: chart\nversion: 0.1.0\n")
    (repo / "chart" / "templates" / "x.yaml").write_text(template)
    (repo / "chart" / "values.yaml").write_text(values)


def test_a_template_of_a_million_empty_sections_maps_one_document_cheaply(tmp_path: Path) -> None:
    # 4.8 MB (Helm's limit per chart file is 5 MB): 1.2 M sections that never render
    chart(tmp_path, POD + "{{- if false }}\n" + "---\n" * 1_200_000 + "{{- end }}\n")
    run = measured_run("check", "chart", cwd=tmp_path)
    assert "chart/templates/x.yaml:8:5" in run.stdout and "KL101" in run.stdout
    # was 630 MB and 7.5 s (a list, a copy and a kind set per section)
    assert run.peak_rss_bytes < 300 * MiB, run.peak_rss_bytes
    assert run.seconds < 30


def test_a_5_mb_values_file_is_parsed_once_for_a_thousand_objects(tmp_path: Path) -> None:
    items = "".join(f"- name: p{i}\n  privileged: true\n" for i in range(1000))
    filler = "".join(f"  k{i}: value-{i}-{'x' * 40}\n" for i in range(80_000))
    template = """\
{{- range .Values.pods }}
---
apiVersion: v1
kind: Pod
metadata:
  name: {{ .name }}
spec:
  containers:
  - name: c
    image: nginx:1.25
    securityContext:
      privileged: {{ .privileged }}
{{- end }}
"""
    chart(tmp_path, template, "pods:\n" + items + "filler:\n" + filler)
    run = measured_run("check", "--format", "json", "chart", cwd=tmp_path)
    assert '"KL101"' in run.stdout and "chart/values.yaml" in run.stdout
    assert run.seconds < 45, run.seconds  # was well over 60 s: one parse per finding

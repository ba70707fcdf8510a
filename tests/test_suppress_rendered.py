"""Suppression comments in the files a render reads: a kustomization, a chart template.

A rendered document's text is the render's output, whose lines are not the lines of the
file its findings are located in; the comments that count are the file's own.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from klint.findings import Finding
from klint.run import RunOptions, run
from tests.conftest import needs_helm_sdk

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: IMAGE
"""


def _mutable_tags(root: Path, path: str) -> list[Finding]:
    (root / ".git").mkdir(exist_ok=True)
    report, _, _ = run(RunOptions(paths=(path,), output_format="json"), cwd=root)
    return [f for f in report.findings if f.rule_id == "KL301"]


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="needs kubectl")
def test_a_comment_in_the_kustomization_suppresses_the_finding_on_its_line(
    tmp_path: Path,
) -> None:
    overlay = tmp_path / "overlay"
    overlay.mkdir()
    (overlay / "deployment.yaml").write_text(DEPLOYMENT.replace("IMAGE", "nginx:1.25"))
    (overlay / "kustomization.yaml").write_text(
        "resources:\n- deployment.yaml\nimages:\n- name: nginx\n"
        "  # klint: ignore[KL301] pinned by the release pipeline\n  newTag: latest\n"
    )
    (found,) = _mutable_tags(tmp_path, "overlay")
    assert (found.location.path, found.location.span.start_line) == (
        "overlay/kustomization.yaml",
        6,
    )
    assert found.suppression is not None
    assert found.suppression.justification == "pinned by the release pipeline"


@needs_helm_sdk
def test_a_comment_in_a_template_counts_at_the_template_line_not_the_output_line(
    tmp_path: Path,
) -> None:
    chart = tmp_path / "chart"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: web\nversion: 0.1.0\n")
    (chart / "values.yaml").write_text("image: nginx:latest\nother: nginx:latest\n")
    body = DEPLOYMENT.replace("IMAGE", "{{ .Values.image }}").replace(
        "      - name: web\n",
        "      - name: web\n        # klint: ignore[KL301] pinned by the release pipeline\n",
    )
    # lines the render drops: the output's line numbers differ from the template's
    preamble = "{{- /*\nA comment\nover several\nlines\n*/ -}}\n"
    second = DEPLOYMENT.replace("IMAGE", "{{ .Values.other }}").replace("web", "two")
    (chart / "templates" / "web.yaml").write_text(preamble + body + "---\n" + second)
    found = {f.location.span.start_line: f for f in _mutable_tags(tmp_path, "chart")}
    assert sorted(found) == [18, 31]
    suppressed = found[18].suppression
    assert suppressed is not None and suppressed.justification.startswith("pinned")
    assert found[31].suppression is None

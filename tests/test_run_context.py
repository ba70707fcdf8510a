"""Contexts the whole run decides (issue 23 §3, sample 7): a manifest generated from a chart
the run lints is a copy fixed in the chart (local-static-provisioner
``helm/generated_examples``), and a README that declares the repository a demo or CI test
driver makes its inputs not-deployed (csi-driver-host-path README.md:6). Levels only change:
every finding stays."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.conftest import run_cli

CHART_YAML = "apiVersion: v2\nname: local-static-provisioner\nversion: 2.9.0\n"
TEMPLATE = """\
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: provisioner
spec:
  selector: {matchLabels: {app: p}}
  template:
    metadata: {labels: {app: p}}
    spec:
      containers:
        - name: provisioner
          image: registry.k8s.io/sig-storage/local-volume-provisioner:v2.9.0
          securityContext: {privileged: true}
"""
PROVISIONER = """\
---
# Source: local-static-provisioner/templates/serviceaccount.yaml
apiVersion: v1
kind: ServiceAccount
metadata:
  name: provisioner
---
# Source: local-static-provisioner/templates/daemonset_linux.yaml
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: provisioner
  labels:
    helm.sh/chart: local-static-provisioner-2.9.0
spec:
  selector: {matchLabels: {app: p}}
  template:
    metadata: {labels: {app: p}}
    spec:
      containers:
        - name: provisioner
          image: registry.k8s.io/sig-storage/local-volume-provisioner:v2.9.0
          securityContext: {privileged: true}
"""


def _findings(cwd: Path, *paths: str) -> list[dict[str, Any]]:
    run = run_cli("check", "--no-config", "--no-cache", "--format", "json", *paths, cwd=cwd)
    findings: list[dict[str, Any]] = json.loads(run.stdout)["findings"]
    return findings


def _repo(tmp_path: Path, chart: bool) -> Path:
    (tmp_path / ".git").mkdir(parents=True)
    if chart:
        templates = tmp_path / "helm" / "provisioner" / "templates"
        templates.mkdir(parents=True)
        (templates.parent / "Chart.yaml").write_text(CHART_YAML, encoding="utf-8")
        (templates / "daemonset_linux.yaml").write_text(TEMPLATE, encoding="utf-8")
    copies = tmp_path / "helm" / "generated_examples"
    copies.mkdir(parents=True)
    (copies / "baremetal.yaml").write_text(PROVISIONER, encoding="utf-8")
    return tmp_path


def test_a_generated_copy_of_a_linted_chart_is_a_note_naming_the_chart(tmp_path: Path) -> None:
    findings = _findings(_repo(tmp_path, chart=True), ".")
    copy = [f for f in findings if f["path"] == "helm/generated_examples/baremetal.yaml"]
    assert copy and {f["severity"] for f in copy} == {"note"}
    privileged = [f for f in copy if f["rule_id"] == "KL101"]
    assert len(privileged) == 1  # never-downgraded, yet a copy fixed in the chart
    assert (
        "generated from chart helm/provisioner (templates/daemonset_linux.yaml); fixed there"
        in privileged[0]["message"]
    )
    assert privileged[0]["properties"]["expected-for"] == "generated-copy"


def test_a_rendered_chart_that_the_run_does_not_lint_keeps_its_levels(tmp_path: Path) -> None:
    repo = _repo(tmp_path, chart=False)
    findings = _findings(repo, ".")
    privileged = [f for f in findings if f["rule_id"] == "KL101"]
    assert [f["severity"] for f in privileged] == ["error"]
    # the chart is in the repository but not linted (only the copy is named): kept as well
    _repo(tmp_path / "other", chart=True)
    named = _findings(tmp_path / "other", "helm/generated_examples")
    assert [f["severity"] for f in named if f["rule_id"] == "KL101"] == ["error"]


def test_the_cached_result_of_a_copy_changes_when_its_chart_appears(tmp_path: Path) -> None:
    repo = _repo(tmp_path / "repo", chart=False)
    cache = ["--cache-dir", str(tmp_path / "cache")]

    def privileged() -> list[str]:
        run = run_cli("check", "--no-config", "--format", "json", *cache, ".", cwd=repo)
        findings = json.loads(run.stdout)["findings"]
        return [f["severity"] for f in findings if f["rule_id"] == "KL101"]

    assert privileged() == ["error"]
    assert privileged() == ["error"]  # replayed
    _repo(tmp_path / "source", chart=True)
    (tmp_path / "source" / "helm" / "provisioner").rename(repo / "helm" / "provisioner")
    assert sorted(privileged()) == ["error", "note"]  # the chart's own, and the copy's note


def test_a_later_document_of_a_template_and_a_chart_label_are_copies_too() -> None:
    from klint.documents import Limits, parse_stream
    from klint.model.declared import generated_copy, source_above, source_comments
    from klint.model.resource import resources_from_document

    text = "# Source: provisioner/templates/provisioner.yaml\nkind: ConfigMap\n---\nkind: Pod\n"
    comments = source_comments(text.splitlines())
    assert source_above(comments, 3) == "provisioner/templates/provisioner.yaml"  # Helm 2
    assert source_above(comments, 0) is None
    labelled = (
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n"
        "  labels: {helm.sh/chart: local-static-provisioner-2.9.0}\n"
    )
    document = parse_stream(labelled, "x.yaml", Limits()).documents[0]
    resource = next(resources_from_document(document))
    charts = (("local-static-provisioner", "helm/provisioner"),)
    found = generated_copy(resource, None, charts)
    assert found is not None and found.fixed_elsewhere
    assert "helm.sh/chart: local-static-provisioner-2.9.0" in found.reason
    assert generated_copy(resource, None, (("other", "helm/other"),)) is None
    assert generated_copy(resource, "other/templates/x.yaml", charts) is not None  # label

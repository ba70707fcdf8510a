"""Contexts the whole run decides (issue 23 §3, sample 7): a manifest generated from a chart
the run lints is a copy fixed in the chart (local-static-provisioner
``helm/generated_examples``), and a README that declares the repository a demo or CI test
driver makes its inputs not-deployed (csi-driver-host-path README.md:6). Levels only change:
every finding stays."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from klint.model.declared import declared_context, self_declaration
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


@pytest.mark.skipif(
    shutil.which("kubectl") is None and shutil.which("kustomize") is None,
    reason="needs kubectl or kustomize",
)
def test_a_kustomize_base_written_by_helm_template_is_a_copy_too(tmp_path: Path) -> None:
    """aws-efs-csi-driver's ``deploy/kubernetes/base`` is ``helm template`` output of the
    chart beside it: the overlay's findings on it are notes naming the chart."""
    repo = _repo(tmp_path, chart=True)
    base = repo / "deploy" / "base"
    base.mkdir(parents=True)
    (base / "provisioner.yaml").write_text(PROVISIONER, encoding="utf-8")
    (base / "kustomization.yaml").write_text(
        "resources:\n  - provisioner.yaml\nnamespace: kube-system\n", encoding="utf-8"
    )
    findings = _findings(repo, ".")
    copy = [f for f in findings if f["path"] == "deploy/base/provisioner.yaml"]
    assert copy and {f["severity"] for f in copy} == {"note"}
    privileged = [f for f in copy if f["rule_id"] == "KL101"]
    assert (
        len(privileged) == 1 and "generated from chart helm/provisioner" in privileged[0]["message"]
    )
    chart = [f for f in findings if f["rule_id"] == "KL101" and f["path"].startswith("helm/prov")]
    assert [f["severity"] for f in chart] == ["error"]  # the chart keeps its level


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


CSI_README = (
    "# CSI Hostpath Driver\n\n"
    "This repository hosts the CSI Hostpath driver and all of its build and dependent "
    "configuration files to deploy the driver.\n\n---\n"
    "*WARNING: This driver is just a demo implementation and is used for CI testing. This has "
    "many fake implementations and other non-standard best practices, and should not be used "
    "as an example of how to write a real driver.\n---\n\n## Pre-requisite\n"
)


@pytest.mark.parametrize(
    ("text", "line"),
    [
        (CSI_README, 6),
        ("# X\nThis repository is not intended for production use.\n", 2),
        ("# X\n\nThis project is a proof of concept.\n", 3),
        ("This operator should not be used in production.\n", 1),
        ("# X\nThis chart is for testing purposes only.\n", 2),
        # about its settings or data, not the project
        ("# X\nThe defaults are not for production, see docs/production.md.\n", None),
        ("# X\nThis chart's default passwords are not for production.\n", None),
        ("The JWKS and private key in this directory are for testing purposes only.\n", None),
        ("# X\nRun the demo: `make demo`. A proof-of-concept is welcome in a PR.\n", None),
        # only the opening: before the first second-level heading, at most 30 lines
        ("# X\n\n## Testing\nThis repository is not intended for production use.\n", None),
        ("# X\n" + "text\n" * 30 + "This repository is not intended for production.\n", None),
        # front matter: a sample by its page type, and the opening counted after it
        ("---\nname: X\npage_type: sample\n---\n# X\n", 3),
        ("---\npage_type: article\n" + "k: v\n" * 20 + "---\n# X\n\nThis is a demo.\n", 26),
        ("---\nname: X\n", None),  # not closed: no front matter
        # a sentence about the project's code in production
        ("# X\n> This is not meant to be an example of code to be used in production.\n", 2),
        ("# X\nThe passwords are not meant to be used in production.\n", None),
        ("# X\nThis repository contains a collection of examples for PGO.\n", 2),
        ("# X\nThis repository contains the operator, and examples in examples/.\n", None),
    ],
)
def test_a_readme_opening_declares_a_demo_only_in_a_few_explicit_words(
    text: str, line: int | None
) -> None:
    found = self_declaration(text)
    assert (found[0] if found else None) == line


def test_declared_folders_hold_the_paths_below_them() -> None:
    declared = (("deploy/demo", "r1"), ("", "r0"))
    inner = declared_context("deploy/demo/app.yaml", declared)
    assert inner is not None and inner.reason == "r1" and inner.kind == "not-deployed"
    outer = declared_context("deploy/app.yaml", declared)
    assert outer is not None and outer.reason == "r0"
    assert declared_context("../elsewhere/app.yaml", declared) is None
    assert declared_context("/abs/app.yaml", declared) is None
    assert declared_context("deploy/app.yaml", (("deploy/demo", "r1"),)) is None


DRIVER = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: driver}
spec:
  selector: {matchLabels: {app: d}}
  template:
    metadata: {labels: {app: d}}
    spec:
      containers:
        - name: driver
          image: registry.k8s.io/sig-storage/hostpathplugin:v1.17.0
          securityContext: {privileged: true}
"""


def _driver_repo(root: Path, readme: str | None, where: str = "") -> Path:
    (root / ".git").mkdir(parents=True)
    (root / "deploy" / "hostpath").mkdir(parents=True)
    (root / "deploy" / "hostpath" / "plugin.yaml").write_text(DRIVER, encoding="utf-8")
    (root / "other").mkdir()
    (root / "other" / "plugin.yaml").write_text(DRIVER, encoding="utf-8")
    if readme is not None:
        (root / where / "README.md").write_text(readme, encoding="utf-8")
    return root


def _levels(findings: list[dict[str, Any]], path: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for finding in findings:
        if finding["path"] == path:
            found.setdefault(finding["severity"], set()).add(finding["rule_id"])
    return found


def test_inputs_under_a_readme_that_declares_a_demo_are_notes_privileged_stays(
    tmp_path: Path,
) -> None:
    repo = _driver_repo(tmp_path, CSI_README)
    findings = _findings(repo, ".")
    levels = _levels(findings, "deploy/hostpath/plugin.yaml")
    assert levels["error"] == {"KL101"}  # never-downgraded: a demo is what users copy
    assert "warning" not in levels and levels["note"]
    note = next(f for f in findings if f["rule_id"] == "KL202")
    assert 'README.md:6 says "This driver is just a demo"' in note["message"]
    assert note["properties"]["expected-for"] == "not-deployed"
    # the same repository without the declaration: the same findings, at their levels
    plain = _findings(_driver_repo(tmp_path / "plain", "# CSI Hostpath Driver\n"), ".")
    assert len(plain) == len(findings)
    assert "warning" in _levels(plain, "deploy/hostpath/plugin.yaml")


def test_a_folder_readme_declares_that_folder_only(tmp_path: Path) -> None:
    repo = _driver_repo(tmp_path, CSI_README, "deploy")
    findings = _findings(repo, ".")
    assert "warning" not in _levels(findings, "deploy/hostpath/plugin.yaml")
    assert "warning" in _levels(findings, "other/plugin.yaml")


def test_a_readme_outside_the_repository_is_never_read(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "README.md").write_text(CSI_README, encoding="utf-8")
    repo = _driver_repo(tmp_path / "repo", None)
    (repo / "README.md").symlink_to(outside / "README.md")
    findings = _findings(repo, ".")
    assert "warning" in _levels(findings, "deploy/hostpath/plugin.yaml")


def test_the_cached_result_changes_when_the_readme_declaration_does(tmp_path: Path) -> None:
    repo = _driver_repo(tmp_path / "repo", "# CSI Hostpath Driver\n")
    cache = ["--cache-dir", str(tmp_path / "cache")]

    def warned() -> bool:
        run = run_cli("check", "--no-config", "--format", "json", *cache, ".", cwd=repo)
        findings = json.loads(run.stdout)["findings"]
        return "warning" in _levels(findings, "deploy/hostpath/plugin.yaml")

    assert warned() and warned()  # linted, then replayed
    (repo / "README.md").write_text(CSI_README, encoding="utf-8")
    assert not warned()


def test_an_editor_buffer_under_a_declaring_readme_is_read_as_the_run_reads_it(
    tmp_path: Path,
) -> None:
    repo = _driver_repo(tmp_path, CSI_README)
    path = "deploy/hostpath/plugin.yaml"
    run = run_cli(
        "check", "--no-config", "--format", "json", "--stdin-filename", path, "-",
        cwd=repo, stdin=DRIVER.encode(),
    )  # fmt: skip
    levels = _levels(json.loads(run.stdout)["findings"], path)
    assert levels["error"] == {"KL101"} and "warning" not in levels and levels["note"]


def test_a_path_named_absolutely_reads_its_context_below_its_repository(tmp_path: Path) -> None:
    """An editor names a buffer by its absolute path: the machine's folders above the
    repository (a ``test_x`` temporary folder) are no context; the README in it is."""
    plain = _driver_repo(tmp_path / "test_plain", None)
    declared = _driver_repo(tmp_path / "test_declared", CSI_README)
    for repo, warned in ((plain, True), (declared, False)):
        path = str(repo / "deploy" / "hostpath" / "plugin.yaml")
        run = run_cli(
            "check", "--no-config", "--format", "json", "--stdin-filename", path, "-",
            cwd=repo, stdin=DRIVER.encode(),
        )  # fmt: skip
        levels = _levels(json.loads(run.stdout)["findings"], path)
        assert levels["error"] == {"KL101"}  # KL201 on a privileged container is a note
        assert ("warning" in levels) is warned

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


CHART_TEMPLATE = b"""\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "app.name" . }}
{{- if .Values.labels }}
  labels: {{ toYaml .Values.labels | nindent 4 }}
{{- end }}
spec:
  template:
    spec:
      containers:
        - name: app
          image: {{ .Values.image }}
"""
PATCH = b"""\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      containers:
        - name: app
          securityContext: {privileged: true}
"""


def overlay_with_patch(repo: Path) -> None:
    (repo / "k8s" / "base").mkdir(parents=True)
    (repo / "k8s" / "prod" / "patches").mkdir(parents=True)
    (repo / "k8s" / "base" / "web.yaml").write_bytes(DEPLOYMENT.replace(b"true", b"false"))
    (repo / "k8s" / "base" / "kustomization.yaml").write_text("resources: [web.yaml]\n")
    (repo / "k8s" / "prod" / "kustomization.yaml").write_text(
        "resources: [../base]\npatches:\n  - path: patches/privileged.yaml\n"
        "patchesStrategicMerge: [extra.yaml]\n"
    )
    (repo / "k8s" / "prod" / "patches" / "privileged.yaml").write_bytes(PATCH)
    (repo / "k8s" / "prod" / "extra.yaml").write_bytes(PATCH)


def test_chart_templates_are_skipped_quietly(repo: Path) -> None:
    """No 'YAML syntax error' on a Go template or _helpers.tpl (nvim-lint, efm)."""
    chart = repo / "charts" / "app"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: app\nversion: 0.1.0\n")
    helpers = b'{{- define "app.name" -}}{{ .Chart.Name }}{{- end }}\n'
    for name, text in (("deployment.yaml", CHART_TEMPLATE), ("_helpers.tpl", helpers)):
        path = f"charts/app/templates/{name}"
        for output in ("text", "sarif"):
            result = stdin_check(repo, path, "--format", output, "-v", data=text)
            assert result.returncode == 0, result.stdout
            assert "yaml-syntax" not in result.stdout
        assert f"skipped {path}:1: a template of Helm chart charts/app" in result.stderr
        assert json.loads(result.stdout)["runs"][0]["results"] == []


def test_kustomize_patches_are_never_linted_as_objects(repo: Path) -> None:
    """A patch is a fragment: no KL903 'missing selector' or KL401 from the editor path."""
    overlay_with_patch(repo)
    for path in ("k8s/prod/patches/privileged.yaml", "k8s/prod/extra.yaml"):
        result = stdin_check(repo, path, "--format", "json", "-v", data=PATCH)
        assert result.returncode == 0
        data = json.loads(result.stdout)
        assert data["findings"] == [] and data["notifications"] == []
        assert "a patch of Kustomize overlay k8s/prod" in result.stderr
    plain = stdin_check(repo, "k8s/base/web.yaml", "--format", "json", data=DEPLOYMENT)
    assert "KL101" in {f["rule_id"] for f in json.loads(plain.stdout)["findings"]}


def test_a_named_patch_file_lints_its_overlay(repo: Path) -> None:
    """pre-commit passes the patch: the overlay is built and the finding lands on the patch."""
    import shutil

    if shutil.which("kustomize") is None and shutil.which("kubectl") is None:
        pytest.skip("needs kustomize or kubectl")
    overlay_with_patch(repo)
    result = run_cli("check", "--format", "json", "k8s/prod/patches/privileged.yaml", cwd=repo)
    findings = json.loads(result.stdout)["findings"]
    rules = {f["rule_id"] for f in findings}
    assert "KL903" not in rules
    assert ("k8s/prod/patches/privileged.yaml", "KL101") in {
        (f["path"], f["rule_id"]) for f in findings
    }


def test_a_buffer_is_linted_with_the_manifests_beside_its_file(repo: Path) -> None:
    """As ``klint check k8s``: the NetworkPolicy next door counts (no KL702); the buffer's
    text, not the file on disk, is linted; only the buffer is reported."""
    k8s = repo / "k8s"
    k8s.mkdir()
    (k8s / "web.yaml").write_bytes(DEPLOYMENT.replace(b"privileged: true", b"privileged: false"))
    (k8s / "np.yaml").write_text(
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny}\n"
        "spec: {podSelector: {}, policyTypes: [Ingress, Egress]}\n"
    )
    (k8s / "broken.yaml").write_text("apiVersion: v1\nkind: [Pod\n")
    result = stdin_check(repo, "k8s/web.yaml", "--profile", "all", "--format", "json")
    data = json.loads(result.stdout)
    rules = {f["rule_id"] for f in data["findings"]}
    assert "KL101" in rules  # the buffer says privileged: true
    assert "KL702" not in rules
    assert {f["path"] for f in data["findings"]} == {"k8s/web.yaml"}
    assert data["notifications"] == []
    assert data["summary"]["files"] == 1 and data["summary"]["objects"] == 1
    folder = run_cli("check", "--profile", "all", "--format", "json", "k8s", cwd=repo)
    assert "KL702" not in {f["rule_id"] for f in json.loads(folder.stdout)["findings"]}
    alone = repo / "lone"
    alone.mkdir()
    lone = stdin_check(repo, "lone/web.yaml", "--profile", "all", "--format", "json")
    assert "KL702" in {f["rule_id"] for f in json.loads(lone.stdout)["findings"]}  # can fail


def test_a_large_folder_is_not_read_on_every_editor_lint(repo: Path) -> None:
    """Beyond EDITOR_FOLDER_BYTES of siblings the buffer is linted alone (bounded latency)."""
    from klint.sources.discover import EDITOR_FOLDER_BYTES

    k8s = repo / "k8s"
    k8s.mkdir()
    (k8s / "np.yaml").write_text(
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny}\n"
        "spec: {podSelector: {}, policyTypes: [Ingress, Egress]}\n"
    )
    rules = lambda: {  # noqa: E731
        f["rule_id"]
        for f in json.loads(
            stdin_check(repo, "k8s/web.yaml", "--profile", "all", "--format", "json").stdout
        )["findings"]
    }
    assert "KL702" not in rules()
    filler = "x" * 1000
    (k8s / "big.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: big}\ndata:\n"
        + "".join(f"  k{n}: {filler}\n" for n in range(EDITOR_FOLDER_BYTES // 1000 + 1))
    )
    assert "KL702" in rules()

"""Hostile kustomizations: nothing outside the repository is read, nothing is fetched, and a
fan-out costs what kustomize costs. Each test is a small reproducer of one attack."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest

from klint.sandbox import NO_NAMESPACE_ENV
from klint.sources.kustomize import tool
from klint.sources.kustomize.build import build
from klint.sources.kustomize.sandbox import KustomizeBuildError, sandbox_env
from klint.sources.kustomize.tree import Tree
from tests.adversarial.probes import loopback_server, measured_run

pytestmark = pytest.mark.skipif(
    shutil.which("kustomize") is None and shutil.which("kubectl") is None,
    reason="needs kustomize or kubectl",
)

GiB = 1024**3
DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: nginx:1.25}]
"""
PRIVILEGED_POD = """\
apiVersion: v1
kind: Pod
metadata: {name: other}
spec:
  containers: [{name: c, image: nginx:1.25, securityContext: {privileged: true}}]
"""


def repository(tmp_path: Path) -> Path:
    """A checkout: the confinement root is the folder holding ``.git``."""
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    return repo


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


def environ_exfiltration(repo: Path) -> Path:
    """The reported attack: a generator over a link to the environment, copied into a field
    by ``replacements``, with an absolute path elsewhere that used to widen the copy to /."""
    overlay = repo / "overlay"
    write(overlay / "deploy.yaml", DEPLOYMENT)
    write(
        overlay / "kustomization.yaml",
        """\
        resources: [deploy.yaml]
        configMapGenerator:
        - name: env
          files: [env]
          options:
            annotations: {x: /etc/hostname}
        replacements:
        - source: {kind: ConfigMap, name: env, fieldPath: data.env}
          targets:
          - select: {kind: Deployment}
            fieldPaths: [spec.template.spec.containers.0.image]
        """,
    )
    (overlay / "env").symlink_to("/proc/self/environ")
    return overlay


def test_a_string_naming_an_absolute_file_does_not_widen_the_copy(tmp_path: Path) -> None:
    repo = repository(tmp_path)
    overlay = environ_exfiltration(repo)
    tree = Tree.scan(overlay, repo)
    assert tree.root == repo
    assert "/etc/hostname" not in tree.files
    assert [(entry, reason.split(" outside")[0]) for _, entry, reason in tree.refused] == [
        ("env", "is a symbolic link that leads")
    ]


def test_a_link_to_the_environment_is_refused_and_the_rest_is_linted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    canary = "klint-canary-" + secrets.token_hex(8)
    monkeypatch.setenv("KLINT_ADVERSARIAL_CANARY", canary)
    repo = repository(tmp_path)
    environ_exfiltration(repo)
    write(repo / "pods" / "pod.yaml", PRIVILEGED_POD)
    run = measured_run("check", "--format", "text", "overlay", "pods", cwd=repo)
    output = run.stdout + run.stderr
    assert canary not in output
    assert "overlay/kustomization.yaml" in output and "'env'" in output
    assert "symbolic link that leads outside the root" in output
    assert "pods/pod.yaml" in run.stdout and "KL101" in run.stdout  # the other unit still ran
    assert run.returncode == 2
    assert run.peak_rss_bytes < GiB and run.seconds < 60


def test_links_out_of_a_kustomization_directory_are_refused_as_kustomize_does(
    tmp_path: Path,
) -> None:
    repo = repository(tmp_path)
    write(repo / "shared" / "data.txt", "x\n")
    overlay = repo / "overlay"
    write(overlay / "kustomization.yaml", "configMapGenerator:\n- name: c\n  files: [link.txt]\n")
    (overlay / "link.txt").symlink_to("../shared/data.txt")
    with pytest.raises(KustomizeBuildError, match="load restrictor"):
        build(overlay, root=repo)
    # The copy holds no links, so klint checks what kustomize itself would refuse:
    plain = subprocess.run(
        [*tool.find_tool().argv, str(overlay)],
        capture_output=True,
        text=True,
        env=sandbox_env(tmp_path),
        timeout=60,
        check=False,
    )
    assert plain.returncode != 0 and "is not in or below" in plain.stderr


REMOTE_FIELDS = {
    "patches": "patches:\n- path: {url}/p.yaml\n",
    "patchesStrategicMerge": "patchesStrategicMerge:\n- {url}/p.yaml\n",
    "patchesJson6902": (
        "patchesJson6902:\n- target: {{kind: ConfigMap, name: c, version: v1}}\n"
        "  path: {url}/p.json\n"
    ),
    "configMapGenerator": "configMapGenerator:\n- name: g\n  files: [{url}/f.txt]\n",
    "crds": "crds: [{url}/crd.json]\n",
    "openapi": "openapi:\n  path: {url}/schema.json\n",
    "resources": "resources: [{url}/r.yaml]\n",
}


@pytest.mark.parametrize("field", sorted(REMOTE_FIELDS))
def test_remote_references_are_refused_without_a_network_namespace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, field: str
) -> None:
    monkeypatch.setenv(NO_NAMESPACE_ENV, "1")  # as where user namespaces are unavailable
    overlay = tmp_path / "overlay"
    write(overlay / "cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n")
    with loopback_server(lifetime=30) as server:
        text = "resources: [cm.yaml]\n" + REMOTE_FIELDS[field].format(url=server.url)
        if field == "resources":
            text = REMOTE_FIELDS[field].format(url=server.url)
        write(overlay / "kustomization.yaml", text)
        with pytest.raises(KustomizeBuildError, match="not fetched: klint runs offline"):
            build(overlay, root=tmp_path)
        assert server.requests == []


def test_the_loopback_server_would_be_reached_by_kustomize_itself(tmp_path: Path) -> None:
    """The probe can fail: the tool, with klint's sandbox environment but no namespace,
    fetches a remote patch (which is why klint refuses it before the build)."""
    overlay = tmp_path / "overlay"
    write(overlay / "cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n")
    with loopback_server(lifetime=30) as server:
        write(
            overlay / "kustomization.yaml",
            f"resources: [cm.yaml]\npatches:\n- path: {server.url}/p.yaml\n",
        )
        subprocess.run(
            [*tool.find_tool().argv, str(overlay)],
            capture_output=True,
            env=sandbox_env(tmp_path),
            timeout=60,
            check=False,
        )
        assert server.requests


def fan_out(root: Path, levels: int) -> Path:
    """Each level includes the level below twice under two prefixes: 2**levels objects."""
    write(root / "base" / "kustomization.yaml", "resources: [cm.yaml]\n")
    write(root / "base" / "cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n")
    below = "base"
    for level in range(1, levels + 1):
        for side in "ab":
            write(
                root / f"l{level}" / side / "kustomization.yaml",
                f"namePrefix: {side}-\nresources: [../../{below}]\n",
            )
        write(root / f"l{level}" / "kustomization.yaml", "resources: [a, b]\n")
        below = f"l{level}"
    return root / below


def test_a_ten_level_fan_out_costs_what_kustomize_costs(tmp_path: Path) -> None:
    repo = repository(tmp_path)
    top = fan_out(repo, 10)
    run = measured_run("check", "--format", "json", os.path.relpath(top, repo), cwd=repo)
    assert run.returncode in (0, 1), run.stderr
    assert json.loads(run.stdout)["summary"]["objects"] == 2**10
    assert run.peak_rss_bytes < GiB, run.peak_rss_bytes  # was 4.3 GB before the fix
    assert run.seconds < 60

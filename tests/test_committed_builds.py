"""Kustomize builds a repository commits (a Makefile writes an overlay's build to a file)
are copies fixed in that overlay: their findings are notes naming it."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from klint.sources.kustomize.committed_builds import build_output
from tests.conftest import run_cli

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: op
spec:
  selector:
    matchLabels: {app: op}
  template:
    metadata:
      labels: {app: op}
    spec:
      containers:
        - name: op
          image: example.com/op:1.0
          securityContext:
            privileged: true
"""
MAKEFILE = "deploy:\n\t$(KUSTOMIZE) build deploy/overlays/cluster -o deploy/operator.yaml\n"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            "\t$(BUILD_DIR)/kustomize build deploy/x -o deploy/op.yaml",
            ("deploy/x", "deploy/op.yaml"),
        ),
        (
            "\t$(KUSTOMIZE) build config/crd > chart/crds/crds.yaml",
            ("config/crd", "chart/crds/crds.yaml"),
        ),
        (
            "kubectl kustomize deploy --load-restrictor LoadRestrictionsNone >> out.yaml",
            ("deploy", "out.yaml"),
        ),
        ("kustomize build x --output=y.yaml", ("x", "y.yaml")),
        ("\t$(KUSTOMIZE) build config/crd | kubectl apply -f -", None),  # piped, no file
        ("\t$(KUSTOMIZE) build $(DIR)/x > $(DIR)/x.yaml", None),  # a variable: unknown
        ("cd config/manager && $(KUSTOMIZE) edit set image controller=x", None),
        ("kustomize build config/default", None),  # to stdout
    ],
)
def test_the_lines_that_write_a_build_to_a_file(
    line: str, expected: tuple[str, str] | None
) -> None:
    assert build_output(line) == expected


def _repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    base = repo / "deploy" / "base"
    base.mkdir(parents=True)
    (base / "kustomization.yaml").write_text("resources: [deployment.yaml]\n")
    (base / "deployment.yaml").write_text(DEPLOYMENT)
    overlay = repo / "deploy" / "overlays" / "cluster"
    overlay.mkdir(parents=True)
    (overlay / "kustomization.yaml").write_text("namespace: op-system\nresources: [../../base]\n")
    built = subprocess.run(
        ["kubectl", "kustomize", str(overlay)], capture_output=True, text=True, check=True
    )
    (repo / "deploy" / "operator.yaml").write_text(built.stdout)
    (repo / "Makefile").write_text(MAKEFILE)
    return repo


def _privileged(repo: Path, *args: str) -> dict[str, tuple[str, str]]:
    result = run_cli("check", "--format", "json", *args, cwd=repo)
    data: dict[str, Any] = json.loads(result.stdout)
    return {
        f["path"]: (f["severity"], f["message"])
        for f in data["findings"]
        if f["rule_id"] == "KL101"
    }


needs_kubectl = pytest.mark.skipif(shutil.which("kubectl") is None, reason="needs kubectl")


@needs_kubectl
def test_a_committed_build_of_a_linted_overlay_is_a_copy(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    found = _privileged(repo, "--no-cache", ".")
    assert found["deploy/base/deployment.yaml"][0] == "error"  # where it is fixed
    severity, message = found["deploy/operator.yaml"]
    assert severity == "note"
    assert "built from deploy/overlays/cluster by Makefile:2; fixed there" in message


@needs_kubectl
def test_without_the_makefile_or_the_overlay_the_copy_keeps_its_level(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    alone = _privileged(repo, "--no-cache", "deploy/operator.yaml")
    assert alone["deploy/operator.yaml"][0] == "error"  # the overlay is not linted here
    (repo / "Makefile").write_text("deploy:\n\t$(KUSTOMIZE) build deploy/overlays/cluster\n")
    assert _privileged(repo, "--no-cache", ".")["deploy/operator.yaml"][0] == "error"


@needs_kubectl
def test_a_makefile_linked_out_of_the_repository_is_not_read(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    outside = tmp_path / "Makefile.outside"
    outside.write_text(MAKEFILE)
    (repo / "Makefile").unlink()
    (repo / "Makefile").symlink_to(outside)
    assert _privileged(repo, "--no-cache", ".")["deploy/operator.yaml"][0] == "error"


@needs_kubectl
def test_the_result_cache_follows_the_makefile(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    cache = ("--cache-dir", str(tmp_path / "cache"))
    assert _privileged(repo, *cache, ".")["deploy/operator.yaml"][0] == "note"
    (repo / "Makefile").write_text("all:\n\ttrue\n")
    assert _privileged(repo, *cache, ".")["deploy/operator.yaml"][0] == "error"


@needs_kubectl
def test_a_copy_read_by_another_build_is_still_a_copy(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    bundle = repo / "deploy" / "bundle"
    bundle.mkdir()
    (bundle / "kustomization.yaml").write_text("resources: [../operator.yaml]\n")
    found = _privileged(repo, "--no-cache", ".")
    assert found["deploy/operator.yaml"][0] == "note"  # located on the copy through the build


@needs_kubectl
def test_an_overlay_linted_through_another_build_counts(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    openshift = repo / "deploy" / "overlays" / "openshift"
    openshift.mkdir()
    (openshift / "kustomization.yaml").write_text("resources: [../cluster]\n")
    # deploy/overlays/cluster is read by the openshift build, not built on its own
    found = _privileged(repo, "--no-cache", "deploy/operator.yaml", "deploy/overlays")
    assert found["deploy/operator.yaml"][0] == "note"

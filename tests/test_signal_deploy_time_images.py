"""Images a project's build sets at deploy time (issue 23 §3, sample 7 items 12 and 36:
kmm, cass-operator): the kubebuilder layout, where ``config/manager/kustomization.yaml``
names a placeholder tag and the Makefile runs ``kustomize edit set image controller=${IMG}``
before deploying. Mutable-tag findings on that image are notes that name the Makefile line;
the same image without such a Makefile line keeps its level, and the Makefile is part of
the overlay's cache key."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from klint.cache_inputs import unit_inputs
from klint.run import RunOptions, run
from klint.sources.kustomize.deploy_images import image_edits
from klint.sources.kustomize.overlay import KustomizeOverlay

MANAGER = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: controller-manager, namespace: system}
spec:
  selector: {matchLabels: {control-plane: controller-manager}}
  template:
    metadata: {labels: {control-plane: controller-manager}}
    spec:
      containers:
        - name: manager
          image: controller:latest
          imagePullPolicy: IfNotPresent
        - name: proxy
          image: example.com/other/proxy:latest
          imagePullPolicy: IfNotPresent
"""
KUSTOMIZATION = """\
resources: [manager.yaml]
images:
- name: controller
  newName: example.com/op/operator
  newTag: latest
"""
MAKEFILE = """\
IMG ?= example.com/op/operator:latest

deploy: manifests
\tcd config/manager && $(KUSTOMIZE) edit set image controller=${IMG}
\t$(KUSTOMIZE) build config/default | kubectl apply -f -
"""


def _repo(tmp_path: Path, makefile: str | None) -> Path:
    manager = tmp_path / "config" / "manager"
    manager.mkdir(parents=True)
    (manager / "manager.yaml").write_text(MANAGER)
    (manager / "kustomization.yaml").write_text(KUSTOMIZATION)
    default = tmp_path / "config" / "default"
    default.mkdir()
    (default / "kustomization.yaml").write_text("resources: [../manager]\n")
    if makefile is not None:
        (tmp_path / "Makefile").write_text(makefile)
    return tmp_path


def _findings(root: Path, rule: str) -> dict[str, dict[str, object]]:
    options = RunOptions(paths=(".",), output_format="json", jobs=1, no_cache=True)
    found = json.loads(run(options, cwd=root)[1])["findings"]
    return {str(f["field_path"]).split(".")[3]: f for f in found if f["rule_id"] == rule}


@pytest.mark.parametrize("rule", ["KL301", "KL303"])
def test_a_placeholder_tag_the_makefile_sets_at_deploy_time_is_a_note(
    tmp_path: Path, rule: str
) -> None:
    found = _findings(_repo(tmp_path, MAKEFILE), rule)
    manager = found["containers[0]"]
    assert manager["severity"] == "note"
    assert "set at deploy time by Makefile:4 (`kustomize edit set image`)" in str(
        manager["message"]
    )
    assert {"expected-for": "deploy-time-image"}.items() <= dict(
        manager["properties"]  # type: ignore[call-overload]
    ).items()
    other = found["containers[1]"]  # an image no Makefile line sets keeps its level
    assert other["severity"] == "warning"


@pytest.mark.parametrize(
    "makefile",
    [
        None,  # no Makefile
        MAKEFILE.replace("controller=", "webhook="),  # sets another image
        MAKEFILE.replace("cd config/manager", "cd config/other"),  # in another folder
        MAKEFILE.replace("$(KUSTOMIZE) edit", "yq edit"),  # not kustomize
    ],
)
def test_without_a_makefile_line_that_sets_the_image_the_warning_is_kept(
    tmp_path: Path, makefile: str | None
) -> None:
    found = _findings(_repo(tmp_path, makefile), "KL301")
    assert found["containers[0]"]["severity"] == "warning"
    assert "deploy time" not in str(found["containers[0]"]["message"])


def test_a_makefile_that_is_a_link_is_not_read(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "Makefile").write_text(MAKEFILE)
    repo = tmp_path / "repo"
    repo.mkdir()
    _repo(repo, None)
    os.symlink(outside / "Makefile", repo / "Makefile")
    assert image_edits(str(repo / "Makefile")) == {}
    found = _findings(repo, "KL301")
    assert found["containers[0]"]["severity"] == "warning"


def test_edit_lines_name_every_image_they_set(tmp_path: Path) -> None:
    (tmp_path / "Makefile").write_text(
        "deploy:\n"
        "\tcd config/manager && $(KUSTOMIZE) edit set image controller=$(IMG) worker=$(W)\n"
        '\tcd "config/hub" && bin/kustomize edit set image hub:v1 # comment=x\n'
        "\tcd $(DIR) && kustomize edit set image skipped=$(IMG)\n"
    )
    edits = image_edits(str(tmp_path / "Makefile"))
    assert edits == {
        str(tmp_path / "config" / "manager"): {"controller": 2, "worker": 2},
        str(tmp_path / "config" / "hub"): {"hub": 3},
    }


def test_the_makefile_is_part_of_the_overlays_cache_key(tmp_path: Path) -> None:
    repo = _repo(tmp_path, MAKEFILE)
    overlay = KustomizeOverlay(repo / "config" / "default", "config/default", repo)
    inputs = unit_inputs(overlay, repo, ())
    assert inputs is not None
    assert str(repo / "Makefile") in inputs.files
    (repo / "Makefile").unlink()
    without = unit_inputs(overlay, repo, ())
    assert without is not None and without.identity != inputs.identity

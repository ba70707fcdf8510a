"""Every manifest file of a Kustomize tree is linted once: through the builds that read it,
else on its own; Components only through the overlays that use them (fixtures/kustomize-reach,
modelled on Rook's examples, gateway-api's nested CRD folders, argo-workflows' Components and
flux2's remote bases)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO, run_cli

pytestmark = pytest.mark.skipif(shutil.which("kubectl") is None, reason="needs kubectl")

TREE = "fixtures/kustomize-reach"


def check(*paths: str, verbose: bool = False) -> tuple[dict[str, Any], str]:
    result = run_cli("check", "--format", "json", *(["-v"] if verbose else []), *paths)
    return json.loads(result.stdout), result.stderr


def objects_of_kubectl(directory: str) -> int:
    built = subprocess.run(
        ["kubectl", "kustomize", directory], cwd=REPO, capture_output=True, text=True, check=True
    )
    return sum(1 for line in built.stdout.splitlines() if line.startswith("kind:"))


def finding_files(data: dict[str, Any]) -> set[str]:
    return {f["path"].removeprefix(TREE + "/") for f in data["findings"]}


def test_every_manifest_file_of_the_tree_is_linted_once() -> None:
    data, stderr = check(TREE, verbose=True)
    # Pods beside the overlay (kubectl apply -f), resources of an unused Component and the
    # local resources of an overlay whose remote base is not fetched: linted on their own
    assert {"base/apply-me.yaml", "components/unused/unused-pod.yaml", "remote/local.yaml"} <= (
        finding_files(data)
    )
    # base is read by overlays/dev (which builds): linted only through it, not also alone;
    # base/extra is read by no build: its own unit
    built = sum(objects_of_kubectl(f"{TREE}/{d}") for d in ("base/extra", "overlays/dev"))
    assert built == 4
    assert data["summary"]["objects"] == built + 3  # + the three files linted on their own
    # the base's files are listed as linted (through the overlay)
    assert f"linted {TREE}/base/deployment.yaml" in stderr
    assert f"linted {TREE}/base/used/svc.yaml" in stderr
    # only the overlay with a remote base could not be linted; no Component was built
    assert [(n["code"], n["path"]) for n in data["notifications"]] == [
        ("kustomize-build", f"{TREE}/remote/kustomization.yaml")
    ]
    # patches that no build applies are fragments: skipped, with the reason under -v
    assert f"skipped {TREE}/components/unused/unused-patch.yaml:1: a patch of Kustomize" in stderr
    assert f"skipped {TREE}/remote/remote-patch.yaml:1: read by Kustomize overlay" in stderr
    # a patch whose entry is commented out of the kustomization: a fragment, not an object
    assert f"skipped {TREE}/base/patches/replicas-patch.yaml:1: a Kustomize patch that no" in (
        stderr
    )


def test_the_component_is_linted_through_the_overlay_that_uses_it() -> None:
    data, _ = check(TREE)
    host_pid = [f for f in data["findings"] if f["rule_id"] == "KL103"]
    assert [f["path"] for f in host_pid] == [f"{TREE}/components/debug/patch.yaml"]
    debug = [f for f in data["findings"] if f["path"].endswith("components/debug/debug-pod.yaml")]
    assert len({f["rule_id"] for f in debug}) == len(debug)  # once, not also on its own


def test_a_nested_kustomization_no_build_reaches_is_its_own_unit() -> None:
    base, _ = check(f"{TREE}/base")
    # base's build (Deployment, and the Service of base/used once), base/extra, apply-me.yaml
    assert objects_of_kubectl(f"{TREE}/base") == 2
    assert base["summary"]["objects"] == 2 + 1 + 1
    # base/extra is not a resource of base: built on its own (one ConfigMap); base/used is,
    # so its Service is counted once, in base's build
    assert objects_of_kubectl(f"{TREE}/base/extra") == 1
    alone, _ = check(f"{TREE}/base/extra")
    assert alone["summary"]["objects"] == 1


def test_named_files_not_read_by_the_overlay_are_linted_on_their_own() -> None:
    data, _ = check(f"{TREE}/base/apply-me.yaml")
    assert finding_files(data) == {"base/apply-me.yaml"}
    assert data["summary"]["objects"] == 1
    data, _ = check(f"{TREE}/base/deployment.yaml")  # read by base: the overlay's unit
    assert data["summary"]["objects"] == objects_of_kubectl(f"{TREE}/base")


def test_a_named_patch_of_a_component_is_skipped_with_the_reason() -> None:
    data, stderr = check(f"{TREE}/components/debug/patch.yaml", verbose=True)
    assert data["findings"] == [] and data["notifications"] == []
    assert "a patch of Kustomize Component" in stderr
    # its kustomization.yaml (pre-commit names it) is not built as an overlay either
    data, stderr = check(f"{TREE}/components/debug/kustomization.yaml", verbose=True)
    assert data["notifications"] == []
    assert "Kustomize Component fixtures/kustomize-reach/components/debug: linted with" in stderr


def test_no_machine_path_in_the_remote_base_message() -> None:
    data, _ = check(f"{TREE}/remote")
    [problem] = data["notifications"]
    assert str(REPO) not in problem["message"]
    assert f"(in {TREE}/remote/kustomization.yaml)" in problem["message"]


def test_files_linted_before_are_unchanged_for_the_classic_fixtures(tmp_path: Path) -> None:
    data, _ = check("fixtures/kustomize")
    # overlays/prod, broken and remote: base is read by overlays/prod, so it is linted only
    # through that build (no file beside them goes unread); broken fails to build, so its
    # deployment.yaml is linted as a plain manifest (1 object)
    assert data["summary"]["objects"] == objects_of_kubectl("fixtures/kustomize/overlays/prod") + 1
    assert data["summary"]["objects"] == 5


SIBLING = "fixtures/kustomize-reach-sibling/config"


def test_a_sibling_base_is_linted_only_through_the_overlay_that_reads_it() -> None:
    data, stderr = check(SIBLING, verbose=True)
    manager = f"{SIBLING}/components/manager/manager.yaml"
    findings = [f for f in data["findings"] if f["path"] == manager]
    # the overlay's includeSelectors labels give the Deployment its selector: no KL903
    assert "KL903" not in {f["rule_id"] for f in findings}
    assert "KL201" in {f["rule_id"] for f in findings}
    # one finding per location and rule, on the overlay's object (its name prefix)
    places = [(f["rule_id"], f["line"], f["column"]) for f in findings]
    assert len(places) == len(set(places))
    assert {f["object"]["name"] for f in findings} == {"acme-controller-manager"}
    assert f"linted {manager}" in stderr


def test_a_base_whose_only_reader_cannot_build_is_built_alone() -> None:
    data, _ = check(SIBLING)
    # components/shared is read only by remote-only (a remote base klint will not fetch)
    assert objects_of_kubectl(f"{SIBLING}/components/shared") == 1
    built = objects_of_kubectl(f"{SIBLING}/default") + 1
    assert data["summary"]["objects"] == built
    assert [(n["code"], n["path"]) for n in data["notifications"]] == [
        ("kustomize-build", f"{SIBLING}/remote-only/kustomization.yaml")
    ]


def test_a_named_file_of_a_sibling_base_is_linted_through_its_nearest_kustomization() -> None:
    # as pre-commit names it: the base's own build (what `klint check <base folder>` builds);
    # overlays elsewhere in the tree are not searched
    data, _ = check(f"{SIBLING}/components/manager/manager.yaml")
    assert data["summary"]["objects"] == 1
    assert {f["object"]["name"] for f in data["findings"]} == {"controller-manager"}


def test_an_overlay_that_fails_when_built_lints_its_resource_files_on_their_own(
    tmp_path: Path,
) -> None:
    # as an operator's config/: the manager's generator reads a .env the Makefile writes
    manager = tmp_path / "config" / "manager"
    default = tmp_path / "config" / "default"
    manager.mkdir(parents=True)
    default.mkdir(parents=True)
    shutil.copy(REPO / "fixtures/kustomize/broken/deployment.yaml", manager / "manager.yaml")
    (manager / "kustomization.yaml").write_text(
        "resources:\n- manager.yaml\nconfigMapGenerator:\n- name: env\n  envs:\n  - .env\n"
    )
    (default / "kustomization.yaml").write_text("namePrefix: op-\nresources:\n- ../manager\n")
    result = run_cli("check", "--no-cache", "--format", "json", "-v", ".", cwd=tmp_path)
    data = json.loads(result.stdout)
    assert result.returncode == 2  # the build failure is still an input problem
    failed = [n for n in data["notifications"] if n["code"] == "kustomize-build"]
    assert [n["path"] for n in failed] == ["config/default/kustomization.yaml"]
    assert failed[0]["message"].endswith(
        "; its local resource files (1) were linted as plain manifests"
    )
    root = [f for f in data["findings"] if f["rule_id"] == "KL203"]  # runAsUser: 0
    assert [f["path"] for f in root] == ["config/manager/manager.yaml"]  # once
    assert "klint: linted config/manager/manager.yaml" in result.stderr


def test_a_failed_build_leaves_the_files_a_working_build_reads_to_it(tmp_path: Path) -> None:
    # as cass-operator's config/manifests: a base that a working overlay builds, and a
    # failing overlay over the same base with a file of its own
    for folder in ("base", "working", "failing"):
        (tmp_path / folder).mkdir()
    deployment = REPO / "fixtures/kustomize/broken/deployment.yaml"  # runAsUser: 0 (KL203)
    shutil.copy(deployment, tmp_path / "base" / "deployment.yaml")
    shutil.copy(deployment, tmp_path / "failing" / "extra.yaml")
    (tmp_path / "base" / "kustomization.yaml").write_text("resources:\n- deployment.yaml\n")
    (tmp_path / "working" / "kustomization.yaml").write_text("resources:\n- ../base\n")
    (tmp_path / "failing" / "kustomization.yaml").write_text(
        "resources:\n- ../base\n- extra.yaml\n"
        "configMapGenerator:\n- name: env\n  envs:\n  - .env\n"  # .env missing: fails at build
    )
    outputs = []
    for jobs in ("1", "2"):
        result = run_cli(
            "check", "--no-cache", "--format", "json", "-v", "--jobs", jobs, ".", cwd=tmp_path
        )
        assert result.returncode == 2  # the build failure is still an input problem
        outputs.append((result.stdout, result.stderr))
    assert outputs[0] == outputs[1]  # parallel equals serial
    stdout, stderr = outputs[0]
    data = json.loads(stdout)
    root = sorted(f["path"] for f in data["findings"] if f["rule_id"] == "KL203")
    assert root == ["base/deployment.yaml", "failing/extra.yaml"]  # each once
    failed = [n for n in data["notifications"] if n["code"] == "kustomize-build"]
    assert [n["path"] for n in failed] == ["failing/kustomization.yaml"]
    assert failed[0]["message"].endswith(
        "; its local resource files (1) were linted as plain manifests; 1 other local "
        "resource file linted through other builds that read them (-v lists them)"
    )
    assert (
        "klint: skipped base/deployment.yaml:1: linted through Kustomize overlay working, "
        "whose build reads it (kustomization failing failed to build)" in stderr
    )
    assert data["summary"]["objects"] == 2  # base's Deployment through working, extra.yaml
    assert data["summary"]["files"] == 4  # base's two files, extra.yaml, failing's kustomization
    text = run_cli("check", "--no-cache", ".", cwd=tmp_path).stdout
    assert "skipped" not in text.splitlines()[-1]  # linted through working: not skipped


WIDGET_CRD = """\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec: {type: object, properties: {mode: {type: string}}}
"""


def test_the_files_left_to_a_working_build_still_give_the_failed_one_its_context(
    tmp_path: Path,
) -> None:
    # a sample custom resource of the failing overlay is validated against the CRD its base
    # holds, as before; the CRD itself is linted through the working overlay only
    for folder in ("base", "working", "failing"):
        (tmp_path / folder).mkdir()
    (tmp_path / "base" / "crd.yaml").write_text(WIDGET_CRD)
    (tmp_path / "base" / "kustomization.yaml").write_text("resources:\n- crd.yaml\n")
    (tmp_path / "working" / "kustomization.yaml").write_text("resources:\n- ../base\n")
    (tmp_path / "failing" / "widget.yaml").write_text(
        "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec: {mode: [3]}\n"
    )
    (tmp_path / "failing" / "kustomization.yaml").write_text(
        "resources:\n- ../base\n- widget.yaml\n"
        "configMapGenerator:\n- name: env\n  envs:\n  - .env\n"
    )
    result = run_cli("check", "--no-cache", "--format", "json", ".", cwd=tmp_path)
    data = json.loads(result.stdout)
    schema = [(f["rule_id"], f["path"]) for f in data["findings"] if f["rule_id"] == "KL902"]
    assert schema == [("KL902", "failing/widget.yaml")]
    assert data["summary"]["objects"] == 2  # the CRD once (through working), the Widget


def test_a_file_whose_readers_all_fail_is_still_linted_on_its_own(tmp_path: Path) -> None:
    # the files left to another build come back when that build fails too: never lost
    for folder in ("base", "first", "second"):
        (tmp_path / folder).mkdir()
    deployment = REPO / "fixtures/kustomize/broken/deployment.yaml"  # runAsUser: 0 (KL203)
    shutil.copy(deployment, tmp_path / "base" / "deployment.yaml")
    (tmp_path / "base" / "kustomization.yaml").write_text("resources:\n- deployment.yaml\n")
    failing = "resources:\n- ../base\nconfigMapGenerator:\n- name: env\n  envs:\n  - .env\n"
    (tmp_path / "first" / "kustomization.yaml").write_text(failing)
    (tmp_path / "second" / "kustomization.yaml").write_text(failing)
    result = run_cli("check", "--no-cache", "--format", "json", "-v", ".", cwd=tmp_path)
    data = json.loads(result.stdout)
    failed = [n["path"] for n in data["notifications"] if n["code"] == "kustomize-build"]
    assert failed == ["first/kustomization.yaml", "second/kustomization.yaml"]
    root = [f["path"] for f in data["findings"] if f["rule_id"] == "KL203"]
    assert root == ["base/deployment.yaml"]
    assert "linted through" not in result.stderr


def test_a_cached_run_sees_another_build_start_failing(tmp_path: Path) -> None:
    # the failed build's result depends on the other build, which is no input of its key:
    # it is never replayed from the cache
    for folder in ("base", "first", "second"):
        (tmp_path / folder).mkdir()
    deployment = REPO / "fixtures/kustomize/broken/deployment.yaml"  # runAsUser: 0 (KL203)
    shutil.copy(deployment, tmp_path / "base" / "deployment.yaml")
    (tmp_path / "base" / "kustomization.yaml").write_text("resources:\n- deployment.yaml\n")
    failing = "resources:\n- ../base\nconfigMapGenerator:\n- name: env\n  envs:\n  - .env\n"
    (tmp_path / "first" / "kustomization.yaml").write_text(failing)
    (tmp_path / "second" / "kustomization.yaml").write_text("resources:\n- ../base\n")
    env = {"XDG_CACHE_HOME": str(tmp_path / "cache")}
    for _ in range(2):  # the second run replays what the cache holds
        result = run_cli("check", "--format", "json", "-v", ".", cwd=tmp_path, env=env)
    assert "linted through Kustomize overlay second" in result.stderr
    (tmp_path / "second" / "kustomization.yaml").write_text(failing)
    result = run_cli("check", "--format", "json", "-v", ".", cwd=tmp_path, env=env)
    assert "linted through" not in result.stderr
    data = json.loads(result.stdout)
    assert [f["path"] for f in data["findings"] if f["rule_id"] == "KL203"] == [
        "base/deployment.yaml"
    ]


def test_a_failed_build_asks_at_most_a_few_other_builds(tmp_path: Path) -> None:
    # four failing overlays and one working one over a base: each failure builds at most
    # MAX_READER_BUILDS others (a pull request of many failing overlays costs each one a
    # bounded number of builds); past that its files are linted on their own, never lost
    from klint.sources.kustomize.overlay import MAX_READER_BUILDS

    failing = "resources:\n- ../base\nconfigMapGenerator:\n- name: env\n  envs:\n  - .env\n"
    names = [f"fail-{index}" for index in range(MAX_READER_BUILDS + 1)] + ["working"]
    for folder in ("base", *names):
        (tmp_path / folder).mkdir()
    deployment = REPO / "fixtures/kustomize/broken/deployment.yaml"  # runAsUser: 0 (KL203)
    shutil.copy(deployment, tmp_path / "base" / "deployment.yaml")
    (tmp_path / "base" / "kustomization.yaml").write_text("resources:\n- deployment.yaml\n")
    for name in names[:-1]:
        (tmp_path / name / "kustomization.yaml").write_text(failing)
    (tmp_path / "working" / "kustomization.yaml").write_text("resources:\n- ../base\n")
    result = run_cli("check", "--no-cache", "--format", "json", "-v", ".", cwd=tmp_path)
    data = json.loads(result.stdout)
    assert [f["path"] for f in data["findings"] if f["rule_id"] == "KL203"] == [
        "base/deployment.yaml"
    ]
    # each failing overlay has MAX_READER_BUILDS failing ones before the working one in walk
    # order: it stops asking there and lints the base's file itself (without the bound,
    # every one of them would build the working overlay too and leave the file to it)
    assert "linted through" not in result.stderr
    assert result.stderr.count("were linted as plain manifests") == len(names) - 1

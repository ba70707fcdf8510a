"""An object that every build reading its file deletes (``$patch: delete``) is linted from
that file; the file's other objects stay with the builds (fixtures/kustomize-deleted,
modelled on trivy-operator's ``deploy/static``)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from klint.cache_inputs import unit_inputs
from klint.sources.discover import discover
from klint.sources.kustomize.deleted import deletions
from klint.sources.kustomize.files import load_kustomization
from klint.sources.manifests import ManifestFile, ManifestFolder
from tests.conftest import REPO, run_cli

pytestmark = pytest.mark.skipif(shutil.which("kubectl") is None, reason="needs kubectl")

TREE = "fixtures/kustomize-deleted"
NOTE = "Deployment b deleted by {by} in every build that reads it: linted from its file"


def check(*paths: str, cwd: Path | None = None) -> tuple[dict[str, Any], str, int]:
    result = run_cli("check", "--no-cache", "--format", "json", "-v", *paths, cwd=cwd)
    assert "Traceback" not in result.stderr
    return json.loads(result.stdout), result.stderr, result.returncode


def of(data: dict[str, Any], name: str) -> list[tuple[str, str, int]]:
    """The findings on object ``name``: (rule, file, line), sorted."""
    return sorted(
        (f["rule_id"], f["path"], f["line"])
        for f in data["findings"]
        if f["object"]["name"] == name
    )


def kubectl_objects(directory: Path) -> int:
    built = subprocess.run(
        ["kubectl", "kustomize", str(directory)], capture_output=True, text=True, check=True
    )
    return sum(1 for line in built.stdout.splitlines() if line.startswith("kind:"))


def assert_b_from_its_file(data: dict[str, Any], file: str) -> None:
    a, b = of(data, "a"), of(data, "b")
    assert a and b
    assert len(set(a)) == len(a) and len(set(b)) == len(b)  # each once
    assert {path for _, path, _ in a + b} == {file}
    assert all(line < 20 for _, _, line in a)  # a: from the build, on its own lines
    assert all(line >= 20 for _, _, line in b)  # b: the second document of the file
    assert [rule for rule, _, _ in a] == [rule for rule, _, _ in b]  # same objects, same rules


def test_an_object_the_only_build_deletes_is_linted_from_its_file() -> None:
    data, stderr, _ = check(f"{TREE}/deleted")
    assert kubectl_objects(REPO / TREE / "deleted/prune") == 1  # the build has only a
    assert_b_from_its_file(data, f"{TREE}/deleted/base/deployments.yaml")
    assert data["summary"]["objects"] == 2  # a through the build, b from the file
    by = f"{TREE}/deleted/prune/kustomization.yaml"
    note = f"skipped {TREE}/deleted/base/deployments.yaml:20: " + NOTE.format(by=by)
    assert note in stderr
    assert f"linted {TREE}/deleted/base/deployments.yaml" in stderr


def test_an_inline_patches_string_deletes_too() -> None:
    data, stderr, _ = check(f"{TREE}/inline")
    assert kubectl_objects(REPO / TREE / "inline") == 1
    assert_b_from_its_file(data, f"{TREE}/inline/deployments.yaml")
    assert NOTE.format(by=f"{TREE}/inline/kustomization.yaml") in stderr


def test_the_named_file_gives_the_same_findings_as_its_folder() -> None:
    walked, _, _ = check(f"{TREE}/inline")
    named, stderr, _ = check(f"{TREE}/inline/deployments.yaml")
    assert of(named, "b") == of(walked, "b")
    assert of(named, "a") == of(walked, "a")
    assert named["summary"]["objects"] == 2
    assert named["summary"]["files"] == 2  # the file and its kustomization, once each
    assert NOTE.format(by=f"{TREE}/inline/kustomization.yaml") in stderr


def test_an_object_another_build_keeps_is_linted_through_that_build_only() -> None:
    data, stderr, _ = check(f"{TREE}/kept")
    assert "deleted by" not in stderr
    built = kubectl_objects(REPO / TREE / "kept/prune") + kubectl_objects(REPO / TREE / "kept/keep")
    assert built == 3
    assert data["summary"]["objects"] == built  # b once, in keep's build
    b = of(data, "b")
    assert b and len(set(b)) == len(b)
    assert [rule for rule, _, _ in b] == [rule for rule, _, _ in of(data, "a")]


def copy_tree(tmp_path: Path, patch: bytes) -> Path:
    shutil.copytree(REPO / TREE / "deleted", tmp_path / "tree")
    (tmp_path / "tree/prune/delete-b.yaml").write_bytes(patch)
    return tmp_path / "tree"


def test_a_malformed_delete_patch_loses_nothing(tmp_path: Path) -> None:
    tree = copy_tree(tmp_path, b"$patch: delete\nkind: [Deployment\nmetadata: {name: b\n")
    data, stderr, code = check(".", cwd=tree)
    assert code == 2  # the build fails, as before
    assert "deleted by" not in stderr
    # the overlay's resource files are linted on their own: a and b, each once
    assert of(data, "a") and of(data, "b")
    assert len(set(of(data, "b"))) == len(of(data, "b"))
    assert data["summary"]["objects"] == 2


def test_a_huge_delete_patch_is_not_read_and_nothing_else_changes(tmp_path: Path) -> None:
    patch = (REPO / TREE / "deleted/prune/delete-b.yaml").read_bytes()
    tree = copy_tree(tmp_path, patch + b"# " + b"x" * (2 * 1024 * 1024) + b"\n")
    data, stderr, code = check(".", cwd=tree)
    assert code == 1  # findings; the build works
    assert "deleted by" not in stderr  # over the scan's bound: b stays with the build (gone)
    assert of(data, "a") and not of(data, "b")


def test_target_selectors_that_name_one_object_delete_it(tmp_path: Path) -> None:
    (tmp_path / "kustomization.yaml").write_text(
        "patches:\n"
        "- target: {kind: Deployment, name: b}\n"
        "  patch: |\n    $patch: delete\n    kind: Deployment\n    metadata: {name: any}\n"
        "- target: {kind: Deployment, name: 'c.*'}\n"  # a pattern: not followed
        "  patch: |\n    $patch: delete\n    kind: Deployment\n    metadata: {name: any}\n"
        "- target: {kind: Deployment, labelSelector: app=d}\n"
        "  patch: |\n    $patch: delete\n    kind: Deployment\n    metadata: {name: any}\n"
        '- patch: \'{"$patch": "delete", "kind": "Service", "metadata": {"name": "e"}}\'\n'
        "- path: missing.yaml\n"
        "- path: ../outside.yaml\n"
        "- patch: 'kind: [broken'\n"
    )
    (tmp_path.parent / "outside.yaml").write_text(
        "$patch: delete\nkind: Secret\nmetadata: {name: outside}\n"
    )
    kustomization = load_kustomization(str(tmp_path))
    assert kustomization is not None
    found = deletions(kustomization, tmp_path)
    assert [(d.kind, d.name, d.namespace) for d in found] == [
        ("Deployment", "b", "*"),
        ("Service", "e", None),
    ]
    assert found[0].matches("Deployment", "b", "shop")  # a target selects every namespace
    assert not found[1].matches("Service", "e", "shop")  # a patch: its own namespace only
    assert found[1].matches("Service", "e", "default")


def test_the_picked_unit_is_keyed_by_the_kustomizations_that_decided_it() -> None:
    found = discover([f"{TREE}/deleted"], cwd=REPO)
    picked = [
        (unit, file)
        for unit in found.units
        if isinstance(unit, ManifestFolder)
        for file in unit.files
        if isinstance(file, ManifestFile) and file.only is not None
    ]
    assert len(picked) == 1
    unit, file = picked[0]
    assert [(p.kind, p.name, p.namespace) for p in file.only or ()] == [("Deployment", "b", "shop")]
    inputs = unit_inputs(unit, REPO, ())
    assert inputs is not None
    for name in ("prune/kustomization.yaml", "base/kustomization.yaml"):
        assert str(REPO / TREE / "deleted" / name) in inputs.files
    assert "Deployment" in inputs.identity  # the filter is part of its identity


def test_a_cached_run_follows_a_kustomization_that_stops_deleting(tmp_path: Path) -> None:
    shutil.copytree(REPO / TREE / "deleted", tmp_path / "tree")
    tree = tmp_path / "tree"

    def cached() -> dict[str, Any]:
        result = run_cli("check", "--format", "json", ".", cwd=tree)
        return dict(json.loads(result.stdout))

    first, again = cached(), cached()
    assert of(first, "b") and of(again, "b") == of(first, "b")
    (tree / "prune/kustomization.yaml").write_text("resources:\n  - ../base\n")
    (tree / "prune/delete-b.yaml").unlink()
    after = cached()
    assert after["summary"]["objects"] == 2  # both through the build now
    assert of(after, "b") == of(first, "b")
    assert after["summary"]["files"] == 3


def with_comment(tmp_path: Path, line: int, comment: str) -> Path:
    tree = copy_tree(tmp_path, (REPO / TREE / "deleted/prune/delete-b.yaml").read_bytes())
    base = tree / "base/deployments.yaml"
    lines = base.read_text().splitlines()
    assert lines[line - 1].strip() == "runAsUser: 0"
    lines[line - 1] += f"  # klint: ignore[{comment}] a test image"
    base.write_text("\n".join(lines) + "\n")
    return tree


@pytest.mark.parametrize("line", [18, 36])  # a's line (the build's), b's (its file's)
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_suppression_comment_is_judged_by_the_unit_that_lints_its_object(
    tmp_path: Path, line: int, jobs: str
) -> None:
    tree = with_comment(tmp_path, line, "KL203")
    data, _, _ = check(".", "--jobs", jobs, cwd=tree)
    assert [n for n in data["notifications"] if n["code"] == "unused-suppression"] == []
    suppressed = [f for f in data["findings"] if f["rule_id"] == "KL203" and f["suppressed"]]
    assert [f["line"] for f in suppressed] == [line]
    assert data["summary"]["suppressed"] == 1


@pytest.mark.parametrize("line", [18, 36])
def test_an_unused_suppression_is_reported_once(tmp_path: Path, line: int) -> None:
    tree = with_comment(tmp_path, line, "KL999")
    data, _, _ = check(".", cwd=tree)
    unused = [n for n in data["notifications"] if n["code"] == "unused-suppression"]
    assert [(n["path"], n["line"]) for n in unused] == [("base/deployments.yaml", line)]


def test_klint_fix_edits_the_deleted_object_in_its_file(tmp_path: Path) -> None:
    tree = copy_tree(tmp_path, (REPO / TREE / "deleted/prune/delete-b.yaml").read_bytes())
    result = run_cli("fix", ".", cwd=tree)
    assert result.returncode in (0, 1), result.stderr
    fixed = (tree / "base/deployments.yaml").read_text().split("\n---\n")
    assert len(fixed) == 2
    assert all("allowPrivilegeEscalation: false" in document for document in fixed)


def test_a_component_deletes_from_the_overlay_that_includes_it(tmp_path: Path) -> None:
    shutil.copytree(REPO / TREE / "deleted/base", tmp_path / "base")
    (tmp_path / "slim").mkdir()
    (tmp_path / "slim/kustomization.yaml").write_text(
        "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\npatches:\n"
        "  - patch: |\n      $patch: delete\n      apiVersion: apps/v1\n      kind: Deployment\n"
        "      metadata: {name: b, namespace: shop}\n"
    )
    (tmp_path / "app").mkdir()
    (tmp_path / "app/kustomization.yaml").write_text(
        "resources:\n  - ../base\ncomponents:\n  - ../slim\n"
    )
    assert kubectl_objects(tmp_path / "app") == 1
    data, stderr, _ = check(".", cwd=tmp_path)
    assert NOTE.format(by="slim/kustomization.yaml") in stderr
    assert_b_from_its_file(data, "base/deployments.yaml")
    assert data["summary"]["objects"] == 2

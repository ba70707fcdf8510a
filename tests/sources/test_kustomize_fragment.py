"""A strategic-merge patch in a kustomization's folder that no kustomization lists and whose
name does not say "patch" (cloudnative-pg adds it from its Makefile) is a fragment: skipped
with the reason, not linted as a Deployment without a selector or a hardened container.
Fixture: ``fixtures/kustomize-reach-fragment`` (issue 23 §3: the only "wrong" class left)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from klint.sources.kustomize.reach import is_fragment
from tests.conftest import FIXTURES, run_cli

TREE = FIXTURES / "kustomize-reach-fragment"
MANAGER = TREE / "config" / "manager"


@pytest.mark.parametrize(
    ("name", "fragment"),
    [("env_override.yaml", True), ("manager.yaml", False), ("extra-job.yaml", False)],
)
def test_a_workload_without_selector_or_images_is_a_fragment(name: str, fragment: bool) -> None:
    assert is_fragment(MANAGER / name) is fragment


@pytest.mark.parametrize("named", [".", "config/manager/env_override.yaml"])
def test_the_fragment_is_skipped_with_why_and_whole_objects_are_linted(named: str) -> None:
    result = run_cli("check", "-v", "--format", "json", named, cwd=TREE)
    paths = {f["path"] for f in json.loads(result.stdout)["findings"]}
    assert "config/manager/env_override.yaml" not in paths
    assert "klint: skipped config/manager/env_override.yaml:1: a Kustomize patch" in result.stderr
    if named == ".":
        assert "config/manager/extra-job.yaml" in paths


def test_a_fragment_is_read_within_a_size_bound(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_text((MANAGER / "env_override.yaml").read_text() + "#" * 300_000 + "\n")
    assert is_fragment(big) is False  # over the bound: not read, linted as usual


@pytest.mark.parametrize(
    "text",
    ["kind: {a: 1}\n", "- 1\n- 2\n", "kind: Deployment\nspec: [1]\n", "a: [\n", "{? [1]: 2}\n"],
)
def test_any_yaml_is_read_without_error(tmp_path: Path, text: str) -> None:
    odd = tmp_path / "odd.yaml"
    odd.write_text(text)
    assert is_fragment(odd) is False

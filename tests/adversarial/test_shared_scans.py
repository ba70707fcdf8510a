"""The shortcuts of one run's discovery and cache keying (each kustomization folder and each
real path looked at once, ``scans_shared``) never let a tree read what its own scan refuses:
what a folder adds depends on the root of the tree that reaches it, and a link out of the
repository is found below a folder whose real path is already known."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from klint.sources.kustomize.tree import Tree
from klint.sources.scans import scans_shared


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))


def nested_checkouts(tmp_path: Path) -> tuple[Path, Path, Path, Path]:
    """A checkout inside a checkout; a base of the inner one names a folder (through a link)
    of the outer one: inside the outer root, outside the inner."""
    outer = tmp_path / "outer"
    inner = outer / "inner"
    (outer / ".git").mkdir(parents=True)
    (inner / ".git").mkdir(parents=True)
    write(outer / "shared" / "kustomization.yaml", "resources: [secret.yaml]\n")
    write(outer / "shared" / "secret.yaml", "apiVersion: v1\nkind: Secret\n")
    write(inner / "base" / "kustomization.yaml", "resources: [shared]\n")
    (inner / "base" / "shared").symlink_to("../../shared")
    write(inner / "overlay" / "kustomization.yaml", "resources: [../base]\n")
    write(outer / "overlay" / "kustomization.yaml", "resources: [../inner/base]\n")
    return outer, inner, outer / "overlay", inner / "overlay"


@pytest.mark.parametrize("outer_first", [True, False])
def test_a_folder_reached_from_two_roots_is_looked_at_for_each(
    outer_first: bool, tmp_path: Path
) -> None:
    outer, inner, outer_overlay, inner_overlay = nested_checkouts(tmp_path)
    secret = str(outer / "shared" / "secret.yaml")
    scans = [(outer_overlay, outer), (inner_overlay, inner)]
    with scans_shared():
        trees = {
            root: Tree.scan(folder, root) for folder, root in scans[:: 1 if outer_first else -1]
        }
    # the outer checkout may read its own folder through the link; the inner one may not
    assert secret in {str(Path(f).resolve()) for f in trees[outer].files}
    assert not trees[outer].refused
    assert [entry for _, entry, _ in trees[inner].refused] == ["shared"]
    assert all(
        not str(Path(f).resolve()).startswith(str(outer / "shared")) for f in trees[inner].files
    )
    alone = Tree.scan(inner_overlay, inner)
    assert (trees[inner].files, trees[inner].refused) == (alone.files, alone.refused)


def test_a_link_out_below_a_folder_already_resolved_is_refused(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    outside = tmp_path / "outside"
    write(outside / "kustomization.yaml", "resources: [stolen.yaml]\n")
    write(outside / "stolen.yaml", "apiVersion: v1\nkind: Secret\n")
    write(repo / "base" / "kustomization.yaml", "resources: [plain.yaml, out, out.yaml]\n")
    write(repo / "base" / "plain.yaml", "apiVersion: v1\nkind: ConfigMap\n")
    (repo / "base" / "out").symlink_to(outside)
    (repo / "base" / "out.yaml").symlink_to(outside / "stolen.yaml")
    for name in ("a", "b"):
        write(repo / name / "kustomization.yaml", "resources: [../base]\n")
    with scans_shared():
        trees = [Tree.scan(repo / name, repo) for name in ("a", "b")]
    for tree in trees:
        assert sorted(entry for _, entry, _ in tree.refused) == ["out", "out.yaml"]
        assert not any("outside" in f or "stolen" in f for f in tree.files)
        assert str(repo / "base" / "plain.yaml") in tree.files


def test_sarif_reads_no_line_through_a_link_out_of_the_repository(tmp_path: Path) -> None:
    """SARIF reads the lines results point at (line hashes), each folder resolved once per
    log: a link out of the repository in a folder already resolved is still not read."""
    from klint.catalog import load_catalog
    from klint.findings import Finding, Location, Report, Severity, Span
    from klint.reporters.base import ReportContext
    from klint.reporters.sarif import SarifReporter

    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    outside = tmp_path / "outside.yaml"
    outside.write_text("kind: Secret # outside\n")
    write(repo / "a" / "in.yaml", "kind: Pod\n")
    (repo / "a" / "out.yaml").symlink_to(outside)

    def finding(path: str) -> Finding:
        where = Location(path, Span(1, 1, 1, 5))
        return Finding("KL101", "privileged", Severity.ERROR, "m", where, None, ())

    report = Report(findings=[finding("a/in.yaml"), finding("a/out.yaml")])
    rules = [rule for rule in load_catalog() if rule.id == "KL101"]
    context = ReportContext(rules=rules, cwd=repo, root=repo)
    log = json.loads(SarifReporter().render(report, context))
    prints = [r["partialFingerprints"] for r in log["runs"][0]["results"]]
    assert "primaryLocationLineHash" in prints[0]  # read: inside
    assert "primaryLocationLineHash" not in prints[1]  # the link out: never read

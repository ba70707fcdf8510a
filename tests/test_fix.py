"""``klint fix``: golden diffs, idempotence, lint-clean after fixing, Helm advice, SARIF fixes."""

from __future__ import annotations

import difflib
import hashlib
import json
import shutil
from pathlib import Path

import pytest

from klint.catalog import Rule, load_catalog
from klint.findings import Span
from klint.fix import (
    Replacement,
    apply_replacements,
    detect_indent,
    fix_in_text,
    replacements,
    transplant,
)
from klint.fixes import FIXERS
from tests.conftest import FIXTURES, lint_text, run_cli
from tests.test_sarif import sarif

FIX = FIXTURES / "fix"
GOLDEN = FIX / "golden"
CATALOG = {rule.id: rule for rule in load_catalog()}
FIXABLE = sorted(rule_id for rule_id, rule in CATALOG.items() if rule.fix)
SAFE = sorted(r for r in FIXABLE if CATALOG[r].fix["applicability"] == "safe")


@pytest.fixture
def work(tmp_path: Path) -> Path:
    """A writable copy of fixtures/fix (without the golden files)."""
    target = tmp_path / "fix"
    shutil.copytree(FIX, target, ignore=shutil.ignore_patterns("golden"))
    return target


def fix_cli(cwd: Path, *args: str) -> tuple[int, str, str]:
    if "--profile" not in args and "--select" not in args:
        args = ("--profile", "all", *args)
    result = run_cli("fix", "--no-config", *args, cwd=cwd)
    return result.returncode, result.stdout, result.stderr


def findings(cwd: Path, path: str) -> list[tuple[str, int, str]]:
    """(file, line, rule) of every fixable finding ``klint check --profile all`` reports."""
    result = run_cli("check", "--no-config", "--profile", "all", "--format", "json", path, cwd=cwd)
    assert result.returncode in (0, 1), result.stderr
    data = json.loads(result.stdout)
    items = data["findings"] if isinstance(data, dict) else data
    return sorted((f["path"], f["line"], f["rule_id"]) for f in items if f["rule_id"] in FIXABLE)


def digest(directory: Path) -> dict[str, str]:
    return {
        str(p.relative_to(directory)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


GOLDEN_CASES = [
    ("two-space", "safe"),
    ("two-space", "unsafe"),
    ("four-space", "safe"),
    ("four-space", "unsafe"),
    ("list", "safe"),
    ("list", "unsafe"),
]


@pytest.mark.parametrize(("name", "mode"), GOLDEN_CASES)
def test_diff_matches_golden_and_writes_nothing(work: Path, name: str, mode: str) -> None:
    before = digest(work)
    extra = ["--unsafe"] if mode == "unsafe" else []
    code, out, err = fix_cli(work, f"{name}.yaml", "--diff", *extra)
    assert out == (GOLDEN / f"{name}.{mode}.diff").read_text(encoding="utf-8"), err
    assert code == 1  # --diff with changes to make
    assert digest(work) == before


@pytest.mark.parametrize(("name", "mode"), GOLDEN_CASES)
def test_fix_writes_the_diff_and_is_idempotent(work: Path, name: str, mode: str) -> None:
    extra = ["--unsafe"] if mode == "unsafe" else []
    original = (work / f"{name}.yaml").read_text(encoding="utf-8")
    code, out, err = fix_cli(work, f"{name}.yaml", *extra)
    assert (code, out) == (0, ""), err
    fixed = (work / f"{name}.yaml").read_text(encoding="utf-8")
    diff = "".join(
        difflib.unified_diff(
            original.splitlines(keepends=True),
            fixed.splitlines(keepends=True),
            fromfile=f"a/{name}.yaml",
            tofile=f"b/{name}.yaml",
        )
    )
    assert diff == (GOLDEN / f"{name}.{mode}.diff").read_text(encoding="utf-8")
    code, out, err = fix_cli(work, f"{name}.yaml", "--diff", *extra)
    assert (code, out) == (0, "")
    assert "would fix 0 finding(s) in 0 file(s)" in err


def test_unsafe_fix_lints_clean_for_every_fixed_rule(work: Path) -> None:
    assert findings(work, "two-space.yaml")  # something to fix
    for name in ("two-space", "four-space", "list"):
        fix_cli(work, f"{name}.yaml", "--unsafe")
        assert findings(work, f"{name}.yaml") == []


def test_safe_fix_leaves_needs_review_and_explicit_values(work: Path) -> None:
    code, _, err = fix_cli(work, "two-space.yaml")
    assert code == 0
    assert "11 more fix(es) need review: rerun with --unsafe" in err
    left = [(line, rule) for _, line, rule in findings(work, "two-space.yaml") if rule in SAFE]
    # allowPrivilegeEscalation: true was written on purpose: only --unsafe replaces it
    assert left == [(24, "KL201")]


def test_kustomize_patch_and_base_are_fixed_json_patch_is_advice(work: Path) -> None:
    code, out, err = fix_cli(work, "kustomize/overlay", "--unsafe", "--diff")
    assert out == (GOLDEN / "kustomize.unsafe.diff").read_text(encoding="utf-8")
    assert code == 1
    assert (
        "kustomize/base/deployment.yaml:22:11: KL106: remove spec.template.spec."
        "containers[name=metrics].ports[0].hostPort — not fixed automatically" in err
    )
    before = (work / "kustomize/overlay/ports.json.yaml").read_bytes()
    code, _, _ = fix_cli(work, "kustomize/overlay", "--unsafe")
    assert code == 1  # the hostPort from the JSON patch is left to a person
    assert (work / "kustomize/overlay/ports.json.yaml").read_bytes() == before
    assert findings(work, "kustomize/overlay") == [
        ("kustomize/base/deployment.yaml", 23, "KL106")  # one line added above
    ]


def test_helm_chart_is_never_rewritten_and_advice_names_values(tmp_path: Path) -> None:
    chart = tmp_path / "web"
    shutil.copytree(FIXTURES / "helm" / "web", chart)
    before = digest(chart)
    code, out, err = fix_cli(tmp_path, "web", "--unsafe")
    assert digest(chart) == before
    assert code == 1 and out == ""
    assert (
        "web/templates/deployment.yaml:27:13: KL201: in web/values.yaml:8 under "
        "securityContext: set allowPrivilegeEscalation: false — klint does not rewrite Helm "
        "charts" in err.splitlines()
    )
    assert (
        "web/templates/deployment.yaml:27:13: KL101: in web/values.yaml:9: set "
        "securityContext.privileged: false — klint does not rewrite Helm charts" in err.splitlines()
    )
    assert (
        "web/templates/deployment.yaml:17:7: KL102: set spec.template.spec.hostNetwork: "
        "false (in this template)" in err
    )


def test_crlf_and_bom_are_kept(tmp_path: Path) -> None:
    text = (
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n"
        "    - name: app\n      image: nginx:1.27\n"
    )
    (tmp_path / "pod.yaml").write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode())
    code, _, err = fix_cli(tmp_path, "pod.yaml", "--select", "KL201", "--profile", "pss-baseline")
    assert code == 0, err
    data = (tmp_path / "pod.yaml").read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    body = data[3:].decode()
    assert "\n" not in body.replace("\r\n", "")
    assert body.replace("\r\n", "\n") == text + (
        "      securityContext:\n        allowPrivilegeEscalation: false\n"
    )


def test_suppressed_findings_are_not_fixed(tmp_path: Path) -> None:
    text = (
        "apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n  containers:\n"
        "    - name: app  # klint: ignore[KL201] needs setuid for ping\n"
        "      image: nginx:1.27\n"
    )
    (tmp_path / "pod.yaml").write_text(text)
    code, _, _ = fix_cli(tmp_path, "pod.yaml", "--select", "KL201", "--profile", "pss-baseline")
    assert code == 0
    assert (tmp_path / "pod.yaml").read_text() == text


def test_exit_codes_nothing_to_do_and_missing_path(tmp_path: Path) -> None:
    shutil.copy(FIXTURES / "examples" / "hardened-deployment.yaml", tmp_path / "ok.yaml")
    assert fix_cli(tmp_path, "ok.yaml", "--unsafe")[0] == 0
    assert fix_cli(tmp_path, "missing.yaml")[0] == 2


# --- SARIF ------------------------------------------------------------------------------


def _sarif_replacements(result: dict[str, object]) -> list[Replacement]:
    (fix,) = result["fixes"]  # type: ignore[misc]
    (change,) = fix["artifactChanges"]
    found = []
    for item in change["replacements"]:
        region = item["deletedRegion"]
        span = Span(
            region["startLine"], region["startColumn"], region["endLine"], region["endColumn"]
        )
        found.append(Replacement(span, item.get("insertedContent", {}).get("text", "")))
    return found


def test_sarif_fixes_validate_and_apply_cleanly() -> None:
    path = "fixtures/fix/two-space.yaml"
    log = sarif("--no-config", "--profile", "all", path)
    results = log["runs"][0]["results"]
    original = (FIX / "two-space.yaml").read_text(encoding="utf-8")
    with_fixes = [r for r in results if "fixes" in r]
    assert {r["ruleId"] for r in with_fixes} == {
        "KL101",
        "KL106",
        "KL150",
        "KL151",
        "KL201",
        "KL202",
        "KL205",
        "KL206",
        "KL530",
        "KL531",
    }
    by_rule_line = {
        (r["ruleId"], r["locations"][0]["physicalLocation"]["region"]["startLine"]): r
        for r in with_fixes
    }
    privileged = by_rule_line[("KL101", 25)]["fixes"][0]
    assert privileged["description"]["text"] == (
        "Set spec.template.spec.containers[0].securityContext.privileged: false "
        "(klint fix: needs-review)."
    )
    change = privileged["artifactChanges"][0]
    assert change["artifactLocation"] == {"uri": path, "uriBaseId": "%SRCROOT%"}
    assert change["replacements"] == [
        {
            "deletedRegion": {"startLine": 25, "startColumn": 25, "endLine": 25, "endColumn": 28},
            "insertedContent": {"text": "false"},
        }
    ]
    host_port = by_rule_line[("KL106", 21)]["fixes"][0]["artifactChanges"][0]["replacements"]
    assert host_port == [
        {"deletedRegion": {"startLine": 21, "startColumn": 1, "endLine": 22, "endColumn": 1}}
    ]
    for result in with_fixes:
        patched = apply_replacements(original, _sarif_replacements(result))
        fingerprints = {f.fingerprint for f in lint_text(patched, rules=[result["ruleId"]]).active}
        assert result["partialFingerprints"]["klint/v1"] not in fingerprints, result["ruleId"]


def test_sarif_has_no_fixes_outside_plain_manifests() -> None:
    log = sarif("--no-config", "fixtures/fix/kustomize/overlay", "fixtures/helm/web")
    assert [r for r in log["runs"][0]["results"] if "fixes" in r] == []


# --- units ------------------------------------------------------------------------------


def test_detect_indent_styles() -> None:
    assert detect_indent((FIX / "two-space.yaml").read_text()) == (2, 4, 2)
    assert detect_indent((FIX / "four-space.yaml").read_text()) == (4, 8, 4)
    assert detect_indent((FIX / "list.yaml").read_text()) == (2, 2, 0)


def test_transplant_keeps_lines_ruamel_would_normalise() -> None:
    original = "a:\n    b: 1\nc:\n  d:   2\n"
    noop = "a:\n  b: 1\nc:\n  d: 2\n"
    edited = "a:\n  b: 1\nc:\n  d: 2\n  e: 3\n"
    assert transplant(original, noop, edited) == "a:\n    b: 1\nc:\n  d:   2\n  e: 3\n"
    assert transplant(noop, noop, edited) == edited


def test_replacements_round_trip_at_end_of_file_and_mid_line() -> None:
    original = "a: 1\nb: yes\n"
    for fixed in ("a: 1\nb: false\n", "a: 1\nb: yes\nc: 2\n", "b: yes\n", "a: 1\nb: yes"):
        assert apply_replacements(original, replacements(original, fixed)) == fixed
    (only,) = replacements("a: true\n", "a: false\n")
    assert only == Replacement(Span(1, 4, 1, 8), "false")


def _rule(rule_id: str) -> Rule:
    return CATALOG[rule_id]


def test_removing_a_key_keeps_the_comments_after_it() -> None:
    text = (
        "apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n  containers:\n"
        "    - name: app\n      image: nginx:1.27\n      ports:\n"
        "        - containerPort: 80\n          hostPort: 80  # on the node\n"
        "          # keep me\n      resources: {}\n"
    )
    (finding,) = lint_text(text, rules=["KL106"]).active
    fix = fix_in_text(text, finding, _rule("KL106"))
    assert fix is not None and fix.applicability == "needs-review"
    fixed = apply_replacements(text, fix.replacements)
    assert fixed == text.replace("          hostPort: 80  # on the node\n", "")


def test_every_rule_with_fix_metadata_has_a_fixer_and_docs_show_it() -> None:
    assert FIXABLE
    for rule_id in FIXABLE:
        rule = CATALOG[rule_id]
        assert rule.check in FIXERS, rule_id
        page = (FIXTURES.parent / "docs" / "rules" / f"{rule.name}.md").read_text()
        assert f"| Fix | {rule.fix['applicability']}: " in page
    assert CATALOG["KL201"].fix["applicability"] == "safe"
    assert CATALOG["KL206"].fix["applicability"] == "needs-review"


def test_lsp_offers_the_fix_as_a_quick_fix(tmp_path: Path) -> None:
    pytest.importorskip("pygls")
    from lsprotocol import types

    from klint.lsp import Linter, diagnostics, fix_actions, fixable_buffer

    text = (
        "apiVersion: v1\nkind: Pod\nmetadata: {name: wéb}\nspec:\n  containers:\n"
        "    - name: app\n      image: nginx:1.27\n      securityContext: {privileged: true}\n"
    )
    path = str(tmp_path / "pod.yaml")
    report = Linter(tmp_path, ("all",)).lint(text, path)
    lines = text.splitlines(keepends=True)
    found = diagnostics(report, lines, {})
    uri = (tmp_path / "pod.yaml").as_uri()
    actions = fix_actions(uri, text, report, found, list(CATALOG.values()))
    by_rule = {a.diagnostics[0].code: a for a in actions if a.diagnostics}
    assert fixable_buffer(path)
    privileged = by_rule["KL101"]
    assert privileged.title == (
        "Fix KL101: Set spec.containers[0].securityContext.privileged: false "
        "(klint fix: needs-review)."
    )
    assert privileged.is_preferred is False
    assert privileged.edit is not None and privileged.edit.changes is not None
    assert privileged.edit.changes[uri] == [
        types.TextEdit(types.Range(types.Position(7, 36), types.Position(7, 40)), "false")
    ]
    assert by_rule["KL201"].is_preferred is True
    assert "KL301" not in by_rule  # no fix: which tag to pin is not ours to say

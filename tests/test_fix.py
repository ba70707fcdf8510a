"""``klint fix``: golden diffs, idempotence, lint-clean after fixing, Helm advice, SARIF fixes."""

from __future__ import annotations

import difflib
import hashlib
import json
import shutil
from pathlib import Path

import pytest

from klint.catalog import load_catalog
from klint.edits import apply_edits
from klint.findings import Span, TextEdit
from klint.fixes import FIXERS, RULE_FIXERS
from klint.reporters.sarif import artifact_fingerprint
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
    assert "would fix 0 finding(s) with 0 fix(es) in 0 file(s)" in err


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
        "securityContext: set privileged: false; in web/values.yaml:8 under securityContext: "
        "set allowPrivilegeEscalation: false — klint does not rewrite Helm charts"
        in err.splitlines()  # privileged: true first: the API server rejects both together
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


def _sarif_replacements(result: dict[str, object]) -> list[TextEdit]:
    (fix,) = result["fixes"]  # type: ignore[misc]
    (change,) = fix["artifactChanges"]
    found = []
    for item in change["replacements"]:
        region = item["deletedRegion"]
        span = Span(
            region["startLine"], region["startColumn"], region["endLine"], region["endColumn"]
        )
        found.append(TextEdit(span, item.get("insertedContent", {}).get("text", "")))
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
    everything = {f.fingerprint for f in lint_text(original, path=path).active}
    for result in with_fixes:
        patched = apply_edits(original, _sarif_replacements(result))
        findings = lint_text(patched, path=path).active
        after = {f.fingerprint for f in findings}
        prints = {artifact_fingerprint(path, fingerprint) for fingerprint in after}
        assert result["partialFingerprints"]["klint/v2"] not in prints, result["ruleId"]
        # Removes its finding and adds none, except what un-privileging a container unmasks:
        # KL151 leaves privileged containers to KL101, so dropping `privileged` (the API
        # server's condition for allowPrivilegeEscalation: false) brings its finding back.
        unmasks = "privileged" in result["fixes"][0]["description"]["text"]
        added = {f.rule_id for f in findings if f.fingerprint not in everything}
        assert added <= ({"KL151"} if unmasks else set()), result["ruleId"]


def test_sarif_has_no_fixes_outside_plain_manifests() -> None:
    log = sarif("--no-config", "fixtures/fix/kustomize/overlay", "fixtures/helm/web")
    assert [r for r in log["runs"][0]["results"] if "fixes" in r] == []


# --- units ------------------------------------------------------------------------------


def _fix_of(text: str, rule: str) -> tuple[str, str]:
    """The text after applying the one finding of ``rule``'s fix, and its applicability."""
    (finding,) = lint_text(text, rules=[rule]).active
    assert finding.fix is not None, rule
    return apply_edits(text, finding.fix.edits), finding.fix.applicability.value


def test_apply_edits_at_end_of_file_mid_line_and_crlf() -> None:
    assert apply_edits("a: true\n", [TextEdit(Span(1, 4, 1, 8), "false")]) == "a: false\n"
    assert apply_edits("a: 1", [TextEdit(Span(1, 5, 1, 5), "\nb: 2")]) == "a: 1\nb: 2"
    assert apply_edits("a: 1\r\nb: 2\r\n", [TextEdit(Span(2, 1, 2, 1), "c: 3\n")]) == (
        "a: 1\r\nc: 3\r\nb: 2\r\n"
    )
    edits = [TextEdit(Span(1, 1, 2, 1), ""), TextEdit(Span(2, 4, 2, 5), "9")]
    assert apply_edits("x: 0\ny: 1\n", edits) == "y: 9\n"  # applied bottom-up


POD = "apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n  containers:\n"


def test_removing_a_key_keeps_the_comments_after_it() -> None:
    text = (
        POD + "    - name: app\n      image: nginx:1.27\n      ports:\n"
        "        - containerPort: 80\n          hostPort: 80  # on the node\n"
        "          # keep me\n      resources: {}\n"
    )
    fixed, level = _fix_of(text, "KL106")
    assert level == "needs-review"
    assert fixed == text.replace("          hostPort: 80  # on the node\n", "")


def test_removing_the_first_key_of_a_list_item_keeps_the_dash() -> None:
    text = POD + "    - name: app\n      image: nginx:1.27\n      ports:\n"
    text += "        - hostPort: 80\n          containerPort: 80\n"
    fixed, _ = _fix_of(text, "KL106")
    assert fixed.endswith("      ports:\n        - containerPort: 80\n")


def test_flow_block_json_and_empty_mappings_get_edits_in_their_own_style() -> None:
    flow = POD + "    - {name: app, image: nginx:1.27}\n"
    assert _fix_of(flow, "KL201")[0] == POD + (
        "    - {name: app, image: nginx:1.27, securityContext: {allowPrivilegeEscalation: false}}\n"
    )
    block = POD + "    - name: app\n      image: nginx:1.27  # pinned\n"
    assert _fix_of(block, "KL201")[0] == block + (
        "      securityContext:\n        allowPrivilegeEscalation: false\n"
    )
    empty = POD + "    - name: app\n      image: nginx:1.27\n      securityContext:\n"
    assert _fix_of(empty, "KL201")[0] == empty + "        allowPrivilegeEscalation: false\n"
    braces = POD + "    - name: app\n      image: nginx:1.27\n      securityContext: {}\n"
    assert _fix_of(braces, "KL201")[0].endswith(
        "securityContext: {allowPrivilegeEscalation: false}\n"
    )
    json_text = (
        '{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"},\n'
        ' "spec": {"containers": [{"name": "app", "image": "nginx:1.27"}]}}\n'
    )
    fixed, _ = _fix_of(json_text, "KL201")
    assert json.loads(fixed)["spec"]["containers"][0]["securityContext"] == {
        "allowPrivilegeEscalation": False
    }
    assert '"image": "nginx:1.27", "securityContext": {"allowPrivilegeEscalation": false}' in fixed


def test_values_reached_through_aliases_or_merge_keys_get_no_fix() -> None:
    aliased = (
        "x-shared: &ctx {allowPrivilegeEscalation: true}\n"
        + POD.replace("apiVersion: v1\n", "apiVersion: v1\n", 1)
        + "    - name: app\n      image: nginx:1.27\n      securityContext: *ctx\n"
    )
    (finding,) = lint_text(aliased, rules=["KL201"]).active
    assert finding.fix is None
    merged = POD + (
        "    - &base {name: app, image: nginx:1.27, securityContext: {privileged: false}}\n"
        "    - <<: *base\n      name: two\n"
    )
    fixes = [f.fix for f in lint_text(merged, rules=["KL201"]).active]
    assert fixes[-1] is None  # the second container's securityContext is the anchor's


def test_escalation_fix_never_sits_next_to_privileged_true() -> None:
    text = POD + "    - name: app\n      image: nginx:1.27\n      securityContext:\n"
    text += "        privileged: true\n"
    fixed, level = _fix_of(text, "KL201")
    assert level == "needs-review"  # dropping privileged is a decision
    assert "privileged: false\n        allowPrivilegeEscalation: false\n" in fixed
    sys_admin = text.replace("privileged: true", "capabilities: {add: [CAP_SYS_ADMIN]}")
    (finding,) = lint_text(sys_admin, rules=["KL201"]).active
    assert finding.fix is None  # the API server rejects both together; no fix to offer


def test_run_as_non_root_next_to_uid_zero_needs_review() -> None:
    text = POD + "    - name: app\n      image: nginx:1.27\n      securityContext:\n"
    text += "        runAsUser: 0\n"
    findings_ = lint_text(text, rules=["KL202"]).active
    assert findings_ and all(
        f.fix is None or f.fix.applicability.value == "needs-review" for f in findings_
    )


def test_every_rule_with_fix_metadata_has_a_fixer_and_docs_show_it() -> None:
    assert FIXABLE
    for rule_id in FIXABLE:
        rule = CATALOG[rule_id]
        assert rule.check in FIXERS or rule.check in RULE_FIXERS, rule_id
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
    escalation = by_rule["KL201"]  # privileged: true must go first: needs review
    assert escalation.is_preferred is False and "privileged: false; set" in escalation.title
    assert by_rule["KL205"].is_preferred is True
    assert "KL301" not in by_rule  # no fix: which tag to pin is not ours to say


# --- fixed objects are objects the API server accepts ---------------------------------

SCHEMA_RULES = ("KL901", "KL902", "KL903", "KL904", "KL905", "KL906")


def _rejected_by_pod_validation(obj: object) -> list[str]:
    """Pod validation's cross-field rule on every container securityContext in ``obj``.

    ``allowPrivilegeEscalation: false`` cannot go with ``privileged: true`` or an added
    ``CAP_SYS_ADMIN`` (k8s.io/kubernetes pkg/apis/core/validation ValidateSecurityContext).
    """
    found: list[str] = []

    def walk(value: object) -> None:
        if isinstance(value, dict):
            context = value.get("securityContext")
            if isinstance(context, dict) and context.get("allowPrivilegeEscalation") is False:
                added = (context.get("capabilities") or {}).get("add") or []
                if context.get("privileged") is True or "CAP_SYS_ADMIN" in added:
                    found.append(str(value.get("name")))
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(obj)
    return found


def _fixture_inputs(tmp_path: Path) -> list[Path]:
    """The fix fixtures, the examples and every fail example of a rule with a fix."""
    files = [shutil.copy(p, tmp_path / p.name) for p in sorted(FIX.glob("*.yaml"))]
    files += [
        shutil.copy(p, tmp_path / p.name) for p in sorted((FIXTURES / "examples").glob("*.yaml"))
    ]
    for rule_id in FIXABLE:
        for number, example in enumerate(e for e in CATALOG[rule_id].examples if not e.passes):
            target = tmp_path / f"{rule_id}-{number}.yaml"
            target.write_text(example.manifest)
            files.append(target)
    return [Path(f) for f in files]


def test_every_fixed_fixture_is_still_valid_for_the_api_server(tmp_path: Path) -> None:
    import yaml

    files = _fixture_inputs(tmp_path)
    before = {
        p.name: {f.fingerprint for f in lint_text(p.read_text(), rules=SCHEMA_RULES).active}
        for p in files
    }
    code, _, err = fix_cli(tmp_path, *(p.name for p in files), "--unsafe")
    assert code in (0, 1), err
    changed = 0
    for path in files:
        text = path.read_text()
        changed += text != (FIX / path.name).read_text() if (FIX / path.name).exists() else 0
        report = lint_text(text, rules=SCHEMA_RULES)
        assert not [n for n in report.notifications if n.level.value == "error"], path.name
        assert {f.fingerprint for f in report.active} <= before[path.name], path.name
        for document in yaml.safe_load_all(text):
            assert _rejected_by_pod_validation(document) == [], (path.name, text)
    assert changed == 3  # every fix fixture was rewritten


def test_fix_refuses_a_symlink_to_a_file_outside_the_repository(tmp_path: Path) -> None:
    repo, outside = tmp_path / "repo", tmp_path / "outside"
    (repo / ".git").mkdir(parents=True)
    outside.mkdir()
    secret = outside / "pod.yaml"
    secret.write_text(POD + "    - name: app\n      image: nginx:1.27\n")
    before = secret.read_text()
    (repo / "pod.yaml").symlink_to(secret)
    code, _, err = fix_cli(repo, "pod.yaml", "--unsafe")
    assert code == 2
    assert "pod.yaml: a symbolic link that leads outside the repository" in err
    assert secret.read_text() == before


# --- architecture ---------------------------------------------------------------------


def _import_graph() -> dict[str, set[str]]:
    """Module → klint modules it imports anywhere (lazy imports in functions count)."""
    import ast

    package = FIXTURES.parent / "klint"
    modules = {
        ".".join(p.relative_to(package.parent).with_suffix("").parts).removesuffix(".__init__"): p
        for p in package.rglob("*.py")
    }
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                targets = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            else:
                continue
            graph[name].update(t for t in targets if t in modules and t != name)
    return graph


def _reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for child in graph[todo.pop()] - seen:
            seen.add(child)
            todo.append(child)
    return seen


def test_reporters_format_and_the_fix_engine_is_in_no_import_cycle() -> None:
    graph = _import_graph()
    for reporter in (m for m in graph if m.startswith("klint.reporters")):
        assert not {"klint.fix", "klint.edits", "klint.run"} & _reachable(graph, reporter)
    for module in ("klint.fix", "klint.edits", "klint.fixes", "klint.run", "klint.engine"):
        assert module not in _reachable(graph, module), module

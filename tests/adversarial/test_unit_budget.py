"""One budget per lint unit, in the parent too: each class of hostile unit costs its own unit.

Every reproducer builds a small file that expands (YAML aliases, a self-referencing policy
variable, slow CEL), runs klint in a child of a fresh interpreter with a modest limit and
checks that (a) the run ends with the hostile unit reported, or linted at the cost of one
object, within a generous memory ceiling, and (b) the good unit beside it keeps its
findings in JSON and SARIF. Nothing here measures speed: a limit passed as an option
(``--unit-timeout``, ``--max-documents``) is what makes the run end.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.adversarial.probes import Measured, measured_run
from tests.conftest import needs_helm_sdk

GIB = 1024**3
BAD_POD = """\
apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  containers:
    - {name: app, image: nginx:1.27, securityContext: {privileged: true}}
"""
POLICY = """\
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: p}
spec:
  matchConstraints:
    resourceRules:
      - {apiGroups: [""], apiVersions: [v1], operations: [CREATE], resources: [configmaps]}
%s  validations:
    - expression: %s
"""
BINDING = """\
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: b}
spec: {policyName: p, validationActions: [Deny]}
"""
# ~0.07 s per evaluation (well under its 1 s limit): 9,000 iterations, each copying a
# 3,000-character string; 400 objects take ~30 s.
SLOW = "'object.data.l.split(\"\").all(x, (object.data.s + x).size() > 0) && false'"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / ".git").mkdir()
    (tmp_path / "good").mkdir()
    (tmp_path / "good" / "pod.yaml").write_text(BAD_POD, encoding="utf-8")
    (tmp_path / "bad").mkdir()
    return tmp_path


def both_formats(repo: Path, *options: str) -> tuple[Measured, dict[str, object], str]:
    """Run ``good`` and ``bad`` in JSON and SARIF; returns the JSON run, its report and
    the SARIF text."""
    args = ("check", "--no-config", *options, "good", "bad")
    as_json = measured_run(*args, "--format", "json", cwd=repo)
    as_sarif = measured_run(*args, "--format", "sarif", cwd=repo)
    assert as_json.returncode == 1, as_json.stderr
    assert as_sarif.returncode == 1, as_sarif.stderr
    assert '"ruleId": "KL101"' in as_sarif.stdout  # the good unit's privileged container
    report = json.loads(as_json.stdout)
    assert ("KL101", "good/pod.yaml") in findings(report)
    return as_json, report, as_sarif.stdout


def findings(report: dict[str, object]) -> set[tuple[str, str]]:
    items = report["findings"]
    assert isinstance(items, list)
    return {(f["rule_id"], f["path"]) for f in items}


def problems(report: dict[str, object], code: str) -> list[str]:
    items = report["notifications"]
    assert isinstance(items, list)
    return [n["message"] for n in items if n["code"] == code]


def aliased_list(item: str, count: int, anchor: str = "o") -> str:
    """A ``List`` of ``count`` copies of one object, written once and aliased."""
    head = f"---\napiVersion: v1\nkind: List\nitems:\n- &{anchor} {item}\n"
    return head + f"- *{anchor}\n" * (count - 1)


def test_list_items_built_from_aliases_count_against_max_documents(repo: Path) -> None:
    config_map = "{apiVersion: v1, kind: ConfigMap, metadata: {name: c}, data: {k: v}}"
    (repo / "bad" / "list.yaml").write_text(aliased_list(config_map, 50), encoding="utf-8")
    _, report, sarif = both_formats(repo, "--max-documents", "20")
    assert problems(report, "unit-budget") == [
        "bad: more than 20 objects in one lint unit, List items and YAML aliases counted "
        "(--max-documents); not linted"
    ]
    assert '"ruleId": "KL000"' in sarif and "--max-documents" in sarif


def test_a_policy_times_aliased_bindings_and_objects_is_evaluated_once(repo: Path) -> None:
    pytest.importorskip("cel_expr_python")
    # 12.5 KB: 1,200 aliased bindings x 1,200 aliased ConfigMaps took > 60 s and 3.9 GB.
    binding = (
        "{apiVersion: admissionregistration.k8s.io/v1, kind: ValidatingAdmissionPolicyBinding,"
        " metadata: {name: b}, spec: {policyName: p, validationActions: [Deny]}}"
    )
    config_map = "{apiVersion: v1, kind: ConfigMap, metadata: {name: c}, data: {k: v}}"
    text = POLICY % ("", "\"object.metadata.name != 'c'\"")
    text += aliased_list(binding, 1200, "b") + aliased_list(config_map, 1200, "c")
    (repo / "bad" / "policy.yaml").write_text(text, encoding="utf-8")
    assert len(text) < 14_000
    run, report, _ = both_formats(repo, "--unit-timeout", "90")
    assert ("KL960", "bad/policy.yaml") in findings(report)
    assert not problems(report, "unit-budget")
    assert run.peak_rss_bytes < GIB, run.peak_rss_bytes


def test_a_policy_variable_that_names_itself_forty_times_is_traced_once(repo: Path) -> None:
    pytest.importorskip("cel_expr_python")
    # Each trace followed every reference five levels deep: 40^5 lookups, never finished.
    (repo / "bad" / "policy.yaml").write_text(self_referencing(), encoding="utf-8")
    _, report, _ = both_formats(repo, "--unit-timeout", "60")
    assert ("KL960", "bad/policy.yaml") in findings(report)
    assert not problems(report, "unit-budget")


def test_the_language_server_answers_shutdown_after_a_self_referencing_variable(
    tmp_path: Path,
) -> None:
    pytest.importorskip("cel_expr_python")
    pytest.importorskip("pygls")
    from tests.integration.test_lsp import LspClient

    client = LspClient(tmp_path)
    try:
        client.request(
            "initialize", {"processId": None, "rootUri": tmp_path.as_uri(), "capabilities": {}}
        )
        client.notify("initialized", {})
        uri = (tmp_path / "policy.yaml").as_uri()
        document = {"uri": uri, "languageId": "yaml", "version": 1, "text": self_referencing()}
        client.notify("textDocument/didOpen", {"textDocument": document})
        codes = {d["code"] for d in client.diagnostics(uri, 1)["diagnostics"]}
        assert "KL960" in codes
        assert client.close() == 0
    finally:
        if client.process.poll() is None:
            client.process.kill()
            client.process.wait()


def self_referencing() -> str:
    """A policy whose variable names itself forty times, its binding and one ConfigMap."""
    expression = "[" + ", ".join(["variables.a"] * 40) + "].size()"
    variables = f'  variables:\n    - name: a\n      expression: "{expression}"\n'
    text = POLICY % (variables, '"variables.a == 1"') + BINDING
    return text + "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {k: v}\n"


def test_slow_cel_over_many_objects_stops_at_the_unit_deadline(repo: Path) -> None:
    pytest.importorskip("cel_expr_python")
    # 400 different objects x ~0.3 s each: 1 s per evaluation, but nothing per unit before.
    big = "{apiVersion: v1, kind: Secret, metadata: {name: x}, data: {l: &l %s, s: &s %s}}"
    items = [big % ("a" * 9000, "a" * 3000)]
    items += [
        f"{{apiVersion: v1, kind: ConfigMap, metadata: {{name: c{i}}}, data: {{l: *l, s: *s}}}}"
        for i in range(400)
    ]
    text = POLICY % ("", SLOW) + BINDING + "---\napiVersion: v1\nkind: List\nitems:\n"
    text += "".join(f"- {item}\n" for item in items)
    (repo / "bad" / "policy.yaml").write_text(text, encoding="utf-8")
    run, report, sarif = both_formats(repo, "--unit-timeout", "3")
    assert problems(report, "unit-budget") == [
        "bad: linting this unit took longer than its 3 s budget (--unit-timeout); not linted"
    ]
    assert "--unit-timeout" in sarif
    assert run.peak_rss_bytes < GIB, run.peak_rss_bytes


def test_slow_cel_over_aliased_objects_is_evaluated_once(repo: Path) -> None:
    pytest.importorskip("cel_expr_python")
    config_map = "{apiVersion: v1, kind: ConfigMap, metadata: {name: c}, data: {l: %s, s: %s}}"
    text = POLICY % ("", SLOW) + BINDING
    text += aliased_list(config_map % ("a" * 9000, "a" * 3000), 400)
    (repo / "bad" / "policy.yaml").write_text(text, encoding="utf-8")
    _, report, _ = both_formats(repo, "--unit-timeout", "10")
    assert ("KL960", "bad/policy.yaml") in findings(report)
    assert not problems(report, "unit-budget")


def test_unique_items_of_a_custom_rule_are_compared_by_hash(repo: Path) -> None:
    # 12,000 unsortable items: jsonschema compared every pair (109 KB took 82 s).
    (repo / "rules").mkdir()
    (repo / "rules" / "unique.yaml").write_text(
        "id: ORG-001\nname: unique-items\nsummary: Items are unique.\n"
        "description: Items must be unique.\nremediation: Remove repeated items.\n"
        "severity: warning\nsecurity_severity: 2.0\ncheck: json-schema\nprofiles: [org]\n"
        "params:\n  target: object\n  kinds: [Widget]\n  schema:\n    properties:\n"
        "      spec:\n        properties:\n          items: {type: array, uniqueItems: true}\n"
        "examples:\n  pass:\n    - manifest: |\n        apiVersion: example.com/v1\n"
        "        kind: Widget\n        metadata: {name: w}\n        spec: {items: [1, 2]}\n"
        "  fail:\n    - manifest: |\n        apiVersion: example.com/v1\n"
        "        kind: Widget\n        metadata: {name: w}\n        spec: # expect\n"
        "          items: [1, 1]\n",
        encoding="utf-8",
    )
    widget = (
        "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: %s}\nspec:\n  items: [%s]\n"
    )
    items = ", ".join(f"{{k{i}: v}}" for i in range(12_000))
    (repo / "bad" / "many.yaml").write_text(widget % ("many", items), encoding="utf-8")
    (repo / "bad" / "twice.yaml").write_text(
        widget % ("twice", "{a: 1, b: 2}, {b: 2, a: 1.0}"), encoding="utf-8"
    )
    options = ("--rules-dir", "rules", "--profile", "org", "--profile", "default")
    _, report, _ = both_formats(repo, "--unit-timeout", "60", *options)
    assert ("ORG-001", "bad/twice.yaml") in findings(report)
    assert ("ORG-001", "bad/many.yaml") not in findings(report)
    assert not problems(report, "unit-budget")


@pytest.mark.parametrize(
    "where",
    ["# Source: {long}/templates/pod.yaml", "# Source: chart/templates/{long}.yaml"],
)
def test_an_over_long_source_path_is_not_a_file(repo: Path, where: str) -> None:
    # ENAMETOOLONG from stat() ended the whole run with no report.
    header = where.format(long="x" * 300)
    (repo / "bad" / "rendered.yaml").write_text(f"---\n{header}\n{BAD_POD}", encoding="utf-8")
    (repo / "chart" / "templates").mkdir(parents=True)
    (repo / "chart" / "Chart.yaml").write_text("apiVersion: v2\nname: chart\nversion: 1.0.0\n")
    _, report, _ = both_formats(repo)
    assert ("KL101", "bad/rendered.yaml") in findings(report)


@needs_helm_sdk
def test_an_over_long_helm_error_location_is_not_a_file(repo: Path) -> None:
    chart = repo / "bad" / "chart"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: c\nversion: 1.0.0\n")
    message = "Error: x/" + "x" * 300 + "/y.yaml:1"
    (chart / "templates" / "a.yaml").write_text(f'{{{{ fail "{message}" }}}}\n')
    run = measured_run("check", "--no-config", "--format", "json", "good", "bad/chart", cwd=repo)
    assert run.returncode == 2, run.stderr  # a chart that fails to render is fatal, as before
    report = json.loads(run.stdout)
    assert ("KL101", "good/pod.yaml") in findings(report)
    assert problems(report, "helm-render")


def test_a_baseline_of_millions_of_trivial_entries_is_refused_in_bounded_memory(
    repo: Path,
) -> None:
    # 110 MB of {"fingerprint": "x"} entries took 1.8 GB to parse.
    count = 110 * 2**20 // 20
    with (repo / "baseline.json").open("w", encoding="utf-8") as handle:
        handle.write('{"version": 1, "tool": "klint", "findings": [')
        handle.write(",".join(['{"fingerprint":"x"}'] * count))
        handle.write("]}\n")
    run = measured_run("check", "--no-config", "--baseline", "baseline.json", "good", cwd=repo)
    assert run.returncode == 2
    assert "baseline.json: not a klint baseline (more than 500,000 entries)" in run.stderr
    assert run.peak_rss_bytes < GIB // 2, run.peak_rss_bytes


def test_a_unit_that_grows_the_process_past_its_memory_budget_is_stopped() -> None:
    from klint.unit_budget import UnitBudget, UnitBudgetExceeded, resident_bytes

    if not resident_bytes():
        pytest.skip("no /proc/self/statm")
    budget = UnitBudget(None, 16 * 2**20)
    held = [bytearray(1024) for _ in range(64 * 1024)]  # 64 MiB written, so resident
    with pytest.raises(UnitBudgetExceeded, match=r"16 MiB memory budget \(--unit-memory\)"):
        for _ in range(256):
            budget.check()
    assert len(held) == 64 * 1024
    unlimited = UnitBudget(None, 0)
    for _ in range(512):
        unlimited.check()

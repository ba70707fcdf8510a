"""CRD validation rules (x-kubernetes-validations) on custom resources."""

from __future__ import annotations

from pathlib import Path

import pytest

from klint.checks.crd_validation import field_path, with_defaults
from tests.conftest import CORPUS, FIXTURES, lint_text, run_cli
from tests.test_admission_policy import expected

pytest.importorskip("cel_expr_python")

CRDS = FIXTURES / "crd-validation"
RULES = ["KL961", "KL962"]


@pytest.mark.parametrize("path", sorted(CRDS.glob("*.yaml")), ids=lambda p: p.name)
def test_fixture_findings_are_line_exact(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    report = lint_text(text, rules=RULES, path=str(path))
    assert not report.notifications, report.notifications
    found = sorted((f.location.span.start_line, f.rule_id) for f in report.active)
    assert found == expected(text)


def test_messages_follow_the_api_server() -> None:
    text = (CRDS / "kubectl-validate-cel-basic.yaml").read_text(encoding="utf-8")
    messages = sorted(f.message for f in lint_text(text, rules=RULES).active)
    assert messages == [
        'CELBasic "my-basic": the object: Invalid value: Other must be a multiple of value '
        "(CRD validation rule).",
        'CELBasic "not-positive": value: Invalid value: Must be positive non-zero '
        "(CRD validation rule).",
    ]
    text = (CRDS / "gateway-api-transition-rule.yaml").read_text(encoding="utf-8")
    (finding,) = lint_text(text, rules=RULES).active
    assert finding.message == (
        'GatewayClass "example": spec.description: Forbidden: description must not contain '
        "TODO: TODO describe (CRD validation rule)."
    )


def test_broken_rule_is_reported_on_the_crd_only() -> None:
    text = (CRDS / "broken-rule.yaml").read_text(encoding="utf-8")
    (finding,) = lint_text(text, rules=RULES).active
    assert finding.object_ref.kind == "CustomResourceDefinition"
    assert "does not compile" in finding.message
    assert "the API server rejects this CustomResourceDefinition" in finding.message


def test_crd_given_with_flag(tmp_path: Path) -> None:
    text = (CRDS / "kubectl-validate-cel-basic.yaml").read_text(encoding="utf-8")
    crd, rest = text.split("\n---\n", 1)
    (tmp_path / "crd.yaml").write_text(crd)
    (tmp_path / "cr.yaml").write_text(rest)
    result = run_cli("check", "cr.yaml", "--crd", "crd.yaml", "--select", "KL962", cwd=tmp_path)
    lines = [line for line in result.stdout.splitlines() if "KL962" in line]
    assert [line.split(": ")[0] for line in lines] == ["cr.yaml:1:1", "cr.yaml:19:8"], result.stdout


def test_field_path_forms() -> None:
    assert field_path(".spec.x['a.b'][0].y") == ("spec", "x", "a.b", 0, "y")
    assert field_path("") == ()


def test_defaults_are_filled_before_validation() -> None:
    schema = {
        "type": "object",
        "properties": {
            "spec": {
                "type": "object",
                "properties": {"min": {"type": "integer", "default": 1}},
            }
        },
    }
    original = {"spec": {}}
    assert with_defaults(schema, original) == {"spec": {"min": 1}}
    assert original == {"spec": {}}


def _rules(value: object, found: list[str]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "x-kubernetes-validations" and isinstance(item, list):
                for rule in item:
                    for field in ("rule", "messageExpression"):
                        if isinstance(rule, dict) and isinstance(rule.get(field), str):
                            found.append(rule[field])
            else:
                _rules(item, found)
    elif isinstance(value, list):
        for item in value:
            _rules(item, found)


@pytest.mark.skipif(not CORPUS.is_dir(), reason="needs the shared corpus (KLINT_CORPUS)")
def test_every_crd_rule_of_the_corpus_compiles() -> None:
    import yaml

    from klint.cel.environment import CelCompileError, compile_expression

    found: list[str] = []
    for path in sorted(CORPUS.rglob("*.yaml")):
        text = path.read_text(encoding="utf-8", errors="replace")
        if "x-kubernetes-validations" in text:
            try:
                for document in yaml.load_all(text, Loader=yaml.CSafeLoader):
                    _rules(document, found)
            except yaml.YAMLError:
                continue
    failed = []
    for expression in found:
        try:
            compile_expression(expression)
        except CelCompileError as error:
            failed.append((expression, str(error)))
    assert len(found) > 100
    assert failed == []


def test_malformed_crd_rules_never_crash() -> None:
    text = (CRDS / "kubectl-validate-cel-basic.yaml").read_text(encoding="utf-8")
    text = text.replace(
        '        - message: "Other must be a multiple of value"\n',
        "        - 7\n        - {rule: 5}\n        - {rule: 'self.value > 100', fieldPath: '[[x',"
        " messageExpression: '1 +'}\n"
        '        - message: "Other must be a multiple of value"\n',
    )
    report = lint_text(text, rules=RULES)
    assert not [n for n in report.notifications if n.code == "internal-check-error"]
    messages = [f.message for f in report.active]
    assert any("messageExpression `1 +` does not compile" in m for m in messages), messages


SCHEMA = {
    "type": "object",
    "properties": {
        "replicas": {"type": "integer"},
        "image": {"type": "string"},
        "my-field": {"type": "integer"},
        "ports": {"type": "array", "items": {"type": "object", "properties": {}}},
        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
        "extra": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
    },
}


@pytest.mark.parametrize(
    ("rule", "problem"),
    [
        ("self.replicas == true", "'_==_' applied to '(int, bool)'"),
        ("self.nonExistingField > 0", "undefined field 'nonExistingField'"),
        ("has(self.nope)", "undefined field 'nope'"),
        ("self.replicas.size() > 0", "'size' applied to '(int)'"),
        ("self.replicas > 1.5", ""),  # Kubernetes compares int and double
        ("self.replicas == null", ""),
        ("self.my__dash__field >= 0", ""),
        ("self.image == 'self.nope'", ""),  # inside a string literal
        ("self.labels.anything == 'x'", ""),
        ("self.extra.anything.at.all == 1", ""),
        ("self.ports.all(p, p.whatever > 0)", ""),
        ("has(self.image) && self.image.startsWith('r/')", ""),
        ("oldSelf.replicas <= self.replicas", ""),
    ],
)
def test_rules_are_type_checked_against_the_schema(rule: str, problem: str) -> None:
    from klint.checks.crd_validation_types import type_problem

    found = type_problem(rule, SCHEMA, root=False, optional_old_self=False)
    assert (problem in found) if problem else found == "", found


def test_the_root_may_read_metadata_it_does_not_declare() -> None:
    from klint.checks.crd_validation_types import type_problem

    rule = "self.metadata.name.size() < 64 && self.kind == 'X'"
    assert type_problem(rule, SCHEMA, root=True, optional_old_self=False) == ""


@pytest.mark.skipif(not CORPUS.is_dir(), reason="needs the shared corpus (KLINT_CORPUS)")
def test_every_crd_rule_of_the_corpus_type_checks() -> None:
    """The corpus's CRDs are served by real clusters: the type check must accept them all."""
    import yaml

    from klint.checks.crd_validation import _crd_rules, _type_problem

    checked, failed = 0, []
    for path in sorted(CORPUS.rglob("*.yaml")):
        text = path.read_text(encoding="utf-8", errors="replace")
        if "x-kubernetes-validations" not in text:
            continue
        try:
            documents = list(yaml.load_all(text, Loader=yaml.CSafeLoader))
        except yaml.YAMLError:
            continue
        for document in documents:
            if not isinstance(document, dict) or document.get("kind") != "CustomResourceDefinition":
                continue
            for where, rule in _crd_rules(document, ()):
                if isinstance(rule.get("rule"), str):
                    checked += 1
                    problem = _type_problem(document, where, rule, rule["rule"])
                    if problem:
                        failed.append((path.name, rule["rule"], problem))
    assert checked > 100
    assert failed == []

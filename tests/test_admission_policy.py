"""ValidatingAdmissionPolicies: the Kubernetes docs' examples behave as the docs say."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from klint.findings import Severity
from tests.conftest import FIXTURES, REPO, lint_text, needs_helm_sdk, run_cli

pytest.importorskip("cel_expr_python")

POLICIES = FIXTURES / "admission-policy"
_EXPECT = re.compile(r"#\s*expect:\s*([A-Z0-9, ]+?)\s*$")
RULES = ["KL960", "KL961"]


def expected(text: str) -> list[tuple[int, str]]:
    return sorted(
        (number, rule.strip())
        for number, line in enumerate(text.splitlines(), start=1)
        if (match := _EXPECT.search(line))
        for rule in match.group(1).split(",")
    )


@pytest.mark.parametrize(
    "path", sorted(POLICIES.rglob("*.yaml")), ids=lambda p: f"{p.parent.name}/{p.name}"
)
def test_fixture_findings_are_line_exact(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    report = lint_text(text, rules=RULES, path=str(path))
    assert not report.notifications, report.notifications
    found = sorted((f.location.span.start_line, f.rule_id) for f in report.active)
    assert found == expected(text)


def _findings(name: str) -> list[tuple[str, Severity]]:
    text = (POLICIES / "k8s-docs" / name).read_text(encoding="utf-8")
    report = lint_text(text, rules=RULES)
    return [(f.message, f.severity) for f in report.active]


def test_demo_policy_message_names_policy_binding_and_expression() -> None:
    assert _findings("demo-policy.yaml") == [
        (
            'ValidatingAdmissionPolicy "demo-policy.example.com" with binding '
            '"demo-binding-test.example.com" denies Deployment "too-many": failed '
            "expression: object.spec.replicas <= 5.",
            Severity.ERROR,
        )
    ]


def test_params_message_expression_uses_each_bindings_params() -> None:
    messages = [message for message, _ in _findings("params.yaml")]
    assert [m.split(": ", 1)[1] for m in messages] == [
        "object.spec.replicas must be no greater than 3.",
        "object.spec.replicas must be no greater than 100.",
    ]
    assert "replicalimit-binding-test.example.com" in messages[0]
    assert "replicalimit-binding-nontest" in messages[1]


def test_warn_and_audit_actions_give_a_warning() -> None:
    assert _findings("variables.yaml") == [
        (
            'ValidatingAdmissionPolicy "image-matches-namespace-environment.policy.example.com"'
            ' with binding "image-matches-namespace-environment.binding.example.com" warns '
            'about Deployment "wrong-registry": only staging images are allowed in namespace '
            "staging.",
            Severity.WARNING,
        )
    ]


def test_audit_only_binding_is_a_note() -> None:
    text = (POLICIES / "k8s-docs" / "demo-policy.yaml").read_text(encoding="utf-8")
    report = lint_text(text.replace("validationActions: [Deny]", "validationActions: [Audit]"))
    levels = [f.severity for f in report.active if f.rule_id == "KL960"]
    assert levels == [Severity.NOTE]


def test_policy_without_binding_in_the_input_is_inert() -> None:
    text = (POLICIES / "public" / "disallow-privileged-pods.yaml").read_text(encoding="utf-8")
    without_binding = "\n---\n".join(
        part for part in text.split("\n---\n") if "ValidatingAdmissionPolicyBinding" not in part
    )
    assert not lint_text(without_binding, rules=RULES).active


def test_object_selector_and_exclude_rules() -> None:
    text = """\
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: labelled}
spec:
  matchConstraints:
    resourceRules:
      - {apiGroups: ["*"], apiVersions: ["*"], operations: ["*"], resources: ["*"]}
    excludeResourceRules:
      - {apiGroups: [""], apiVersions: [v1], operations: [CREATE], resources: [secrets]}
  validations:
    - expression: "has(object.metadata.labels) && 'team' in object.metadata.labels"
      message: a team label is required
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: labelled}
spec:
  policyName: labelled
  validationActions: [Deny]
  matchResources:
    objectSelector:
      matchExpressions: [{key: checked, operator: Exists}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: a, labels: {checked: "yes"}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: b}
---
apiVersion: v1
kind: Secret
metadata: {name: c, labels: {checked: "yes"}}
"""
    report = lint_text(text, rules=RULES)
    assert [(f.object_ref.name, f.message.split(": ", 1)[1]) for f in report.active] == [
        ("a", "a team label is required.")
    ]


def test_runtime_error_fails_closed_unless_failure_policy_ignore() -> None:
    text = (POLICIES / "k8s-docs" / "demo-policy.yaml").read_text(encoding="utf-8")
    text = text.replace("object.spec.replicas <= 5", "object.spec.missing <= 5")
    messages = [f.message for f in lint_text(text, rules=RULES).active]
    assert len(messages) == 2 and all("failed:" in m for m in messages)
    ignored = text.replace("failurePolicy: Fail", "failurePolicy: Ignore")
    assert not lint_text(ignored, rules=RULES).active


def test_policy_flag_applies_to_every_unit(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        "apiVersion: admissionregistration.k8s.io/v1\n"
        "kind: ValidatingAdmissionPolicy\n"
        "metadata: {name: no-latest}\n"
        "spec:\n"
        "  matchConstraints:\n"
        "    resourceRules:\n"
        '      - {apiGroups: [""], apiVersions: [v1], operations: [CREATE], resources: [pods]}\n'
        "  validations:\n"
        "    - expression: \"object.spec.containers.all(c, !c.image.endsWith(':latest'))\"\n"
        "      message: images must not use the latest tag\n"
    )
    pod = (
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n"
        "    - {name: a, image: 'nginx:latest'}\n"
    )
    for name in ("one.yaml", "two.yaml"):
        (tmp_path / name).write_text(pod)
    result = run_cli(
        "check",
        "one.yaml",
        "two.yaml",
        "--policy",
        "policy.yaml",
        "--select",
        "KL960",
        cwd=tmp_path,
    )
    lines = [line for line in result.stdout.splitlines() if "KL960" in line]
    assert len(lines) == 2, result.stdout + result.stderr
    assert lines[0].startswith('one.yaml:5:3: error: ValidatingAdmissionPolicy "no-latest"')
    missing = run_cli("check", "one.yaml", "--policy", "nope.yaml", cwd=tmp_path)
    assert missing.returncode == 2 and "--policy" in missing.stderr


def test_policies_see_the_api_servers_defaults() -> None:
    text = (POLICIES / "k8s-docs" / "demo-policy.yaml").read_text(encoding="utf-8")
    text = text.replace(
        'validations:\n    - expression: "object.spec.replicas <= 5"',
        "validations:\n"
        '    - expression: "object.spec.replicas <= 5"\n'
        '    - expression: "has(object.spec.template.spec.securityContext) && object.spec'
        ".template.spec.containers.all(c, c.imagePullPolicy == 'IfNotPresent')\"",
    )
    text = text.replace("  replicas: 5\n", "")  # few-enough: replicas defaults to 1
    report = lint_text(text, rules=RULES)
    assert [(f.object_ref.name, f.rule_id) for f in report.active] == [("too-many", "KL960")]


@needs_helm_sdk
def test_rejection_points_at_the_helm_template_line_and_the_value() -> None:
    # from fixtures/: a path under fixtures/ would make every finding a note (test input)
    result = run_cli(
        "check",
        "helm/web",
        "--no-config",
        "--set",
        "replicaCount=3",
        "--policy",
        "admission-policy-flag/max-replicas.yaml",
        "--select",
        "KL960",
        "--format",
        "text",
        cwd=REPO / "fixtures",
    )
    (line,) = [line for line in result.stdout.splitlines() if "KL960" in line]
    assert line.startswith("helm/web/templates/deployment.yaml:8:3: error: ")
    assert "at most 1 replica, not 3." in line
    assert line.endswith("(set in helm/web/values.yaml:1)")


@pytest.mark.parametrize(
    "spec",
    [
        "spec: null",
        "spec: {matchConstraints: [], validations: {}}",
        "spec: {matchConstraints: {resourceRules: [x, {apiGroups: x}]}, validations: [1, {}]}",
        "spec:\n  matchConstraints: {resourceRules: [{apiGroups: ['*'], apiVersions: ['*'],"
        " operations: ['*'], resources: ['*']}], namespaceSelector: [], objectSelector: 3}\n"
        "  variables: [{name: 1, expression: [1]}]\n"
        "  matchConditions: [{expression: null}]\n"
        "  validations: [{expression: 'object.x', messageExpression: 7}]\n"
        "  paramKind: {apiVersion: 1}",
    ],
)
def test_malformed_policies_never_crash(spec: str) -> None:
    text = (
        "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicy\n"
        f"metadata: {{name: bad}}\n{spec}\n---\n"
        "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicyBinding\n"
        "metadata: {name: bad}\nspec: {policyName: bad, validationActions: 5, paramRef: x}\n"
        "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, labels: [1]}\n"
    )
    report = lint_text(text, rules=RULES)
    assert not [n for n in report.notifications if n.code == "internal-check-error"]

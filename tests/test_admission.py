"""Admission webhook configuration checks: API-version defaults, selector semantics, robustness."""

from __future__ import annotations

from tests.conftest import hits, lint_text

WEBHOOK_RULES = ["KL850", "KL851", "KL852", "KL853"]


def _config(api_version: str, webhook: str, kind: str = "ValidatingWebhookConfiguration") -> str:
    return f"""\
apiVersion: admissionregistration.k8s.io/{api_version}
kind: {kind}
metadata: {{name: checks}}
webhooks:
{webhook}"""


POD_WEBHOOK = """\
  - name: pods.example.com
    sideEffects: None
    clientConfig: {service: {name: s, namespace: n}}
    rules:
      - {apiGroups: [""], apiVersions: [v1], operations: [CREATE], resources: [pods]}
"""


def test_defaults_depend_on_the_api_version() -> None:
    # v1: unset failurePolicy is Fail, so the lock-down rule fires, not the fail-open one.
    assert hits(lint_text(_config("v1", POD_WEBHOOK), rules=WEBHOOK_RULES)) == [(5, 5, "KL851")]
    # v1beta1: unset failurePolicy is Ignore, so it fails open and cannot lock down.
    assert hits(lint_text(_config("v1beta1", POD_WEBHOOK), rules=WEBHOOK_RULES)) == [
        (5, 5, "KL850")
    ]


def test_v1beta1_unset_side_effects_is_unknown() -> None:
    webhook = "  - name: w.example.com\n    clientConfig: {url: https://x.example.com}\n"
    report = lint_text(_config("v1beta1", webhook), rules=["KL852"])
    assert hits(report) == [(5, 5, "KL852")]
    assert "v1beta1 defaults to Unknown" in report.active[0].message


def test_kube_system_exclusions() -> None:
    excluded = [
        "namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: apps}}",
        "namespaceSelector: {matchExpressions: [{key: kubernetes.io/metadata.name, "
        "operator: NotIn, values: [kube-system]}]}",
        "namespaceSelector: {matchExpressions: [{key: team, operator: Exists}]}",
        "objectSelector: {matchLabels: {validate: 'true'}}",
    ]
    for selector in excluded:
        webhook = POD_WEBHOOK + f"    {selector}\n"
        assert hits(lint_text(_config("v1", webhook), rules=["KL851"])) == [], selector
    covering = POD_WEBHOOK + (
        "    namespaceSelector: {matchExpressions: [{key: kubernetes.io/metadata.name, "
        "operator: NotIn, values: [apps]}]}\n"
        "    objectSelector: {matchExpressions: [{key: skip, operator: DoesNotExist}]}\n"
    )
    assert hits(lint_text(_config("v1", covering), rules=["KL851"])) == [(10, 5, "KL851")]


def test_mutating_webhooks_fail_open_only_when_named_as_security() -> None:
    plain = _config(
        "v1",
        POD_WEBHOOK.replace("None\n", "None\n    failurePolicy: Ignore\n"),
        kind="MutatingWebhookConfiguration",
    )
    assert hits(lint_text(plain, rules=["KL850"])) == []
    named = plain.replace("pods.example.com", "pods.kyverno.svc")
    assert hits(lint_text(named, rules=["KL850"])) == [(7, 20, "KL850")]


def test_malformed_configurations_do_not_crash() -> None:
    text = """\
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {name: broken}
webhooks:
  - null
  - {name: a, failurePolicy: Ignore, rules: "x", clientConfig: "y", sideEffects: None}
  - {name: b, rules: [null, {apiGroups: "", resources: [pods]}], sideEffects: None,
     namespaceSelector: "z", clientConfig: {url: 5}}
---
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata: {name: empty}
webhooks: "none"
"""
    report = lint_text(text, rules=WEBHOOK_RULES)
    assert report.notifications == []
    assert hits(report) == []

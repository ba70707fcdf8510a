"""KL536 on controllers (issue 23 §3): a workload token whose every dangerous grant is its
controller's job (the reasons of :mod:`klint.checks.rbac_owner` on the bound role) is a
note that says why; anything else keeps its level. Fixture:
``fixtures/signal/controller-tokens.yaml`` (each case names its upstream)."""

from __future__ import annotations

import pytest

from klint.findings import Finding, Severity
from tests.conftest import FIXTURES, lint_text


def _kl536(workload: str) -> Finding:
    text = (FIXTURES / "signal" / "controller-tokens.yaml").read_text(encoding="utf-8")
    report = lint_text(text, path="deploy/install.yaml")
    (finding,) = [
        f for f in report.active if f.rule_id == "KL536" and f.object_ref.name == workload
    ]
    return finding


@pytest.mark.parametrize(
    ("workload", "why"),
    [
        ("sealed-secrets", "a component whose job is secrets or certificates"),
        ("kueue-controller-manager", "(kueue.x-k8s.io), which runs the workloads they describe"),
    ],
)
def test_a_controller_token_whose_grants_are_its_job_is_a_note_that_says_why(
    workload: str, why: str
) -> None:
    finding = _kl536(workload)
    assert finding.severity is Severity.NOTE
    assert why in finding.message and "kept as a note" in finding.message
    assert ("expected-for", "controller-token") in finding.properties


@pytest.mark.parametrize(
    "workload",
    [
        "cnpg-controller-manager",  # exec/attach into pods is no component's routine job
        "dashboard",  # reads Secrets and owns no API group
        "vault-agent",  # a wildcard resource: never a note
    ],
)
def test_any_other_dangerous_token_stays_a_warning(workload: str) -> None:
    finding = _kl536(workload)
    assert finding.severity is Severity.WARNING
    assert "expected for" not in finding.message
    assert finding.properties == ()


_KL530 = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: webhook, namespace: knative-serving}
spec:
  selector: {matchLabels: {app: webhook}}
  template:
    metadata: {labels: {app: webhook}}
    spec:
      serviceAccountName: %s
      containers: [{name: webhook, image: "gcr.io/knative-releases/webhook:1.16.0"}]
"""
_ACCOUNT = """---
apiVersion: v1
kind: ServiceAccount
metadata: {name: controller, namespace: knative-serving}
"""


def _kl530(text: str) -> Finding:
    report = lint_text(text, path="config/core/deployments/webhook.yaml")
    (finding,) = [f for f in report.active if f.rule_id == "KL530"]
    return finding


def test_a_pod_naming_an_account_defined_elsewhere_gets_a_note() -> None:
    # Upstream: knative/serving config/core/deployments/webhook.yaml: the "controller"
    # account and its ClusterRoleBindings are in config/core/200-roles, another unit.
    finding = _kl530(_KL530 % "controller")
    assert finding.severity is Severity.NOTE
    assert "defined outside this input" in finding.message
    assert ("expected-for", "account-defined-elsewhere") in finding.properties


@pytest.mark.parametrize(
    "text",
    [
        _KL530 % "controller" + _ACCOUNT,  # the account is here, and nothing binds it
        _KL530 % "default",  # the namespace's default account, bound nowhere in the input
        (_KL530 % "x").replace("      serviceAccountName: x\n", ""),  # default, unnamed
    ],
)
def test_an_account_no_binding_of_the_input_names_is_a_note(text: str) -> None:
    # Upstream (issue 23 sample 5, items 19/36): kubernetes/examples guestbook redis
    # replica (default) and the nats surveyor chart's own account: no Role, no binding.
    finding = _kl530(text)
    assert finding.severity is Severity.NOTE
    assert "no role in this input is bound to it" in finding.message
    assert ("expected-for", "account-without-binding") in finding.properties


_BOUND_DEFAULT = """---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: hnc-manager-rolebinding}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: hnc-manager-role}
subjects: [{kind: ServiceAccount, name: default, namespace: knative-serving}]
"""


def test_a_pod_naming_its_bound_account_default_included_is_not_reported() -> None:
    for name in ("default", "controller"):
        text = _KL530 % name + _BOUND_DEFAULT.replace("name: default,", f"name: {name},")
        report = lint_text(text, path="config/core/deployments/webhook.yaml")
        assert [f for f in report.active if f.rule_id == "KL530"] == []


def test_a_pod_that_silently_inherits_a_bound_default_account_says_which_role() -> None:
    # Upstream: kubernetes-sigs/hierarchical-namespaces charts/hnc: the controller names no
    # account and the chart binds hnc-system's default account to hnc-manager-role.
    text = (_KL530 % "x").replace("      serviceAccountName: x\n", "") + _BOUND_DEFAULT
    finding = _kl530(text)
    assert finding.severity is Severity.WARNING
    assert 'ClusterRole "hnc-manager-role"' in finding.message
    assert 'ClusterRoleBinding "hnc-manager-rolebinding"' in finding.message
    assert "names no service account" in finding.message
    assert finding.properties == ()
    # the same pod with automount off on the pod says nothing
    off = text.replace(
        "      containers:", "      automountServiceAccountToken: false\n      containers:"
    )
    report = lint_text(off, path="config/core/deployments/webhook.yaml")
    assert [f for f in report.active if f.rule_id == "KL530"] == []

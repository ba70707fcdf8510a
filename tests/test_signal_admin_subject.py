"""Roles whose subjects already hold everything (issue 23 §3, sample 5 item 29): findings
on a narrower role bound only to subjects that a ClusterRoleBinding reported by KL515
already gives every permission are notes pointing at that binding; a role with another
subject, or no binding in the input, keeps its findings."""

from __future__ import annotations

from klint.findings import Finding, Severity
from tests.conftest import lint_text

# Upstream: kubernetes-sigs/hierarchical-namespaces config/rbac (role.yaml,
# role_binding.yaml, resourcelist_role.yaml, resourcelist_rolebinding.yaml).
_ADMIN = """\
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: hnc-manager-role}
rules:
  - {apiGroups: ["*"], resources: ["*"], verbs: ["*"]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: hnc-manager-rolebinding}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: hnc-manager-role}
subjects: [{kind: ServiceAccount, name: default, namespace: hnc-system}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: hnc-resourcelist}
rules:
  - {apiGroups: ["*"], resources: ["*"], verbs: [get, list, watch]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: hnc-resourcelist}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: hnc-resourcelist}
subjects: [{kind: ServiceAccount, name: default, namespace: hnc-system}]
"""


def _on(text: str, name: str) -> list[Finding]:
    report = lint_text(text, path="config/rbac/all.yaml", profiles=("default",))
    return [f for f in report.active if f.object_ref.name == name and f.rule_id < "KL515"]


def test_a_role_whose_subjects_hold_everything_points_at_the_admin_binding() -> None:
    found = _on(_ADMIN, "hnc-resourcelist")
    assert {f.rule_id for f in found} >= {"KL501", "KL502"}
    for finding in found:
        assert finding.severity is Severity.NOTE
        assert 'through ClusterRoleBinding "hnc-manager-rolebinding"' in finding.message
        assert ("expected-for", "subject-holds-everything") in finding.properties
    # the binding that grants everything and the role it names keep their levels
    report = lint_text(_ADMIN, path="config/rbac/all.yaml", profiles=("default",))
    admin = [f for f in report.active if f.rule_id == "KL515"]
    assert [f.severity for f in admin] == [Severity.ERROR]
    wildcard = [f for f in _on(_ADMIN, "hnc-manager-role") if f.rule_id == "KL501"]
    assert wildcard and {f.severity for f in wildcard} == {Severity.WARNING}


def test_another_subject_or_no_binding_keeps_the_findings() -> None:
    head, last = _ADMIN.rsplit("---", 1)
    group = last.replace(
        "namespace: hnc-system}]", "namespace: hnc-system}, {kind: Group, name: qa}]"
    )
    assert group != last
    texts = [
        head + "---" + group,  # the resourcelist binding also names a group
        head,  # the resourcelist role is bound nowhere
    ]
    for text in texts:
        found = _on(text, "hnc-resourcelist")
        assert found
        assert Severity.WARNING in {f.severity for f in found}
        assert not any("already holds every permission" in f.message for f in found)


_POD = """---
apiVersion: apps/v1
kind: Deployment
metadata: {name: hnc-controller-manager, namespace: hnc-system}
spec:
  selector: {matchLabels: {app: hnc}}
  template:
    metadata: {labels: {app: hnc}}
    spec:
      containers: [{name: manager, image: "gcr.io/k8s-staging-multitenancy/hnc-manager:v1.1.0"}]
"""


def _kl536(text: str) -> dict[str, Finding]:
    report = lint_text(text, path="config/rbac/all.yaml", rules=["KL536"])
    return {f.message.split('and ClusterRoleBinding "')[1].split('"')[0]: f for f in report.active}


def test_a_token_grant_beside_an_account_that_holds_everything_is_a_note() -> None:
    found = _kl536(_ADMIN + _POD)
    assert found["hnc-manager-rolebinding"].severity is Severity.WARNING
    narrower = found["hnc-resourcelist"]
    assert narrower.severity is Severity.NOTE
    assert 'through ClusterRoleBinding "hnc-manager-rolebinding"' in narrower.message
    assert ("expected-for", "subject-holds-everything") in narrower.properties
    # without the binding that grants everything, the narrower grant keeps its level
    head = _ADMIN.split("---\n", 2)[2]
    (only,) = _kl536("---\n" + head + _POD).values()
    assert only.severity is Severity.WARNING

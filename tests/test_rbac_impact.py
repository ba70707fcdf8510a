"""KL519/KL530 severity by what the roles bound to a default service account grant
(issue 23 §3, sample 9 LOW-IMPACT class: kubebuilder scaffolds of intel-device-plugins)."""

from __future__ import annotations

import pytest

from klint.checks.rbac_impact import describe, low_impact
from klint.documents import parse_stream
from klint.findings import Finding, Severity
from klint.model.resource import Resource, resources_from_document
from tests.conftest import lint_text

NS = "fpga-system"


def _role(kind: str, name: str, rules: str, namespace: str = NS) -> str:
    meta = f"{{name: {name}, namespace: {namespace}}}" if kind == "Role" else f"{{name: {name}}}"
    return f"""---
apiVersion: rbac.authorization.k8s.io/v1
kind: {kind}
metadata: {meta}
rules:
{rules}"""


def _binding(kind: str, role_kind: str, role: str) -> str:
    meta = (
        f"{{name: b-{role}, namespace: {NS}}}" if kind == "RoleBinding" else f"{{name: b-{role}}}"
    )
    return f"""---
apiVersion: rbac.authorization.k8s.io/v1
kind: {kind}
metadata: {meta}
roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: {role_kind}, name: {role}}}
subjects: [{{kind: ServiceAccount, name: default, namespace: {NS}}}]
"""


_POD = f"""---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: webhook, namespace: {NS}}}
spec:
  selector: {{matchLabels: {{app: webhook}}}}
  template:
    metadata: {{labels: {{app: webhook}}}}
    spec:
      containers: [{{name: manager, image: "intel/fpga-webhook:0.32.0"}}]
"""

CRD_READ = (
    "- apiGroups: [fpga.intel.com]\n"
    "  resources: [acceleratorfunctions, fpgaregions]\n"
    "  verbs: [get, list, watch]\n"
)
METRICS_AUTH = (
    "- apiGroups: [authentication.k8s.io]\n"
    "  resources: [tokenreviews]\n"
    "  verbs: [create]\n"
    "- apiGroups: [authorization.k8s.io]\n"
    "  resources: [subjectaccessreviews]\n"
    "  verbs: [create]\n"
)
LEADER_ELECTION = (
    '- apiGroups: [""]\n'
    "  resources: [configmaps]\n"
    "  verbs: [get, list, watch, create, update, patch, delete]\n"
    "- apiGroups: [coordination.k8s.io]\n"
    "  resources: [leases]\n"
    "  verbs: [get, list, watch, create, update, patch, delete]\n"
    '- apiGroups: [""]\n'
    "  resources: [events]\n"
    "  verbs: [create, patch]\n"
)
SECRETS_GET = '- apiGroups: [""]\n  resources: [secrets]\n  verbs: [get]\n'


def _one(text: str, rule: str) -> Finding:
    (finding,) = [f for f in lint_text(text, rules=[rule]).active if f.rule_id == rule]
    return finding


@pytest.mark.parametrize(
    ("objects", "grants"),
    [
        # sample 9 item 17: the scaffold's manager-role, read-only on the project's CRDs
        (
            _role("ClusterRole", "manager-role", CRD_READ)
            + _binding("ClusterRoleBinding", "ClusterRole", "manager-role"),
            "read access to acceleratorfunctions, fpgaregions",
        ),
        # item 45: the metrics-auth pair
        (
            _role("ClusterRole", "metrics-auth-role", METRICS_AUTH)
            + _binding("ClusterRoleBinding", "ClusterRole", "metrics-auth-role"),
            "create on subjectaccessreviews, tokenreviews (access reviews)",
        ),
        # leader election through a RoleBinding: writes limited to leases, configmaps and
        # events of the one namespace whose pods already share the account
        (
            _role("Role", "leader-election-role", LEADER_ELECTION)
            + _binding("RoleBinding", "Role", "leader-election-role"),
            "leader-election access to configmaps, events, leases in its own namespace",
        ),
        # read of ConfigMaps in one namespace (a ClusterRole bound by a RoleBinding)
        (
            _role(
                "ClusterRole",
                "cm-reader",
                '- apiGroups: [""]\n  resources: [configmaps]\n  verbs: [get]\n',
            )
            + _binding("RoleBinding", "ClusterRole", "cm-reader"),
            "read access to configmaps",
        ),
        # item 21's node-getter
        (
            _role(
                "ClusterRole",
                "node-getter",
                '- apiGroups: [""]\n  resources: [nodes]\n  verbs: [get]\n',
            )
            + _binding("ClusterRoleBinding", "ClusterRole", "node-getter"),
            "read access to nodes",
        ),
    ],
)
def test_a_low_impact_grant_is_a_note_that_says_what_it_grants(objects: str, grants: str) -> None:
    finding = _one(objects, "KL519")
    assert finding.severity is Severity.NOTE
    assert f"the role grants only {grants}, nothing a pod of this namespace" in finding.message
    assert ("expected-for", "low-impact-grant") in finding.properties
    # the pod that silently runs as that account: a note as well (KL530)
    pod = _one(_POD + objects, "KL530")
    assert pod.severity is Severity.NOTE
    assert f"which grant only {grants}" in pod.message
    assert ("expected-for", "low-impact-grant") in pod.properties


@pytest.mark.parametrize(
    "objects",
    [
        # secrets get
        _role("ClusterRole", "reader", CRD_READ + SECRETS_GET)
        + _binding("ClusterRoleBinding", "ClusterRole", "reader"),
        # secrets get in the namespace only: still credentials
        _role("Role", "reader", SECRETS_GET) + _binding("RoleBinding", "Role", "reader"),
        # built in, never read from the input
        _binding("ClusterRoleBinding", "ClusterRole", "cluster-admin"),
        _binding("ClusterRoleBinding", "ClusterRole", "view"),
        # not in the input
        _binding("ClusterRoleBinding", "ClusterRole", "manager-role"),
        # the leader-election rights cluster-wide (a ClusterRoleBinding)
        _role("ClusterRole", "leader-election-role", LEADER_ELECTION)
        + _binding("ClusterRoleBinding", "ClusterRole", "leader-election-role"),
        # ConfigMaps read cluster-wide
        _role(
            "ClusterRole", "cm", '- apiGroups: [""]\n  resources: [configmaps]\n  verbs: [list]\n'
        )
        + _binding("ClusterRoleBinding", "ClusterRole", "cm"),
        # pod logs read cluster-wide
        _role("ClusterRole", "l", '- apiGroups: [""]\n  resources: [pods/log]\n  verbs: [get]\n')
        + _binding("ClusterRoleBinding", "ClusterRole", "l"),
        # a write verb on the project's own CRDs, and a wildcard verb
        _role("ClusterRole", "w", CRD_READ.replace("watch]", "watch, update]"))
        + _binding("ClusterRoleBinding", "ClusterRole", "w"),
        _role("ClusterRole", "w", CRD_READ.replace("[get, list, watch]", '["*"]'))
        + _binding("ClusterRoleBinding", "ClusterRole", "w"),
        # wildcard resources or API groups, even read-only
        _role("ClusterRole", "w", CRD_READ.replace("[acceleratorfunctions, fpgaregions]", '["*"]'))
        + _binding("ClusterRoleBinding", "ClusterRole", "w"),
        _role("ClusterRole", "w", CRD_READ.replace("[fpga.intel.com]", '["*"]'))
        + _binding("ClusterRoleBinding", "ClusterRole", "w"),
        # create on access reviews is fine, on anything else it is a write
        _role("ClusterRole", "w", METRICS_AUTH.replace("tokenreviews", "serviceaccounts"))
        + _binding("ClusterRoleBinding", "ClusterRole", "w"),
        # pods/exec with a read verb
        _role("Role", "x", '- apiGroups: [""]\n  resources: [pods/exec]\n  verbs: [get]\n')
        + _binding("RoleBinding", "Role", "x"),
        # nonResourceURLs with a wildcard
        _role("ClusterRole", "u", '- nonResourceURLs: ["/metrics/*"]\n  verbs: [get]\n')
        + _binding("ClusterRoleBinding", "ClusterRole", "u"),
        # an aggregated ClusterRole: its rules are whatever the cluster selects
        "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\n"
        "metadata: {name: agg}\naggregationRule:\n"
        "  clusterRoleSelectors: [{matchLabels: {x: y}}]\nrules: []\n"
        + _binding("ClusterRoleBinding", "ClusterRole", "agg"),
    ],
)
def test_a_sensitive_or_unknown_grant_stays_a_warning(objects: str) -> None:
    finding = _one(objects, "KL519")
    assert finding.severity is Severity.WARNING
    assert "grants only" not in finding.message
    assert finding.properties == ()
    pod = _one(_POD + objects, "KL530")
    assert pod.severity is Severity.WARNING
    assert "names no service account" in pod.message and "grant only" not in pod.message


def test_one_sensitive_binding_keeps_the_pod_a_warning() -> None:
    # sample 9 item 21's shape plus a role with secrets: the pod gets all of them
    low = _role("ClusterRole", "manager-role", CRD_READ) + _binding(
        "ClusterRoleBinding", "ClusterRole", "manager-role"
    )
    high = _role("Role", "reader", SECRETS_GET) + _binding("RoleBinding", "Role", "reader")
    report = lint_text(_POD + low + high, rules=["KL519", "KL530"])
    levels = sorted(
        (f.rule_id, f.severity.value, f.object_ref.name if f.object_ref else "")
        for f in report.active
    )
    assert levels == [
        ("KL519", "note", "b-manager-role"),
        ("KL519", "warning", "b-reader"),
        ("KL530", "warning", "webhook"),
    ]


def _object(text: str) -> Resource:
    (document,) = parse_stream(text, "test.yaml").documents
    (resource,) = resources_from_document(document)
    return resource


def test_low_impact_reads_non_resource_urls_and_empty_roles() -> None:
    crb = _object(_binding("ClusterRoleBinding", "ClusterRole", "m").removeprefix("---\n"))
    metrics = _object(
        _role("ClusterRole", "m", '- nonResourceURLs: ["/metrics"]\n  verbs: [get]\n')
    )
    grants = low_impact(crb, "ClusterRole", "m", [metrics])
    assert grants is not None and describe(grants) == "read access to /metrics"
    posting = _object(
        _role("ClusterRole", "m", '- nonResourceURLs: ["/metrics"]\n  verbs: [post]\n')
    )
    assert low_impact(crb, "ClusterRole", "m", [posting]) is None
    empty = _object(_role("ClusterRole", "m", "[]\n").replace("rules:\n", "rules: "))
    grants = low_impact(crb, "ClusterRole", "m", [empty])
    assert grants is not None and describe(grants) == "no permissions"
    assert low_impact(crb, "ClusterRole", "m", []) is None  # unresolved: sensitive

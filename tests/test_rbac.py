"""RBAC and service-account checks: authorizer-exact matching, selectors, cross-object rules."""

from __future__ import annotations

import pytest

from klint.checks.rbac import selector_matches
from klint.checks.rbac_rules import PERMISSIONS, match_rule
from tests.conftest import hits, lint_text

RBAC_RULES = [f"KL{n}" for n in range(501, 522)]
SA_RULES = [f"KL{n}" for n in range(530, 536)]


@pytest.mark.parametrize(
    ("selector", "labels", "expected"),
    [
        (None, {}, True),
        ({}, {"a": "b"}, True),
        ({"matchLabels": {"a": "b"}}, {"a": "b", "c": "d"}, True),
        ({"matchLabels": {"a": "b"}}, {"a": "x"}, False),
        ({"matchExpressions": [{"key": "a", "operator": "In", "values": ["b"]}]}, {}, False),
        ({"matchExpressions": [{"key": "a", "operator": "NotIn", "values": ["b"]}]}, {}, True),
        ({"matchExpressions": [{"key": "a", "operator": "Exists"}]}, {"a": ""}, True),
        ({"matchExpressions": [{"key": "a", "operator": "DoesNotExist"}]}, {"a": ""}, False),
        ({"matchExpressions": [{"key": "a", "operator": "Bogus"}]}, {"a": ""}, False),
        ("not a selector", {}, False),
        ({"matchLabels": ["a"]}, {}, False),
    ],
)
def test_selector_semantics(selector: object, labels: dict[str, str], expected: bool) -> None:
    assert selector_matches(selector, labels) is expected


@pytest.mark.parametrize(
    ("rule", "permission", "expected"),
    [
        # */exec matches the exec subresource of any resource; pods/* is not expanded by the
        # authorizer (it grants nothing; KL501 reports it).
        (
            {"apiGroups": [""], "resources": ["*/exec"], "verbs": ["get"]},
            "pod-exec-attach",
            ("resources", 0, "*/exec"),
        ),
        (
            {"apiGroups": [""], "resources": ["pods/*"], "verbs": ["create"]},
            "pod-exec-attach",
            None,
        ),
        # No apiGroups: the authorizer matches nothing.
        ({"resources": ["secrets"], "verbs": ["get"]}, "secrets-read", None),
        ({"apiGroups": ["apps"], "resources": ["secrets"], "verbs": ["get"]}, "secrets-read", None),
        (
            {"apiGroups": ["*"], "resources": ["secrets"], "verbs": ["*"]},
            "secrets-read",
            ("resources", 0, "secrets"),
        ),
        # A * resource covers every resource and subresource...
        (
            {"apiGroups": [""], "resources": ["*"], "verbs": ["get"]},
            "secrets-read",
            ("resources", 0, "*"),
        ),
        (
            {"apiGroups": [""], "resources": ["*"], "verbs": ["create"]},
            "pod-exec-attach",
            ("resources", 0, "*"),
        ),
        (
            {"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]},
            "create-token",
            ("resources", 0, "*"),
        ),
        # ...resourceNames never match a create of a new object (it has no name yet)...
        (
            {"apiGroups": [""], "resources": ["pods"], "resourceNames": ["a"], "verbs": ["*"]},
            "create-pods",
            None,
        ),
        (
            {
                "apiGroups": [""],
                "resources": ["pods/exec"],
                "resourceNames": ["a"],
                "verbs": ["create"],
            },
            "pod-exec-attach",
            ("resources", 0, "pods/exec"),
        ),
        # ...non-resource URLs grant no resource...
        ({"nonResourceURLs": ["*"], "verbs": ["*"]}, "secrets-read", None),
        # ...and verb-anchored ones point at the verb.
        (
            {"apiGroups": ["*"], "resources": ["*"], "verbs": ["list", "escalate"]},
            "escalate",
            ("verbs", 1, "escalate"),
        ),
        (
            {"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]},
            "escalate",
            ("verbs", 0, "*"),
        ),
        # approve only counts on signers; update only on the approval subresource.
        (
            {"apiGroups": ["certificates.k8s.io"], "resources": ["signers"], "verbs": ["update"]},
            "csr-approval",
            None,
        ),
        (
            {
                "apiGroups": ["certificates.k8s.io"],
                "resources": ["certificatesigningrequests/approval"],
                "verbs": ["approve"],
            },
            "csr-approval",
            None,
        ),
        # Pods need create; controllers also update/patch.
        ({"apiGroups": [""], "resources": ["pods"], "verbs": ["patch"]}, "create-pods", None),
        (
            {"apiGroups": ["apps"], "resources": ["daemonsets"], "verbs": ["patch"]},
            "create-pods",
            ("resources", 0, "daemonsets"),
        ),
        (
            {"apiGroups": [""], "resources": ["secrets"], "resourceNames": ["x"], "verbs": ["get"]},
            "secrets-read",
            None,
        ),
        ({"apiGroups": "", "resources": "secrets", "verbs": "get"}, "secrets-read", None),
    ],
)
def test_match_rule(rule: dict[str, object], permission: str, expected: object) -> None:
    assert match_rule(rule, PERMISSIONS[permission]) == expected


def test_messages_name_rule_verbs_and_resource() -> None:
    text = """\
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: r, namespace: app}
rules:
  - apiGroups: [""]
    resources: [configmaps, secrets]
    verbs: [get, list, delete]
"""
    report = lint_text(text, rules=["KL502"])
    assert [(f.location.span.start_line, f.location.span.start_column) for f in report.active] == [
        (6, 29)
    ]
    assert report.active[0].message == (
        'rules[0] grants read access to Secrets (get, list on secrets) in namespace "app", '
        "which components often need in their own namespace."
    )
    assert report.active[0].severity.value == "note"  # a namespaced Role: its own namespace


def test_non_rbac_group_is_ignored() -> None:
    text = """\
apiVersion: example.com/v1
kind: ClusterRole
metadata: {name: lookalike}
rules:
  - {apiGroups: ["*"], resources: ["*"], verbs: ["*"]}
"""
    assert hits(lint_text(text, rules=RBAC_RULES)) == []


MALFORMED = """\
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: broken}
rules: "everything"
aggregationRule: {clusterRoleSelectors: "x"}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: broken}
roleRef: cluster-admin
subjects: {kind: User, name: system:anonymous}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: broken2}
roleRef: {kind: ClusterRole, name: null}
subjects: [null, 3, {kind: User}]
---
apiVersion: v1
kind: Pod
metadata: {name: p}
spec: {serviceAccountName: 7, containers: "x"}
---
apiVersion: v1
kind: ServiceAccount
metadata: null
"""


def test_malformed_objects_do_not_crash() -> None:
    report = lint_text(MALFORMED, rules=RBAC_RULES + SA_RULES)
    assert report.notifications == []
    # Only the service-account rules speak: the pod mounts a token, the SA keeps automount.
    assert sorted(hits(report)) == [(22, 1, "KL530"), (22, 28, "KL532"), (24, 1, "KL531")]


def test_aggregation_lists_every_dangerous_grant_once() -> None:
    text = """\
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: top}
aggregationRule:
  clusterRoleSelectors:
    - matchLabels: {agg: "yes"}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: part, labels: {agg: "yes"}}
rules:
  - {apiGroups: [""], resources: [secrets, pods/exec], verbs: ["*"]}
  - {apiGroups: [""], resources: [secrets], verbs: [get]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: unrelated, labels: {agg: "no"}}
rules:
  - {apiGroups: ["*"], resources: ["*"], verbs: ["*"]}
"""
    report = lint_text(text, rules=["KL521"])
    assert hits(report) == [(6, 7, "KL521")]
    assert report.active[0].message == (
        'aggregationRule selects ClusterRole "part", whose rules grant wildcard permissions, '
        "read access to Secrets, exec/attach into pods."
    )


def test_role_binding_needs_role_in_its_namespace() -> None:
    text = """\
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: app}
rules: []
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: a, namespace: x}
roleRef: {kind: Role, name: app}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: b}
roleRef: {kind: ClusterRole, name: "system:node-proxier"}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: c}
roleRef: {kind: ClusterRole, name: app}
"""
    # The namespace-less Role may be applied to namespace x; no ClusterRole "app" exists.
    assert hits(lint_text(text, rules=["KL520"])) == [(19, 36, "KL520")]


def test_pod_automount_overrides_service_account() -> None:
    text = """\
apiVersion: v1
kind: ServiceAccount
metadata: {name: app}
automountServiceAccountToken: true
---
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  serviceAccountName: app
  automountServiceAccountToken: false
  containers: [{name: c, image: i}]
"""
    assert hits(lint_text(text, rules=["KL530"])) == []
    assert hits(lint_text(text, rules=["KL531"])) == [(4, 31, "KL531")]


ROLE_OF_EVERYTHING = """\
apiVersion: rbac.authorization.k8s.io/v1
kind: {kind}
metadata: {{name: r, namespace: ns}}
rules:
  - apiGroups: ["*"]
    resources: ["*"]
    verbs: ["*"]
  - apiGroups: ["", admissionregistration.k8s.io, certificates.k8s.io, rbac.authorization.k8s.io]
    resources: [nodes/proxy, validatingwebhookconfigurations,
                certificatesigningrequests/approval, clusterroles]
    verbs: [get, create, update, patch, bind, escalate]
"""


def test_a_role_cannot_grant_cluster_scoped_resources() -> None:
    rules = ["KL502", "KL506", "KL507", "KL508", "KL511", "KL512"]
    role = {
        (r, line)
        for line, _, r in hits(lint_text(ROLE_OF_EVERYTHING.format(kind="Role"), rules=rules))
    }
    cluster = ROLE_OF_EVERYTHING.format(kind="ClusterRole")
    cluster_role = {(r, line) for line, _, r in hits(lint_text(cluster, rules=rules))}
    # the wildcard in a Role still reaches every namespaced resource (secrets, roles), and
    # bind on a ClusterRole is checked in the RoleBinding's namespace
    assert role == {("KL502", 6), ("KL507", 7), ("KL508", 7), ("KL508", 11)}
    assert cluster_role == role | {
        ("KL506", 6),
        ("KL506", 9),
        ("KL507", 11),
        ("KL511", 6),
        ("KL511", 9),
        ("KL512", 6),
        ("KL512", 10),
    }


@pytest.mark.parametrize(
    ("resource", "namespaced", "granted"),
    [
        ("nodes/proxy", True, False),
        ("nodes/proxy", False, True),
        ("*", True, False),
        ("pods/exec", True, True),
    ],
)
def test_match_rule_in_a_namespace(resource: str, namespaced: bool, granted: bool) -> None:
    rule = {"apiGroups": [""], "resources": [resource], "verbs": ["get", "create"]}
    key = "pod-exec-attach" if resource.startswith("pods") else "nodes-proxy"
    assert (match_rule(rule, PERMISSIONS[key], namespaced) is not None) is granted


def test_a_cluster_role_bound_in_a_namespace_grants_no_cluster_scoped_resource() -> None:
    text = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  template:
    spec:
      serviceAccountName: web
      containers: [{name: app, image: "web:1.0"}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: proxy}
rules: [{apiGroups: [""], resources: [nodes/proxy], verbs: [get]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: BINDING
metadata: {name: web-proxy, namespace: shop}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: proxy}
subjects: [{kind: ServiceAccount, name: web, namespace: shop}]
"""
    bound_in_namespace = lint_text(text.replace("BINDING", "RoleBinding"), rules=["KL536"])
    bound_cluster_wide = lint_text(text.replace("BINDING", "ClusterRoleBinding"), rules=["KL536"])
    assert hits(bound_in_namespace) == []
    assert [f.message.count("nodes/proxy") for f in bound_cluster_wide.active] == [1]


VERB_ANCHORED = """\
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: klusterlet}
rules:
  - apiGroups: [rbac.authorization.k8s.io]
    resources: [roles, clusterroles, rolebindings]
    verbs: [get, escalate, bind]
  - apiGroups: [rbac.authorization.k8s.io]
    resources: [clusterroles]
    resourceNames: [admin, edit, view, cluster-admin]
    verbs: [bind]
  - apiGroups: [""]
    resources: [users, groups]
    verbs: [impersonate]
"""


def test_verb_anchored_messages_name_the_resources_not_the_verb_twice() -> None:
    # sample6: "(escalate on escalate)", "(bind on bind)" (ocm, consul-k8s)
    report = lint_text(VERB_ANCHORED, rules=["KL507", "KL508", "KL509"])
    messages = sorted((f.rule_id, f.message) for f in report.active)
    assert messages == [
        (
            "KL507",
            "rules[0] grants the escalate verb on roles (escalate on roles, clusterroles).",
        ),
        ("KL508", "rules[0] grants the bind verb on roles (bind on roles, clusterroles)."),
        (
            "KL508",
            'rules[1] grants the bind verb on roles (bind on clusterroles named "admin", '
            '"edit", "view" and 1 more).',
        ),
        ("KL509", "rules[2] grants impersonation (impersonate on users, groups)."),
    ]
    # still anchored on the verb
    assert hits(report, "KL507") == [(7, 18, "KL507")]


def test_resource_names_are_named_in_resource_anchored_messages() -> None:
    text = """\
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: debugger}
rules:
  - apiGroups: [""]
    resources: [pods/exec]
    resourceNames: [toolbox]
    verbs: [create]
"""
    report = lint_text(text, rules=["KL504"])
    assert [f.message for f in report.active] == [
        'rules[0] grants exec/attach into pods (create on pods/exec named "toolbox").'
    ]

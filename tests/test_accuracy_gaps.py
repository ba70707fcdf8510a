"""The gaps the peers' suites exposed (issue 19), each pinned by a case of our own."""

from __future__ import annotations

import pytest

from klint.findings import Severity
from tests.conftest import hits, lint_text

ROLE = """\
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {{name: {name}}}
rules:
  - apiGroups: [{groups}]
    resources: [{resources}]
    verbs: [{verbs}]
"""


def _rules_hit(text: str, profiles: tuple[str, ...] = ("all",)) -> set[str]:
    return {rule for _, _, rule in hits(lint_text(text, profiles=profiles))}


def test_a_wildcard_resource_grants_every_specific_permission() -> None:
    found = _rules_hit(ROLE.format(name="ops", groups='"*"', resources='"*"', verbs='"*"'))
    wanted = {"KL501", "KL502", "KL503", "KL504", "KL505", "KL506", "KL507", "KL508"}
    wanted |= {"KL509", "KL510", "KL511", "KL512", "KL514"}
    assert wanted <= found


def test_a_wildcard_resource_with_one_verb_grants_what_that_verb_covers() -> None:
    found = _rules_hit(ROLE.format(name="ops", groups='""', resources='"*"', verbs="create"))
    assert {"KL503", "KL504", "KL505", "KL514"} <= found
    assert "KL502" not in found  # create is not a read of Secrets


def test_resource_slash_star_grants_nothing_and_is_reported() -> None:
    report = lint_text(
        ROLE.format(name="ops", groups='""', resources='"pods/*"', verbs="create"),
        profiles=("all",),
    )
    rules = {f.rule_id: f for f in report.active}
    assert "KL504" not in rules
    assert "does not expand" in rules["KL501"].message


def test_a_wildcard_verb_on_metrics_apis_is_only_a_note() -> None:
    text = ROLE.format(
        name="metrics", groups="metrics.k8s.io, custom.metrics.k8s.io", resources='"*"', verbs='"*"'
    )
    findings = [f for f in lint_text(text, rules=["KL501"]).active]
    verbs = [f for f in findings if "in verbs" in f.message]
    assert verbs and all(f.severity is Severity.NOTE for f in verbs)


BOOTSTRAP_ADMIN = ROLE.format(name="admin", groups='""', resources="pods/exec", verbs="create")
USER_BINDING = """\
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: dev-admins}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: admin}
subjects: [{kind: Group, name: developers, apiGroup: rbac.authorization.k8s.io}]
"""


def test_bootstrap_roles_are_exempt_until_a_user_binding_grants_them() -> None:
    assert "KL504" not in _rules_hit(BOOTSTRAP_ADMIN)
    assert "KL504" in _rules_hit(BOOTSTRAP_ADMIN + USER_BINDING)


def test_a_reserved_name_does_not_hide_a_binding_to_cluster_admin() -> None:
    text = """\
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: "system:backdoor"}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects: [{kind: User, name: mallory, apiGroup: rbac.authorization.k8s.io}]
"""
    assert "KL515" in _rules_hit(text, ("default",))


def test_a_binding_to_a_role_that_grants_everything_is_cluster_admin() -> None:
    text = ROLE.format(
        name="everything",
        groups='"*"',
        resources='"*"',
        verbs="get, list, watch, create, update, patch, delete",
    )
    text += USER_BINDING.replace("name: admin}", "name: everything}")
    assert "KL515" in _rules_hit(text, ("default",))


UNSERVED = """\
apiVersion: v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  template:
    spec:
      containers:
        - name: app
          image: nginx:1.27
          securityContext: {privileged: true}
"""


def test_an_unserved_api_version_is_a_warning_and_still_linted_by_kind() -> None:
    report = lint_text(UNSERVED, profiles=("default",))
    by_rule = {f.rule_id: f for f in report.active}
    assert by_rule["KL905"].severity is Severity.WARNING
    assert "KL101" in by_rule


def test_a_workload_without_containers_keeps_its_identity_for_selectors() -> None:
    text = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80}]
"""
    found = _rules_hit(text)
    assert "KL709" not in found
    assert "KL530" not in found  # no pod spec: nothing to say about its token


POD = """\
apiVersion: v1
kind: Pod
metadata: {{name: p, namespace: shop}}
spec:
  containers:
    - name: app
      image: nginx:1.27
      securityContext:
        capabilities: {{add: [{add}], drop: [{drop}]}}
"""


@pytest.mark.parametrize(
    ("add", "drop", "rule", "severity"),
    [
        ("", "all", "KL206", Severity.NOTE),  # the runtime drops all; admission wants "ALL"
        ("sys_admin", "ALL", "KL206", Severity.ERROR),
        ("CAP_CHOWN", "ALL", "KL206", None),  # baseline-allowed, still beyond restricted
        ("cap_net_bind_service", "ALL", "KL206", Severity.NOTE),
    ],
)
def test_capabilities_are_read_as_the_runtime_reads_them(
    add: str, drop: str, rule: str, severity: Severity | None
) -> None:
    report = lint_text(POD.format(add=add, drop=drop), rules=[rule])
    found = [f for f in report.active if f.rule_id == rule]
    assert found
    if severity is not None:
        assert {f.severity for f in found} == {severity}


def test_baseline_capabilities_normalised_in_the_baseline_rule() -> None:
    report = lint_text(POD.format(add="net_admin, chown", drop="ALL"), rules=["KL107"])
    severities = sorted(f.severity.value for f in report.active)
    assert severities == ["error", "note"]
    assert "NET_ADMIN" in report.active[0].message or "NET_ADMIN" in report.active[1].message


def test_net_raw_dropped_in_lower_case_counts() -> None:
    assert not hits(lint_text(POD.format(add="", drop="net_raw"), rules=["KL151"]))


PODS_AND_POLICY = """\
apiVersion: apps/v1
kind: Deployment
metadata: {{name: web, namespace: shop}}
spec:
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec:
      containers: [{{name: app, image: "nginx:1.27"}}]
---
{policy}
"""


@pytest.mark.parametrize(
    ("policy", "isolated"),
    [
        (
            "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\n"
            "metadata: {name: web, namespace: shop}\n"
            "spec:\n  endpointSelector: {matchLabels: {'k8s:app': web}}\n"
            "  ingress: [{fromEndpoints: [{matchLabels: {app: front}}]}]\n",
            True,
        ),
        (
            "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\n"
            "metadata: {name: web, namespace: shop}\n"
            "spec:\n  endpointSelector: {matchLabels: {app: web}}\n"
            "  egress: [{toEndpoints: [{matchLabels: {app: db}}]}]\n",
            False,  # egress only: ingress stays open
        ),
        (
            "apiVersion: cilium.io/v2\nkind: CiliumClusterwideNetworkPolicy\n"
            "metadata: {name: web}\n"
            "specs:\n  - endpointSelector:\n"
            "      matchLabels: {'k8s:io.kubernetes.pod.namespace': shop}\n"
            "    ingress: [{}]\n",
            True,
        ),
        (
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
            "metadata: {name: web, namespace: shop}\n"
            "spec:\n  podSelector: {}\n  policyTypes: [Egress]\n  egress: [{}]\n",
            False,  # policyTypes without Ingress
        ),
        (
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
            "metadata: {name: web, namespace: shop}\n"
            "spec:\n  podSelector: {}\n  egress: [{to: [{podSelector: {}}]}]\n",
            True,  # unset policyTypes always include Ingress
        ),
    ],
)
def test_network_policy_ingress_isolation(policy: str, isolated: bool) -> None:
    report = lint_text(PODS_AND_POLICY.format(policy=policy), rules=["KL701"])
    assert bool(hits(report, "KL701")) is not isolated


SERVICE_ACCOUNT_WITH = """\
apiVersion: apps/v1
kind: Deployment
metadata: {{name: web, namespace: shop}}
spec:
  template:
    spec:
      serviceAccountName: web
      containers: [{{name: app, image: "web:1.0"}}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {{name: secrets, namespace: shop}}
rules: [{{apiGroups: [""], resources: [secrets], verbs: [get, list]}}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: {binding}
metadata: {{name: web-secrets, namespace: shop}}
roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: Role, name: secrets}}
subjects: [{{kind: ServiceAccount, name: web, namespace: shop}}]
"""


def test_namespaced_secret_access_of_a_workload_is_a_note() -> None:
    report = lint_text(SERVICE_ACCOUNT_WITH.format(binding="RoleBinding"), rules=["KL536"])
    assert [f.severity for f in report.active] == [Severity.NOTE]


NODE_AGENT = """\
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: cni, namespace: kube-system}
spec:
  selector: {matchLabels: {app: cni}}
  template:
    metadata: {labels: {app: cni}}
    spec:
      hostNetwork: true
      containers:
        - name: install
          image: cni:1.0
          securityContext: {privileged: true}
      volumes:
        - {name: net, hostPath: {path: /etc/cni/net.d}}
"""


def test_node_agent_host_access_is_a_note_that_says_why_but_privileged_stays_an_error() -> None:
    report = lint_text(NODE_AGENT, profiles=("default",))
    by_rule = {f.rule_id: f for f in report.active}
    assert by_rule["KL101"].severity is Severity.ERROR
    assert by_rule["KL105"].severity is Severity.NOTE  # the hostPath (baseline's id)
    assert "expected for a node agent" in by_rule["KL105"].message
    assert ("expected-for", "node-agent") in by_rule["KL105"].properties
    assert by_rule["KL102"].severity is Severity.NOTE


def test_the_same_settings_on_a_deployment_keep_their_severity() -> None:
    report = lint_text(NODE_AGENT.replace("DaemonSet", "Deployment"), profiles=("default",))
    by_rule = {f.rule_id: f for f in report.active}
    assert by_rule["KL105"].severity is Severity.ERROR
    assert by_rule["KL102"].severity is Severity.ERROR


HELM_TEST = """\
apiVersion: v1
kind: Pod
metadata:
  name: release-test-connection
  namespace: shop
  annotations: {"helm.sh/hook": test}
spec:
  restartPolicy: Never
  containers:
    - name: wget
      image: busybox
      command: [wget, "web:80"]
"""


def test_helm_test_hook_pods_are_notes() -> None:
    report = lint_text(HELM_TEST, profiles=("default",))
    assert report.active
    assert {f.severity for f in report.active} == {Severity.NOTE}
    assert any("Helm test hook" in f.message for f in report.active)


def test_istio_injection_placeholder_image_is_a_note() -> None:
    text = HELM_TEST.replace('annotations: {"helm.sh/hook": test}', "labels: {a: b}")
    text = text.replace("image: busybox", "image: auto")
    found = [f for f in lint_text(text, rules=["KL301"]).active]
    assert [f.severity for f in found] == [Severity.NOTE]


def test_an_explicit_token_with_a_binding_in_the_unit_is_intent() -> None:
    text = SERVICE_ACCOUNT_WITH.format(binding="RoleBinding").replace(
        "serviceAccountName: web",
        "serviceAccountName: web\n      automountServiceAccountToken: true",
    )
    assert not hits(lint_text(text, rules=["KL530"]))
    unbound = text.replace("name: web, namespace: shop}]", "name: other, namespace: shop}]")
    assert hits(lint_text(unbound, rules=["KL530"]))


def test_wildcards_on_the_units_own_crd_group_are_notes() -> None:
    text = ROLE.format(name="operator", groups="example.com", resources='"*"', verbs='"*"')
    crd = """\
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  names: {kind: Widget, plural: widgets}
  scope: Namespaced
  versions: [{name: v1, served: true, storage: true, schema: {openAPIV3Schema: {type: object}}}]
"""
    assert {f.severity for f in lint_text(text + crd, rules=["KL501"]).active} == {Severity.NOTE}
    assert Severity.WARNING in {f.severity for f in lint_text(text, rules=["KL501"]).active}


def test_every_rule_off_by_default_says_why() -> None:
    from klint.catalog import load_catalog
    from klint.docs import index_page

    rules = load_catalog(validate_builtin=True)
    for rule in rules:
        assert bool(rule.opt_in) is ("default" not in rule.profiles), rule.id
    index = index_page(rules)
    off = index[index.index("## Off by default") :]
    assert all(f"| {r.id} |" in off for r in rules if "default" not in r.profiles)
    assert not any(f"| {r.id} |" in off for r in rules if "default" in r.profiles)


def test_a_committed_plaintext_secret_is_reported_by_default() -> None:
    text = "apiVersion: v1\nkind: Secret\nmetadata: {name: db}\nstringData: {password: hunter2}\n"
    assert "KL604" in _rules_hit(text, ("default",))


def test_cilium_egress_to_the_world_and_clusterwide_selectors() -> None:
    egress = """\
apiVersion: cilium.io/v2
kind: CiliumClusterwideNetworkPolicy
metadata: {name: out}
specs:
  - endpointSelector: {}
    egress: [{toEntities: [all]}]
  - nodeSelector: {}
    egress: [{toCIDR: ["0.0.0.0/0"]}]
"""
    found = lint_text(egress, rules=["KL705"]).active
    assert [f.field_path for f in found] == [("specs", 0, "egress", 0), ("specs", 1, "egress", 0)]
    selects = PODS_AND_POLICY.format(
        policy="apiVersion: cilium.io/v2\nkind: CiliumClusterwideNetworkPolicy\n"
        "metadata: {name: web}\nspec:\n  endpointSelector:\n"
        "    matchLabels: {'k8s:io.kubernetes.pod.namespace': other}\n  ingress: [{}]\n"
    )
    assert hits(lint_text(selects, rules=["KL703"]), "KL703")
    assert not hits(lint_text(selects.replace(": other}", ": shop}"), rules=["KL703"]), "KL703")

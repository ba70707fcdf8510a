"""RBAC authorizer semantics: when a Role/ClusterRole rule grants a request.

Matching follows ``pkg/apis/rbac/v1/evaluation_helpers.go`` of kubernetes exactly:

- a verb matches itself or ``*``; an API group matches itself or ``*``;
- a resource matches itself, ``*`` (every resource and subresource), or ``*/<sub>`` (the
  subresource ``<sub>`` of every resource); ``pods/*`` is *not* expanded: it names no
  resource and grants nothing (the wildcard rule reports it as a mistake);
- a rule with ``resourceNames`` only matches requests that carry an object name, so it
  never grants ``create`` of a new object or ``deletecollection``;
- ``nonResourceURLs`` rules grant no resource access;
- a namespaced grant (a Role, or any role bound by a RoleBinding) covers only requests
  inside its namespace: cluster-scoped resources (:data:`CLUSTER_SCOPED_RESOURCES`) carry
  no namespace, so no ``*`` and no name in a Role reaches them.

The dangerous permissions the rules look for are listed once in :data:`PERMISSIONS`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from klint.model.resource import Resource

RBAC_GROUP = "rbac.authorization.k8s.io"
ROLE_KINDS = ("Role", "ClusterRole")
BINDING_KINDS = ("RoleBinding", "ClusterRoleBinding")
ADMISSION_GROUP = "admissionregistration.k8s.io"
# Aggregated APIs that serve only get/list/watch: a ``*`` verb on them grants read access.
READ_ONLY_GROUPS = frozenset({"metrics.k8s.io", "custom.metrics.k8s.io", "external.metrics.k8s.io"})
# Verbs that need an object name in the request, so resourceNames can never match them.
_UNNAMED_VERBS = frozenset({"create", "deletecollection"})
# Resources whose API requests carry no namespace (cluster-scoped kinds, and the virtual
# resources checked cluster-wide: impersonated users/groups/extras/uids, CSR signers).
# ``namespaces`` is not one: ``GET /api/v1/namespaces/foo`` is authorized in namespace foo.
CLUSTER_SCOPED_RESOURCES = frozenset(
    {
        "nodes",
        "persistentvolumes",
        "componentstatuses",
        "clusterroles",
        "clusterrolebindings",
        "certificatesigningrequests",
        "clustertrustbundles",
        "signers",
        "storageclasses",
        "csidrivers",
        "csinodes",
        "volumeattachments",
        "customresourcedefinitions",
        "apiservices",
        "mutatingwebhookconfigurations",
        "validatingwebhookconfigurations",
        "validatingadmissionpolicies",
        "validatingadmissionpolicybindings",
        "mutatingadmissionpolicies",
        "mutatingadmissionpolicybindings",
        "priorityclasses",
        "runtimeclasses",
        "ingressclasses",
        "ipaddresses",
        "servicecidrs",
        "flowschemas",
        "prioritylevelconfigurations",
        "tokenreviews",
        "selfsubjectreviews",
        "selfsubjectaccessreviews",
        "selfsubjectrulesreviews",
        "subjectaccessreviews",
        "users",
        "groups",
        "userextras",
        "uids",
    }
)
# Checks made in a namespace on a cluster-scoped resource: a RoleBinding that references a
# ClusterRole needs ``bind`` on that ClusterRole in the binding's namespace.
_NAMESPACED_CHECKS: Mapping[str, frozenset[str]] = {"clusterroles": frozenset({"bind"})}


@dataclass(frozen=True)
class Permission:
    """A dangerous grant: verbs on resources of API groups.

    ``anchor`` says which list item a finding points at: the matched resource (and a
    ``*`` resource does not match, the wildcard rule reports it) or the matched verb (and
    a ``*`` resource matches). ``scoped_ok`` exempts rules limited by ``resourceNames``.
    """

    label: str
    verbs: frozenset[str]
    resources: frozenset[str]
    groups: frozenset[str]
    anchor: str = "resource"
    scoped_ok: bool = False
    verbs_for: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def with_verbs(self, resource: str, verbs: str) -> Permission:
        """A copy whose dangerous verbs on ``resource`` are ``verbs`` (space-separated)."""
        overrides = {**self.verbs_for, resource: frozenset(verbs.split())}
        return Permission(
            self.label,
            self.verbs,
            self.resources,
            self.groups,
            self.anchor,
            self.scoped_ok,
            overrides,
        )

    def verbs_on(self, resource: str) -> frozenset[str]:
        """The dangerous verbs on one of the permission's resources."""
        return self.verbs_for.get(resource, self.verbs)


def _perm(
    label: str,
    verbs: str,
    resources: str,
    groups: str,
    anchor: str = "resource",
    scoped_ok: bool = False,
) -> Permission:
    return Permission(
        label,
        frozenset(verbs.split()),
        frozenset(resources.split()),
        frozenset("" if g == "core" else g for g in groups.split()),
        anchor,
        scoped_ok,
    )


WRITE = "create update patch"
PERMISSIONS: Mapping[str, Permission] = {
    "secrets-read": _perm(
        "read access to Secrets", "get list watch", "secrets", "core", scoped_ok=True
    ),
    "create-pods": _perm(
        "creation of pods or pod controllers",
        WRITE,
        "pods deployments daemonsets statefulsets replicasets jobs cronjobs replicationcontrollers",
        "core apps batch extensions",
    ).with_verbs("pods", "create"),
    "pod-exec-attach": _perm(
        "exec/attach into pods", "create get", "pods/exec pods/attach", "core"
    ),
    "pod-portforward": _perm("port-forwarding to pods", "create get", "pods/portforward", "core"),
    # a proxy request's verb is its HTTP method's (GET: get, POST: create, ...): list and
    # watch on nodes/proxy authorise no request
    "nodes-proxy": _perm(
        "access to the kubelet API through nodes/proxy",
        "get create update patch delete",
        "nodes/proxy",
        "core",
    ),
    "escalate": _perm(
        "the escalate verb on roles", "escalate", "roles clusterroles", RBAC_GROUP, anchor="verb"
    ),
    "bind": _perm(
        "the bind verb on roles", "bind", "roles clusterroles", RBAC_GROUP, anchor="verb"
    ),
    "impersonate": _perm(
        "impersonation",
        "impersonate",
        "users groups serviceaccounts userextras/scopes uids",
        "core authentication.k8s.io",
        anchor="verb",
    ),
    "manage-bindings": _perm(
        "write access to role bindings", WRITE, "rolebindings clusterrolebindings", RBAC_GROUP
    ),
    "manage-webhooks": _perm(
        "control over admission webhook configurations",
        f"{WRITE} delete deletecollection",
        "mutatingwebhookconfigurations validatingwebhookconfigurations",
        ADMISSION_GROUP,
    ),
    "csr-approval": Permission(
        "approval of certificate signing requests",
        frozenset({"update", "patch"}),
        frozenset({"certificatesigningrequests/approval", "signers"}),
        frozenset({"certificates.k8s.io"}),
        verbs_for={"signers": frozenset({"approve"})},
    ),
    "create-csr": _perm(
        "creation of certificate signing requests",
        WRITE,
        "certificatesigningrequests",
        "certificates.k8s.io",
    ),
    "create-token": _perm(
        "creation of service account tokens", "create", "serviceaccounts/token", "core"
    ),
}


def is_rbac(resource: Resource, kinds: tuple[str, ...]) -> bool:
    """Whether the object is one of the RBAC ``kinds`` (read by kind when its apiVersion
    wrongly names the core group: the apply fails, KL905, but what it asks for is plain)."""
    return resource.group in (RBAC_GROUP, "") and resource.kind in kinds


def role_rules(resource: Resource) -> Iterator[tuple[int, dict[str, Any]]]:
    """Each rule mapping of a Role/ClusterRole with its index."""
    rules = resource.data.get("rules")
    if isinstance(rules, list):
        for index, rule in enumerate(rules):
            if isinstance(rule, dict):
                yield index, rule


def strings(value: Any) -> list[tuple[int, str]]:
    """The string items of a list with their indexes (anything else: none)."""
    if not isinstance(value, list):
        return []
    return [(index, item) for index, item in enumerate(value) if isinstance(item, str)]


def resource_matches(item: str, wanted: str) -> bool:
    """Whether a rule's resource entry covers ``wanted`` (``res`` or ``res/sub``)."""
    if item in ("*", wanted):
        return True
    _, slash, sub = wanted.partition("/")
    return bool(slash) and item == f"*/{sub}"


def match_rule(
    rule: dict[str, Any], permission: Permission, namespaced: bool = False
) -> tuple[str, int, str] | None:
    """Where a role rule grants ``permission``: (list name, index, matched item), or None.

    The finding points at the matched resource entry, or at the matched verb for
    verb-anchored permissions (escalate, bind, impersonate). ``namespaced``: the rule is
    granted within one namespace (a Role, or a role bound by a RoleBinding), where
    cluster-scoped resources are out of reach.
    """
    named = bool(rule.get("resourceNames"))
    if permission.scoped_ok and named:
        return None
    groups = [g for _, g in strings(rule.get("apiGroups"))]
    if not any(g == "*" or g in permission.groups for g in groups):
        return None
    verbs = strings(rule.get("verbs"))
    by_verb = permission.anchor == "verb"
    for r_index, item in strings(rule.get("resources")):
        for wanted in sorted(permission.resources):
            if not resource_matches(item, wanted):
                continue
            wanted_verbs = permission.verbs_on(wanted)
            base = wanted.partition("/")[0]
            if namespaced and base in CLUSTER_SCOPED_RESOURCES:
                wanted_verbs = wanted_verbs & _NAMESPACED_CHECKS.get(base, frozenset())
                if not wanted_verbs:
                    continue
            if named and "/" not in wanted:
                wanted_verbs = wanted_verbs - _UNNAMED_VERBS
            for v_index, verb in verbs:
                if verb != "*" and verb not in wanted_verbs:
                    continue
                if named and verb == "*" and not wanted_verbs:
                    continue
                return ("verbs", v_index, verb) if by_verb else ("resources", r_index, item)
    return None


def grants_everything(rule: dict[str, Any]) -> bool:
    """A rule equivalent to cluster-admin on its scope: every group and resource, with
    ``*`` verbs or the full set of read and write verbs."""
    groups = {g for _, g in strings(rule.get("apiGroups"))}
    resources = {r for _, r in strings(rule.get("resources"))}
    verbs = {v for _, v in strings(rule.get("verbs"))}
    full = {"get", "list", "watch", "create", "update", "patch", "delete"}
    return "*" in groups and "*" in resources and ("*" in verbs or full <= verbs)


def read_only_api(rule: dict[str, Any]) -> bool:
    """Every API group of the rule serves only read verbs (metrics APIs)."""
    groups = [g for _, g in strings(rule.get("apiGroups"))]
    return bool(groups) and all(g in READ_ONLY_GROUPS for g in groups)


def granted_verbs(rule: dict[str, Any], permission: Permission) -> str:
    dangerous = permission.verbs.union(*permission.verbs_for.values())
    verbs = [v for _, v in strings(rule.get("verbs")) if v == "*" or v in dangerous]
    return ", ".join(verbs)


def granted_on(rule: dict[str, Any], permission: Permission, item: str) -> str:
    """What a rule grants ``permission`` on, for messages: the matched resource entry, or
    for verb-anchored permissions (whose matched item is the verb) every resource entry of
    the rule that the permission covers; then the rule's ``resourceNames``, if any."""
    on = item
    if permission.anchor == "verb":
        matched = [
            r
            for _, r in strings(rule.get("resources"))
            if any(resource_matches(r, wanted) for wanted in permission.resources)
        ]
        on = ", ".join(dict.fromkeys(matched)) or item
    names = [f'"{n}"' for _, n in strings(rule.get("resourceNames"))]
    if names:
        more = f" and {len(names) - 3} more" if len(names) > 3 else ""
        on += f" named {', '.join(names[:3])}{more}"
    return on

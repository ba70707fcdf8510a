"""RBAC: dangerous permissions in Role/ClusterRole rules and risky (Cluster)RoleBindings.

Rules are matched the way the RBAC authorizer matches requests (``rbac/v1`` helpers of
kubernetes ``pkg/apis/rbac``): a rule needs a matching verb, API group and resource;
``*`` matches everything, ``*/exec`` matches the ``exec`` subresource of any resource,
``pods/*`` is *not* a wildcard. Wildcards are reported by their own rule, so
resource-anchored permission rules ignore a ``*`` resource (a ``*`` verb still counts),
verb-anchored ones (escalate, bind, impersonate) ignore a ``*`` verb on a ``*`` resource,
and each role rule yields at most one finding per permission.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from klint.checks.base import Check, Params, UnitContext, Violation
from klint.model.resource import Resource

RBAC_GROUP = "rbac.authorization.k8s.io"
ROLE_KINDS = ("Role", "ClusterRole")
BINDING_KINDS = ("RoleBinding", "ClusterRoleBinding")
ADMISSION_GROUP = "admissionregistration.k8s.io"

# ClusterRoles every cluster has: user-facing defaults and the system:* roles.
BUILTIN_CLUSTER_ROLES = frozenset({"cluster-admin", "admin", "edit", "view"})
# Roles the API server bootstraps in kube-system (besides system:* ones).
BUILTIN_ROLES = frozenset({"extension-apiserver-authentication-reader"})


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
    "nodes-proxy": _perm(
        "access to the kubelet API through nodes/proxy",
        "get create update patch delete list watch",
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
    """Whether the object is one of the RBAC ``kinds``."""
    return resource.group == RBAC_GROUP and resource.kind in kinds


def _strings(value: Any) -> list[tuple[int, str]]:
    if not isinstance(value, list):
        return []
    return [(index, item) for index, item in enumerate(value) if isinstance(item, str)]


def role_rules(resource: Resource) -> Iterator[tuple[int, dict[str, Any]]]:
    """Each rule mapping of a Role/ClusterRole with its index."""
    rules = resource.data.get("rules")
    if isinstance(rules, list):
        for index, rule in enumerate(rules):
            if isinstance(rule, dict):
                yield index, rule


def _resource_matches(item: str, wanted: str, allow_star: bool) -> bool:
    if item == wanted:
        return True
    if item == "*":
        return allow_star
    _, slash, sub = wanted.partition("/")
    return bool(slash) and item == f"*/{sub}"


def match_rule(rule: dict[str, Any], permission: Permission) -> tuple[str, int, str] | None:
    """Where a role rule grants ``permission``: (list name, index, matched item), or None."""
    if permission.scoped_ok and rule.get("resourceNames"):
        return None
    groups = [g for _, g in _strings(rule.get("apiGroups"))]
    if not any(g == "*" or g in permission.groups for g in groups):
        return None
    verbs = _strings(rule.get("verbs"))
    resources = _strings(rule.get("resources"))
    by_verb = permission.anchor == "verb"
    for r_index, item in resources:
        for wanted in sorted(permission.resources):
            if not _resource_matches(item, wanted, allow_star=by_verb):
                continue
            wanted_verbs = permission.verbs_on(wanted)
            for v_index, verb in verbs:
                if verb in wanted_verbs and by_verb:
                    return ("verbs", v_index, verb)
                if verb in wanted_verbs or (verb == "*" and not (by_verb and item == "*")):
                    return ("resources", r_index, item)
    return None


def _granted_verbs(rule: dict[str, Any], permission: Permission) -> str:
    dangerous = permission.verbs.union(*permission.verbs_for.values())
    verbs = [v for _, v in _strings(rule.get("verbs")) if v == "*" or v in dangerous]
    return ", ".join(verbs)


def dangerous_permission(resource: Resource, _: UnitContext, params: Params) -> Iterator[Violation]:
    """Role rules that grant the named permission (one finding per role rule)."""
    if not is_rbac(resource, ROLE_KINDS):
        return
    permission = PERMISSIONS[str(params["permission"])]
    for index, rule in role_rules(resource):
        hit = match_rule(rule, permission)
        if hit is None:
            continue
        list_name, item_index, item = hit
        yield Violation(
            ("rules", index, list_name, item_index),
            f"rules[{index}] grants {permission.label} "
            f"({_granted_verbs(rule, permission)} on {item}).",
        )


def wildcard_in_rules(resource: Resource, _: UnitContext, __: Params) -> Iterator[Violation]:
    """Each ``*`` in a role rule's verbs, resources, apiGroups or nonResourceURLs."""
    if not is_rbac(resource, ROLE_KINDS):
        return
    for index, rule in role_rules(resource):
        for list_name in ("apiGroups", "resources", "verbs", "nonResourceURLs"):
            for item_index, item in _strings(rule.get(list_name)):
                if item == "*":
                    yield Violation(
                        ("rules", index, list_name, item_index),
                        f'rules[{index}] uses the wildcard "*" in {list_name}.',
                    )


def dangerous_labels(rule: dict[str, Any]) -> list[str]:
    """Labels of every dangerous permission (and wildcard) a role rule grants."""
    labels = [p.label for p in PERMISSIONS.values() if match_rule(rule, p) is not None]
    if any(
        item == "*"
        for list_name in ("apiGroups", "resources", "verbs")
        for _, item in _strings(rule.get(list_name))
    ):
        labels.insert(0, "wildcard permissions")
    return labels


def selector_matches(selector: Any, labels: Mapping[str, str]) -> bool:
    """Kubernetes label-selector semantics; an empty selector matches everything.

    A malformed selector (not a mapping, unknown operator) matches nothing.
    """
    if selector is None:
        return True
    if not isinstance(selector, dict):
        return False
    match_labels = selector.get("matchLabels") or {}
    if not isinstance(match_labels, dict):
        return False
    for key, value in match_labels.items():
        if labels.get(str(key)) != ("" if value is None else str(value)):
            return False
    expressions = selector.get("matchExpressions") or []
    if not isinstance(expressions, list):
        return False
    for expression in expressions:
        if not isinstance(expression, dict):
            return False
        key = str(expression.get("key", ""))
        operator = expression.get("operator")
        raw_values = expression.get("values")
        values = {str(v) for v in raw_values} if isinstance(raw_values, list) else set()
        present = key in labels
        if operator == "In":
            ok = present and labels[key] in values
        elif operator == "NotIn":
            ok = not present or labels[key] not in values
        elif operator == "Exists":
            ok = present
        elif operator == "DoesNotExist":
            ok = not present
        else:
            return False
        if not ok:
            return False
    return True


def aggregated_dangerous_rules(
    resource: Resource, context: UnitContext, _: Params
) -> Iterator[Violation]:
    """ClusterRoles whose aggregationRule pulls in ClusterRoles (from the input) with
    dangerous rules; one finding per selector and aggregated role."""
    if not is_rbac(resource, ("ClusterRole",)):
        return
    selectors = resource.get("aggregationRule", "clusterRoleSelectors")
    if not isinstance(selectors, list):
        return
    others = [
        r for r in context.of_kind("ClusterRole") if r is not resource and r.group == RBAC_GROUP
    ]
    for index, selector in enumerate(selectors):
        if not isinstance(selector, dict) or not selector:
            continue
        for other in others:
            if not selector_matches(selector, other.labels):
                continue
            labels: list[str] = []
            for _index, rule in role_rules(other):
                labels.extend(label for label in dangerous_labels(rule) if label not in labels)
            if labels:
                yield Violation(
                    ("aggregationRule", "clusterRoleSelectors", index),
                    f'aggregationRule selects ClusterRole "{other.name}", whose rules grant '
                    f"{', '.join(labels)}.",
                )


def _role_ref(resource: Resource) -> tuple[str, str]:
    ref = resource.data.get("roleRef")
    if not isinstance(ref, dict):
        return "", ""
    return str(ref.get("kind") or ""), str(ref.get("name") or "")


def binding_role(resource: Resource, _: UnitContext, params: Params) -> Iterator[Violation]:
    """Bindings whose roleRef names one of the ``roles`` ClusterRoles (e.g. cluster-admin)."""
    if not is_rbac(resource, BINDING_KINDS):
        return
    kind, name = _role_ref(resource)
    if kind == "ClusterRole" and name in params["roles"]:
        yield Violation(("roleRef", "name"), f'{resource.kind} grants the ClusterRole "{name}".')


def _subjects(resource: Resource) -> Iterator[tuple[int, dict[str, Any]]]:
    subjects = resource.data.get("subjects")
    if isinstance(subjects, list):
        for index, subject in enumerate(subjects):
            if isinstance(subject, dict):
                yield index, subject


def binding_subject(resource: Resource, _: UnitContext, params: Params) -> Iterator[Violation]:
    """Binding subjects (users or groups) with one of the ``names`` (e.g. system:anonymous)."""
    if not is_rbac(resource, BINDING_KINDS):
        return
    names = set(params["names"])
    for index, subject in _subjects(resource):
        kind = subject.get("kind")
        name = subject.get("name")
        if kind in ("User", "Group") and name in names:
            yield Violation(
                ("subjects", index, "name"),
                f"{resource.kind} binds {_role_text(resource)} to the {str(kind).lower()} "
                f'"{name}".',
            )


def _role_text(resource: Resource) -> str:
    kind, name = _role_ref(resource)
    return f'{kind or "role"} "{name}"' if name else "a role"


def binding_default_service_account(
    resource: Resource, _: UnitContext, __: Params
) -> Iterator[Violation]:
    """Binding subjects that are a namespace's ``default`` service account."""
    if not is_rbac(resource, BINDING_KINDS):
        return
    for index, subject in _subjects(resource):
        if subject.get("kind") == "ServiceAccount" and subject.get("name") == "default":
            namespace = subject.get("namespace") or resource.namespace
            where = f' in namespace "{namespace}"' if namespace else ""
            yield Violation(
                ("subjects", index, "name"),
                f"{resource.kind} binds {_role_text(resource)} to the default service "
                f"account{where}, which every pod without its own service account uses.",
            )


def is_builtin_cluster_role(name: str) -> bool:
    """ClusterRoles that exist in every cluster (cluster-admin, admin, edit, view, system:*)."""
    return name in BUILTIN_CLUSTER_ROLES or name.startswith("system:")


def same_namespace(a: str, b: str) -> bool:
    """Namespaces agree when they are equal or either is unset (set at apply time)."""
    return not a or not b or a == b


def binding_missing_role(
    resource: Resource, context: UnitContext, _: Params
) -> Iterator[Violation]:
    """Bindings whose roleRef names a Role/ClusterRole neither in the input nor built in."""
    if not is_rbac(resource, BINDING_KINDS):
        return
    kind, name = _role_ref(resource)
    if not name or kind not in ROLE_KINDS:
        return
    if kind == "ClusterRole" and is_builtin_cluster_role(name):
        return
    if kind == "Role" and (name in BUILTIN_ROLES or name.startswith("system:")):
        return
    for role in context.of_kind(kind):
        if role.group != RBAC_GROUP or role.name != name:
            continue
        if kind == "ClusterRole" or same_namespace(role.namespace, resource.namespace):
            return
    yield Violation(
        ("roleRef", "name"),
        f'{resource.kind} refers to {kind} "{name}", which is not defined in the input.',
    )


_PERMISSION_SCHEMA = {
    "type": "object",
    "required": ["permission"],
    "additionalProperties": False,
    "properties": {"permission": {"enum": sorted(PERMISSIONS)}},
}
_NAMES_SCHEMA = {
    "type": "object",
    "required": ["names"],
    "additionalProperties": False,
    "properties": {"names": {"type": "array", "items": {"type": "string"}, "minItems": 1}},
}
_ROLES_SCHEMA = {
    "type": "object",
    "required": ["roles"],
    "additionalProperties": False,
    "properties": {"roles": {"type": "array", "items": {"type": "string"}, "minItems": 1}},
}

CHECKS = (
    Check("rbac-wildcard", wildcard_in_rules, "Wildcards in Role/ClusterRole rules."),
    Check(
        "rbac-dangerous-permission",
        dangerous_permission,
        "Role rules granting a named dangerous permission.",
        _PERMISSION_SCHEMA,
    ),
    Check(
        "rbac-aggregated-dangerous-rules",
        aggregated_dangerous_rules,
        "ClusterRoles aggregating roles with dangerous rules.",
    ),
    Check(
        "rbac-binding-role", binding_role, "Bindings to named powerful ClusterRoles.", _ROLES_SCHEMA
    ),
    Check(
        "rbac-binding-subject", binding_subject, "Bindings to named users or groups.", _NAMES_SCHEMA
    ),
    Check(
        "rbac-binding-default-service-account",
        binding_default_service_account,
        "Bindings to a default service account.",
    ),
    Check(
        "rbac-binding-missing-role",
        binding_missing_role,
        "Bindings to roles absent from the input.",
    ),
)

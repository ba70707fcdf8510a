"""RBAC: dangerous permissions in Role/ClusterRole rules and risky (Cluster)RoleBindings.

Rules are matched the way the RBAC authorizer matches requests (see
:mod:`klint.checks.rbac_rules`): a ``*`` resource or verb grants every specific permission
it covers, so the wildcard rule and the permission rules both report it; each role rule
yields at most one finding per permission. Roles of the cluster's bootstrap policy are left
alone unless a binding the user wrote grants them (:func:`bootstrap_role_unbound`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from klint.checks.base import Check, Params, UnitContext, Violation
from klint.checks.rbac_impact import describe, low_impact
from klint.checks.rbac_owner import bindings_job, own_group, secrets_job, webhooks_job
from klint.checks.rbac_rules import (
    BINDING_KINDS,
    PERMISSIONS,
    RBAC_GROUP,
    ROLE_KINDS,
    granted_on,
    granted_verbs,
    grants_everything,
    is_rbac,
    match_rule,
    read_only_api,
    role_rules,
    strings,
)
from klint.findings import Severity
from klint.model.builtin import USER_FACING_CLUSTER_ROLES, reserved_rbac_name
from klint.model.resource import Resource

# Permissions a component commonly needs in its own namespace: a namespaced Role granting
# them is a note (a ClusterRole granting them everywhere keeps the rule's severity).
NAMESPACE_SCOPED_NOTES = frozenset({"secrets-read"})
# Roles the API server bootstraps in kube-system (besides system:* ones).
BUILTIN_ROLES = frozenset({"extension-apiserver-authentication-reader"})


def bootstrap_role_unbound(resource: Resource, context: UnitContext) -> bool:
    """A role of the cluster's bootstrap policy (``system:*``, cluster-admin, admin, edit,
    view) that no binding the user wrote grants: its rules are Kubernetes' own design.

    A binding with an ordinary name that grants it makes its rules the user's business.
    """
    if not reserved_rbac_name(resource.kind, resource.name):
        return False
    for binding in bindings_naming(context, resource.name):
        if not is_rbac(binding, BINDING_KINDS) or reserved_rbac_name(binding.kind, binding.name):
            continue
        kind, name = role_ref(binding)
        if kind == resource.kind and name == resource.name:
            return False
    return True


def dangerous_permission(
    resource: Resource, context: UnitContext, params: Params
) -> Iterator[Violation]:
    """Role rules that grant the named permission (one finding per role rule)."""
    if not is_rbac(resource, ROLE_KINDS) or bootstrap_role_unbound(resource, context):
        return
    key = str(params["permission"])
    permission = PERMISSIONS[key]
    namespaced = resource.kind == "Role" and key in NAMESPACE_SCOPED_NOTES
    job = ""
    if key == "secrets-read" and not namespaced:
        job = secrets_job(resource, context)
    elif key == "manage-bindings":
        job = bindings_job(resource, context)
    elif key == "manage-webhooks":
        job = webhooks_job(resource, context)
    for index, rule in role_rules(resource):
        hit = match_rule(rule, permission, namespaced=resource.kind == "Role")
        if hit is None:
            continue
        list_name, item_index, item = hit
        where = f' in namespace "{resource.namespace}"' if resource.namespace else ""
        verbs = granted_verbs(rule, permission)
        on = granted_on(rule, permission, item)
        granted = f"rules[{index}] grants {permission.label} ({verbs} on {on})"
        # only a grant that names the resource is the component's job: a wildcard keeps
        # its level (a role that allows everything is never a note)
        target = item if permission.anchor != "verb" else on
        named = "*" not in target.split(", ") and "*" not in {
            g for _, g in strings(rule.get("apiGroups"))
        }
        if namespaced:
            message = f"{granted}{where}, which components often need in their own namespace."
        elif job and named:
            message = f"{granted} (expected for {job}; kept as a note)."
        else:
            message = f"{granted}."
        yield Violation(
            ("rules", index, list_name, item_index),
            message,
            severity=Severity.NOTE if namespaced or (job and named) else None,
            properties=(("expected-for", f"{key}-controller"),) if job and named else (),
        )


def wildcard_in_rules(resource: Resource, context: UnitContext, __: Params) -> Iterator[Violation]:
    """Each ``*`` in a role rule's verbs, resources, apiGroups or nonResourceURLs, and each
    ``<resource>/*`` (which the authorizer does not expand: it grants nothing).

    A ``*`` verb on read-only aggregated APIs (metrics) is a note: they serve only reads.
    """
    if not is_rbac(resource, ROLE_KINDS) or bootstrap_role_unbound(resource, context):
        return
    for index, rule in role_rules(resource):
        groups = [g for _, g in strings(rule.get("apiGroups"))]
        reasons = [own_group(g, resource, context) for g in groups]
        if groups and all(reasons):
            yield from _own_api_wildcards(index, rule, min(reasons))
            continue
        read_only = read_only_api(rule)
        for list_name in ("apiGroups", "resources", "verbs", "nonResourceURLs"):
            for item_index, item in strings(rule.get(list_name)):
                path = ("rules", index, list_name, item_index)
                if item == "*" and list_name == "verbs" and read_only:
                    yield Violation(
                        path,
                        f'rules[{index}] uses the wildcard "*" in verbs on a metrics API, '
                        "which serves only get, list and watch: list those verbs.",
                        severity=Severity.NOTE,
                    )
                elif item == "*":
                    yield Violation(path, f'rules[{index}] uses the wildcard "*" in {list_name}.')
                elif list_name == "resources" and item.endswith("/*") and item != "*/*":
                    yield Violation(
                        path,
                        f'rules[{index}] lists "{item}", which the RBAC authorizer does not '
                        "expand: it grants no subresource. Name the subresources (for "
                        f'example "{item[:-1]}exec"), or use "*" if every one is meant.',
                    )


def _own_api_wildcards(index: int, rule: dict[str, Any], reason: str) -> Iterator[Violation]:
    """Wildcards limited to the role's own API groups (``reason`` says why they are its
    own): a note, an operator managing its own resources."""
    for list_name in ("resources", "verbs"):
        for item_index, item in strings(rule.get(list_name)):
            if item == "*":
                yield Violation(
                    ("rules", index, list_name, item_index),
                    f'rules[{index}] uses the wildcard "*" in {list_name}, limited to its own '
                    f"API groups ({reason}; expected for a role over the component's own "
                    "resources, kept as a note).",
                    severity=Severity.NOTE,
                    properties=(("expected-for", "own-api-groups"),),
                )


def dangerous_labels(rule: dict[str, Any], own_groups_only: bool = False) -> list[str]:
    """Labels of every dangerous permission (and wildcard) a role rule grants; a wildcard
    limited to the role's own API groups (``own_groups_only``) is not one (KL501's note)."""
    labels = [p.label for p in PERMISSIONS.values() if match_rule(rule, p) is not None]
    if not own_groups_only and any(
        item == "*"
        for list_name in ("apiGroups", "resources", "verbs")
        for _, item in strings(rule.get(list_name))
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
    for index, selector in enumerate(selectors):
        if not isinstance(selector, dict) or not selector:
            continue
        for other in _labelled_roles(context, selector.get("matchLabels")):
            if other is resource or other.group != RBAC_GROUP:
                continue
            if not selector_matches(selector, other.labels):
                continue
            labels: list[str] = []
            for _index, rule in role_rules(other):
                groups = [g for _, g in strings(rule.get("apiGroups"))]
                own = bool(groups) and all(own_group(g, other, context) for g in groups)
                labels.extend(x for x in dangerous_labels(rule, own) if x not in labels)
            if labels:
                yield Violation(
                    ("aggregationRule", "clusterRoleSelectors", index),
                    f'aggregationRule selects ClusterRole "{other.name}", whose rules grant '
                    f"{', '.join(labels)}.",
                )


def roles_named(context: UnitContext, kind: str, name: str) -> list[Resource]:
    """Objects of ``kind`` (Role, ClusterRole) named ``name``, from a per-unit index."""
    return context.indexed(f"by-name:{kind}", (kind,), lambda role: [role.name]).get(name, [])


def bindings_naming(context: UnitContext, role: str) -> list[Resource]:
    """(Cluster)RoleBindings whose roleRef names ``role``, from a per-unit index."""
    index = context.indexed("bindings-by-role", BINDING_KINDS, lambda b: [role_ref(b)[1]])
    return index.get(role, [])


def _labelled_roles(context: UnitContext, required: Any) -> list[Resource]:
    """ClusterRoles that may match a selector: those with its rarest required label."""
    index = context.indexed(
        "cluster-roles-by-label",
        ("ClusterRole",),
        lambda role: [None, *((k, v) for k, v in role.labels.items())],
    )
    buckets = [
        index.get((str(k), "" if v is None else str(v)), [])
        for k, v in (required.items() if isinstance(required, dict) else ())
    ]
    return min(buckets, key=len) if buckets else index.get(None, [])


def role_ref(resource: Resource) -> tuple[str, str]:
    """A binding's roleRef kind and name ("" when absent)."""
    ref = resource.data.get("roleRef")
    if not isinstance(ref, dict):
        return "", ""
    return str(ref.get("kind") or ""), str(ref.get("name") or "")


def binding_role(resource: Resource, context: UnitContext, params: Params) -> Iterator[Violation]:
    """Bindings whose roleRef names one of the ``roles`` ClusterRoles (e.g. cluster-admin),
    or a role of the unit with a rule that grants everything (cluster-admin by another name).
    """
    if not is_rbac(resource, BINDING_KINDS):
        return
    kind, name = role_ref(resource)
    if kind == "ClusterRole" and name in params["roles"]:
        yield Violation(("roleRef", "name"), f'{resource.kind} grants the ClusterRole "{name}".')
        return
    if resource.kind == "ClusterRoleBinding" and kind != "ClusterRole":
        # The API server accepts only a ClusterRole here, and the authorizer would look the
        # Role up in namespace "": it grants nothing (KL934 reports the invalid roleRef).
        return
    for role in roles_named(context, kind, name):
        if not is_rbac(role, ROLE_KINDS) or role.name != name:
            continue
        if kind == "Role" and not same_namespace(role.namespace, resource.namespace):
            continue
        if any(grants_everything(rule) for _, rule in role_rules(role)):
            scope = "the cluster" if resource.kind == "ClusterRoleBinding" else "its namespace"
            yield Violation(
                ("roleRef", "name"),
                f'{resource.kind} grants {kind} "{name}", whose rules allow every verb on every '
                f"resource: full control of {scope}, as cluster-admin.",
            )
            return


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
    kind, name = role_ref(resource)
    return f'{kind or "role"} "{name}"' if name else "a role"


def binding_default_service_account(
    resource: Resource, context: UnitContext, __: Params
) -> Iterator[Violation]:
    """Binding subjects that are a namespace's ``default`` service account; a note when the
    role grants only what :mod:`klint.checks.rbac_impact` calls low impact."""
    if not is_rbac(resource, BINDING_KINDS):
        return
    defaults = [
        (index, subject)
        for index, subject in _subjects(resource)
        if subject.get("kind") == "ServiceAccount" and subject.get("name") == "default"
    ]
    if not defaults:
        return
    grants = low_impact(resource, *role_ref(resource), bound_roles(context, resource))
    for index, subject in defaults:
        namespace = subject.get("namespace") or resource.namespace
        where = f' in namespace "{namespace}"' if namespace else ""
        text = (
            f"{resource.kind} binds {_role_text(resource)} to the default service "
            f"account{where}, which every pod without its own service account uses"
        )
        if grants is None:
            yield Violation(("subjects", index, "name"), f"{text}.")
            continue
        yield Violation(
            ("subjects", index, "name"),
            f"{text}; the role grants only {describe(grants)}, nothing a pod of this "
            "namespace could misuse (kept as a note).",
            severity=Severity.NOTE,
            properties=(("expected-for", "low-impact-grant"),),
        )


def bound_roles(context: UnitContext, binding: Resource) -> list[Resource]:
    """The roles of the unit a binding's roleRef names (a Role in the binding's namespace)."""
    kind, name = role_ref(binding)
    return [
        role
        for role in roles_named(context, kind, name)
        if is_rbac(role, ROLE_KINDS)
        and role.name == name
        and (kind != "Role" or same_namespace(role.namespace, binding.namespace))
    ]


def is_builtin_cluster_role(name: str) -> bool:
    """ClusterRoles that exist in every cluster (cluster-admin, admin, edit, view, system:*)."""
    return name in USER_FACING_CLUSTER_ROLES or name.startswith("system:")


def same_namespace(a: str, b: str) -> bool:
    """Namespaces agree when they are equal or either is unset (set at apply time)."""
    return not a or not b or a == b


def binding_missing_role(
    resource: Resource, context: UnitContext, _: Params
) -> Iterator[Violation]:
    """Bindings whose roleRef names a Role/ClusterRole neither in the input nor built in."""
    if not is_rbac(resource, BINDING_KINDS):
        return
    kind, name = role_ref(resource)
    if not name or kind not in ROLE_KINDS:
        return
    if kind == "ClusterRole" and is_builtin_cluster_role(name):
        return
    if kind == "Role" and (name in BUILTIN_ROLES or name.startswith("system:")):
        return
    for role in roles_named(context, kind, name):
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

"""How much a binding grants: low impact, or sensitive (the severity threshold of KL519 and
KL530, which report roles bound to a namespace's ``default`` service account).

Low impact is read access to resources that hold no credentials (a project's own CRDs,
nodes, namespaced ConfigMaps), ``create`` on the access-review resources (the delegated
authentication pair that protects a metrics endpoint), and, through a namespaced
RoleBinding only, the leader-election writes (leases, ConfigMaps, events) of that one
namespace: every pod there that names no account already shares the account, and the
rights reach no other namespace. Anything else is sensitive, and so is a role klint cannot
read (not in the input, aggregated, or built in such as cluster-admin).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from klint.checks.rbac_rules import role_rules, strings
from klint.model.builtin import USER_FACING_CLUSTER_ROLES
from klint.model.resource import Resource

# What low-impact bindings grant: resources by kind (read, review, election).
Grants = dict[str, set[str]]
READ_VERBS = frozenset({"get", "list", "watch"})
# Any verb on these is sensitive (credentials, code execution in pods, the kubelet API).
SENSITIVE_RESOURCES = frozenset(
    {
        "secrets",
        "pods/exec",
        "pods/attach",
        "pods/portforward",
        "nodes/proxy",
        "serviceaccounts/token",
        "certificatesigningrequests/approval",
    }
)
# Read access cluster-wide is sensitive: ConfigMaps and pod logs often carry credentials.
CLUSTER_READ_SENSITIVE = frozenset({"configmaps", "pods/log"})
# ``create`` on these only asks the API server a question (authentication, authorization).
REVIEWS = {
    "tokenreviews": frozenset({"authentication.k8s.io"}),
    "subjectaccessreviews": frozenset({"authorization.k8s.io"}),
    "selfsubjectaccessreviews": frozenset({"authorization.k8s.io"}),
    "selfsubjectrulesreviews": frozenset({"authorization.k8s.io"}),
}
# Leader election (and the events a controller records), through a RoleBinding only.
NAMESPACED_WRITES = {
    "leases": frozenset({"coordination.k8s.io"}),
    "configmaps": frozenset({""}),
    "events": frozenset({"", "events.k8s.io"}),
}
NAMESPACED_WRITE_VERBS = frozenset({"create", "update", "patch", "delete"})


def _grant(group: str, resource: str, verb: str, namespaced: bool) -> str | None:
    """The kind of one (group, resource, verb) grant: ``read``, ``review`` or ``election``,
    None when it is sensitive."""
    if "*" in group or "*" in resource or resource in SENSITIVE_RESOURCES:
        return None
    if verb in READ_VERBS:
        return None if not namespaced and resource in CLUSTER_READ_SENSITIVE else "read"
    if verb == "create" and group in REVIEWS.get(resource, ()):
        return "review"
    if (
        namespaced
        and verb in NAMESPACED_WRITE_VERBS
        and group in NAMESPACED_WRITES.get(resource, ())
    ):
        return "election"
    return None


def _rule_grants(rule: dict[str, Any], namespaced: bool) -> Grants | None:
    """What one role rule grants, by kind (resources), or None when any of it is sensitive."""
    found: Grants = {}
    verbs = [v for _, v in strings(rule.get("verbs"))]
    urls = [u for _, u in strings(rule.get("nonResourceURLs"))]
    if urls:
        if any("*" in u for u in urls) or any(v not in READ_VERBS for v in verbs):
            return None
        found.setdefault("read", set()).update(urls)
    groups = [g for _, g in strings(rule.get("apiGroups"))]
    for resource in (r for _, r in strings(rule.get("resources"))):
        for group in groups:
            for verb in verbs:
                kind = _grant(group, resource, verb, namespaced)
                if kind is None:
                    return None
                found.setdefault(kind, set()).add(resource)
    return found


def low_impact(binding: Resource, kind: str, name: str, roles: Iterable[Resource]) -> Grants | None:
    """What ``binding`` (roleRef ``kind``/``name``, resolved to ``roles`` of the input)
    grants, by kind (see :func:`describe`), when all of it is low impact; None when anything
    is sensitive or the role cannot be read (absent, aggregated, built in)."""
    if name in USER_FACING_CLUSTER_ROLES or name.startswith("system:"):
        return None
    if binding.kind == "ClusterRoleBinding" and kind != "ClusterRole":
        return None
    namespaced = binding.kind == "RoleBinding"
    found: list[Grants] = []
    for role in roles:
        if role.data.get("aggregationRule") is not None:
            return None
        for _, rule in role_rules(role):
            grants = _rule_grants(rule, namespaced)
            if grants is None:
                return None
            found.append(grants)
        found.append({})
    return combine(found) if found else None


def combine(grants: Iterable[Grants]) -> Grants:
    """The grants of several bindings as one."""
    found: Grants = {}
    for grant in grants:
        for key, resources in grant.items():
            found.setdefault(key, set()).update(resources)
    return found


def describe(found: Grants) -> str:
    """``read access to a, b and create on tokenreviews …`` (sorted: deterministic)."""

    def names(items: set[str]) -> str:
        ordered = sorted(items)
        more = f" and {len(ordered) - 6} more" if len(ordered) > 6 else ""
        return ", ".join(ordered[:6]) + more

    election = found.get("election", set())
    read = found.get("read", set()) - election
    review = found.get("review", set())
    parts = []
    if read:
        parts.append(f"read access to {names(read)}")
    if review:
        parts.append(f"create on {names(review)} (access reviews)")
    if election:
        parts.append(f"leader-election access to {names(election)} in its own namespace")
    return " and ".join(parts) or "no permissions"

"""Which API groups a Role/ClusterRole's component owns, and when its Secret access is the
component's job: the RBAC side of the component context (:mod:`klint.model.component`).

A controller needs ``*`` on its own API groups and often needs to read Secrets; a finding
there is a note that says why, never hidden. A group is the role's own when

- a CustomResourceDefinition of the same lint unit defines it (an operator's bundle), or
- it is a custom group (not a built-in ``*.k8s.io`` or unqualified group) with a label
  named after the role's component (``crossplane`` in ``pkg.crossplane.io`` for the role
  ``crossplane:aggregate-to-edit``; ``keda`` in ``keda.sh``; a short name only as the
  group's first label: ``dex.coreos.com`` for dex): the CRDs live elsewhere in the
  repository, as in Helm charts that ship them in a separate chart, or the component
  creates them itself at runtime.

Patching (never creating or deleting) webhook configurations is the job of such a
controller too: it keeps its own webhook's caBundle current.
Writing role bindings is the job of the controller of its own resources when it has neither
``bind`` nor ``escalate``: the API server then lets it bind only what it holds itself.
Secret reads are the component's job when it owns custom groups (a controller of its own
resources, which reference Secrets), when its name or own groups say secrets, certificates
or TLS, or when it reads Ingresses or Gateways (a proxy that serves their TLS Secrets).
"""

from __future__ import annotations

import re
from typing import Any

from klint.checks.base import UnitContext
from klint.checks.rbac_rules import PERMISSIONS, match_rule, role_rules, strings
from klint.model.resource import Resource

_IDENTITY_LABELS = (
    "app.kubernetes.io/name",
    "app.kubernetes.io/part-of",
    "app.kubernetes.io/instance",
    "app",
    "k8s-app",
)
_TOKEN = re.compile(r"[a-z0-9]+")
# Tokens too generic to name a component.
_GENERIC = frozenset(
    {"role", "roles", "cluster", "manager", "controller", "operator", "system", "admin", "edit"}
    | {"app", "api", "k8s", "io", "sa", "ns", "the", "v1", "v2"}
)
_SECRET_WORDS = ("secret", "cert", "tls", "vault", "credential", "kms")
_TLS_RESOURCES = {
    "networking.k8s.io": {"ingresses"},
    "extensions": {"ingresses"},
    "gateway.networking.k8s.io": {"gateways"},
}


def builtin_group(group: str) -> bool:
    """A group of Kubernetes itself (or ``*``): the core group, an unqualified group such
    as ``apps``, or one under ``k8s.io``."""
    return group in ("", "*") or "." not in group or group.endswith(".k8s.io")


def crd_groups(context: UnitContext) -> frozenset[str]:
    """API groups defined by CustomResourceDefinitions in the unit."""
    groups = set()
    for crd in context.of_kind("CustomResourceDefinition"):
        group = crd.get("spec", "group")
        if isinstance(group, str) and group:
            groups.add(group)
    return frozenset(groups)


def identity_tokens(resource: Resource) -> frozenset[str]:
    """Words naming the role's component: from its name and its app labels (short words,
    two or three letters such as ``dex``, only match a group's first label exactly)."""
    texts = [resource.name, *(resource.labels.get(key, "") for key in _IDENTITY_LABELS)]
    return frozenset(
        token
        for text in texts
        for token in _TOKEN.findall(text.lower())
        if len(token) >= 2 and token not in _GENERIC and not token.isdigit()
    )


def named_after(group: str, tokens: frozenset[str]) -> bool:
    """A custom group with a label (the top-level domain aside) starting with a token of at
    least four letters, or whose first label is a shorter token (``dex.coreos.com`` for
    dex, which creates that storage group itself at runtime)."""
    if builtin_group(group):
        return False
    labels = group.lower().split(".")[:-1]
    long = [token for token in tokens if len(token) >= 4]
    if any(label.startswith(token) for label in labels for token in long):
        return True
    return bool(labels) and labels[0] in tokens


def own_group(group: str, resource: Resource, context: UnitContext) -> str:
    """Why ``group`` is the role's own ("" if it is not)."""
    if group in context.derived("crd-groups", crd_groups):
        return "defined by a CustomResourceDefinition of this input"
    if named_after(group, identity_tokens(resource)):
        return f'named after the role\'s component "{resource.name}"'
    return ""


def own_groups(resource: Resource, context: UnitContext) -> list[str]:
    """The component's custom API groups, sorted: those the role's rules name that are its
    own, and those the unit's CRDs define that are named after the role's component (an
    operator that splits its permissions over several roles)."""
    tokens = identity_tokens(resource)
    named = {
        group
        for _, rule in role_rules(resource)
        for _, group in strings(rule.get("apiGroups"))
        if not builtin_group(group) and own_group(group, resource, context)
    }
    defined = {g for g in context.derived("crd-groups", crd_groups) if named_after(g, tokens)}
    return sorted(named | defined)


def webhooks_job(resource: Resource, context: UnitContext) -> str:
    """Why patching webhook configurations is the role's job ("" if nothing says so): the
    controller of its own resources that never creates or deletes them, as controllers that
    keep their own webhook's caBundle current do."""
    own = own_groups(resource, context)
    if not own:
        return ""
    for _, rule in role_rules(resource):
        if match_rule(rule, PERMISSIONS["manage-webhooks"]) is None:
            continue
        verbs = {v for _, v in strings(rule.get("verbs"))}
        if not verbs <= {"get", "list", "watch", "patch", "update"}:
            return ""
    return (
        f"the controller of its own resources ({', '.join(own[:2])}), which patches webhook "
        "configurations but never creates or deletes them, as a controller keeping its own "
        "webhook's caBundle current does"
    )


def bindings_job(resource: Resource, context: UnitContext) -> str:
    """Why writing role bindings is the role's job ("" if nothing says so): the controller
    of its own resources, without ``bind`` or ``escalate``, so the API server lets it bind
    only permissions it holds itself (RBAC escalation prevention)."""
    own = own_groups(resource, context)
    if not own or any(
        match_rule(rule, PERMISSIONS[key]) is not None
        for _, rule in role_rules(resource)
        for key in ("bind", "escalate")
    ):
        return ""
    return (
        f"the controller of its own resources ({', '.join(own[:2])}), which without bind "
        "or escalate can grant only permissions it holds itself"
    )


def secrets_job(resource: Resource, context: UnitContext) -> str:
    """Why reading Secrets is the role's job ("" if nothing says so)."""
    own = own_groups(resource, context)
    words = " ".join([resource.name, *own]).lower()
    if any(word in words for word in _SECRET_WORDS):
        return "a component whose job is secrets or certificates"
    if any(_reads_tls_source(rule) for _, rule in role_rules(resource)):
        return "an ingress or gateway controller, which serves TLS from Secrets"
    if own:
        return (
            f"the controller of its own resources ({', '.join(own[:2])}), which reference Secrets"
        )
    return ""


def _reads_tls_source(rule: dict[str, Any]) -> bool:
    groups = {g for _, g in strings(rule.get("apiGroups"))}
    resources = {r for _, r in strings(rule.get("resources"))}
    verbs = {v for _, v in strings(rule.get("verbs"))}
    if not verbs & {"get", "list", "watch", "*"}:
        return False
    return any(g in groups and resources & kinds for g, kinds in _TLS_RESOURCES.items())


def workloads_job(resource: Resource, context: UnitContext) -> str:
    """Why creating pods or pod controllers is the role's job ("" if nothing says so): the
    controller of its own resources, which runs the workloads they describe (an operator)."""
    own = own_groups(resource, context)
    if not own:
        return ""
    return (
        f"the controller of its own resources ({', '.join(own[:2])}), which runs the "
        "workloads they describe"
    )


# The permissions a component's job can explain (PERMISSIONS keys), and how.
_JOBS = {
    "secrets-read": secrets_job,
    "manage-bindings": bindings_job,
    "manage-webhooks": webhooks_job,
    "create-pods": workloads_job,
}


def role_job(resource: Resource, context: UnitContext, keys: set[str]) -> str:
    """Why every permission in ``keys`` the role grants is its component's job ("" when one
    is not, or when a grant comes from a wildcard resource or group: a role that allows
    everything is never a note)."""
    reasons: list[str] = []
    for key in sorted(keys):
        job_of = _JOBS.get(key)
        if job_of is None:
            return ""
        for _, rule in role_rules(resource):
            hit = match_rule(rule, PERMISSIONS[key])
            if hit is not None and (hit[2] == "*" or "*" in _groups(rule)):
                return ""
        reason = job_of(resource, context)
        if not reason:
            return ""
        reasons.append(reason)
    return "; ".join(dict.fromkeys(reasons))


def _groups(rule: dict[str, Any]) -> set[str]:
    return {g for _, g in strings(rule.get("apiGroups"))}

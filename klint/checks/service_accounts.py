"""Service accounts and their tokens: automounting, the default account, legacy token Secrets.

Token automounting is decided as the kubelet does: the pod's
``automountServiceAccountToken`` wins when set, else the ServiceAccount's. The
ServiceAccount is looked up in the same lint unit (same name; namespaces must agree when
both are set). A pod that names its service account and a binding in the unit names that
account as a subject evidently talks to the API, so it is not asked to drop its token.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from klint.checks.base import Check, Params, UnitContext, Violation
from klint.checks.rbac import bound_roles, role_ref, same_namespace
from klint.checks.rbac_impact import combine, describe, low_impact
from klint.checks.rbac_owner import role_job
from klint.checks.rbac_rules import (
    BINDING_KINDS,
    PERMISSIONS,
    grants_everything,
    is_rbac,
    match_rule,
    role_rules,
)
from klint.findings import Severity
from klint.model import PodView, pod_view
from klint.model.resource import Resource

AUTOMOUNT = "automountServiceAccountToken"
LEGACY_TOKEN_TYPE = "kubernetes.io/service-account-token"
_ACCOUNT_KEYS = ("serviceAccountName", "serviceAccount")


def service_account_name(pod: PodView) -> str:
    """The pod's service account: ``serviceAccountName``, the deprecated alias, or default."""
    for key in ("serviceAccountName", "serviceAccount"):
        value = pod.spec.get(key)
        if isinstance(value, str) and value:
            return value
    return "default"


def find_service_account(context: UnitContext, name: str, namespace: str) -> Resource | None:
    """The ServiceAccount of that name in the unit (namespaces agree or are unset)."""
    by_name = context.indexed("by-name:ServiceAccount", ("ServiceAccount",), _name)
    for account in by_name.get(name, ()):
        if (
            account.group == ""
            and account.name == name
            and same_namespace(account.namespace, namespace)
        ):
            return account
    return None


def bindings_of(context: UnitContext, name: str, namespace: str) -> Iterator[Resource]:
    """(Cluster)RoleBindings in the unit that name the service account as a subject."""
    for binding in context.indexed("bindings-by-subject", BINDING_KINDS, _subjects).get(name, ()):
        subjects = binding.data.get("subjects")
        for subject in subjects if isinstance(subjects, list) else []:
            if not isinstance(subject, dict) or subject.get("kind") != "ServiceAccount":
                continue
            subject_ns = str(subject.get("namespace") or binding.namespace)
            if subject.get("name") == name and same_namespace(subject_ns, namespace):
                yield binding
                break


def _name(resource: Resource) -> list[str]:
    return [resource.name]


def _subjects(binding: Resource) -> set[Any]:
    """The names of a binding's subjects (its index keys)."""
    subjects = binding.data.get("subjects")
    items = subjects if isinstance(subjects, list) else []
    return {s.get("name") for s in items if isinstance(s, dict) and isinstance(s.get("name"), str)}


def is_bound(context: UnitContext, name: str, namespace: str) -> bool:
    """Whether a (Cluster)RoleBinding in the unit names the service account as a subject."""
    return any(bindings_of(context, name, namespace))


def _account_automount(context: UnitContext, name: str, namespace: str) -> Any:
    """The account's setting; ``False`` only when every definition of it in the unit says so
    (an object defined twice is reported by KL809 and never decided by file order)."""
    values = [
        account.data.get(AUTOMOUNT)
        for account in context.of_kind("ServiceAccount")
        if account.group == ""
        and account.name == name
        and same_namespace(account.namespace, namespace)
    ]
    if not values:
        return None
    return not all(value is False for value in values)


def _named(pod: PodView) -> bool:
    """Whether the pod names its service account (``serviceAccountName`` or the alias)."""
    return any(isinstance(pod.spec.get(k), str) and pod.spec.get(k) for k in _ACCOUNT_KEYS)


def _inherited_roles(context: UnitContext, name: str, namespace: str) -> str:
    """``ClusterRole "x" (ClusterRoleBinding "y")``, ... for the account's bindings in the
    unit, sorted (deterministic)."""
    labels = set()
    for binding in bindings_of(context, name, namespace):
        ref = binding.data.get("roleRef")
        ref = ref if isinstance(ref, dict) else {}
        role = f'{ref.get("kind") or "role"} "{ref.get("name") or "?"}"'
        labels.add(f'{role} (through {binding.kind} "{binding.name}")')
    return ", ".join(sorted(labels))


def _low_impact_grants(context: UnitContext, name: str, namespace: str) -> str | None:
    """What the account's bindings grant, as text, when every one is low impact."""
    found = []
    for binding in bindings_of(context, name, namespace):
        grants = low_impact(binding, *role_ref(binding), bound_roles(context, binding))
        if grants is None:
            return None
        found.append(grants)
    return describe(combine(found)) if found else None


def automount_token(resource: Resource, context: UnitContext, _: Params) -> Iterator[Violation]:
    """Pods that mount a service account token without needing the API.

    "The input" is the lint unit (the chart, overlay or folder the pod is linted with), as
    for every RBAC lookup here. A pod that names its account (``default`` included) and a
    binding in the unit grants that account something evidently uses the API: not
    reported. A pod that names no account silently gets ``default``; when the unit binds
    ``default`` to a role the pod inherits it, and the warning says which. An account that
    no binding in the unit names is a note: its token carries only what every service
    account has. A non-default account the unit does not define is a note as well (its
    bindings live where it does). An explicit ``true`` without any binding stays a warning.
    """
    pod = pod_view(resource)
    if pod is None or not pod.declared:
        return
    value = pod.spec.get(AUTOMOUNT)
    path = (*pod.path, AUTOMOUNT)
    if value is False:
        return
    name = service_account_name(pod)
    if is_bound(context, name, resource.namespace):
        if name != "default" or _named(pod):
            return  # RBAC in the same unit grants the named account something: it uses the API
        if value is None and _account_automount(context, name, resource.namespace) is False:
            return
        roles = _inherited_roles(context, name, resource.namespace)
        text = (
            f'the pod names no service account, so it runs as "default" and mounts its '
            f"token, which this input binds to {roles}"
        )
        grants = _low_impact_grants(context, name, resource.namespace)
        if grants is not None:
            yield Violation(
                path,
                f"{text}, which grant only {grants}, nothing a pod of this namespace could "
                "misuse (kept as a note).",
                severity=Severity.NOTE,
                properties=(("expected-for", "low-impact-grant"),),
            )
            return
        yield Violation(
            path,
            f"{text}: every pod of the namespace that names no account gets these permissions. "
            "Give the pod that needs them its own service account (serviceAccountName), or "
            f"set {AUTOMOUNT} to false where the API is not needed.",
        )
        return
    if name != "default" and find_service_account(context, name, resource.namespace) is None:
        # the account (and so its bindings) is defined outside this input: naming it is
        # intent klint cannot check, a note that says so
        yield Violation(
            path,
            f'the pod mounts the token of service account "{name}", which is defined outside '
            "this input with whatever RBAC it has (expected for a pod that names its own "
            "service account; kept as a note): if it does not call the API, set "
            f"{AUTOMOUNT} to false.",
            severity=Severity.NOTE,
            properties=(("expected-for", "account-defined-elsewhere"),),
        )
        return
    if value is True:
        yield Violation(
            path,
            f"the pod sets {AUTOMOUNT} to true, but no binding in this input grants service "
            f'account "{name}" anything: drop the token unless the pod calls the API.',
        )
        return
    if _account_automount(context, name, resource.namespace) is False:
        return
    yield Violation(
        path,
        f'the pod mounts the token of service account "{name}", but no role in this input is '
        "bound to it: the token carries only what every service account has (kept as a "
        f"note): set {AUTOMOUNT} to false on the pod or its service account if it does not "
        "call the API.",
        severity=Severity.NOTE,
        properties=(("expected-for", "account-without-binding"),),
    )


def service_account_automount(
    resource: Resource, context: UnitContext, _: Params
) -> Iterator[Violation]:
    """ServiceAccounts that do not disable token automounting (unless bound to a role)."""
    if resource.kind != "ServiceAccount" or resource.group != "":
        return
    value = resource.data.get(AUTOMOUNT)
    if value is False:
        return
    if resource.name != "default" and is_bound(context, resource.name, resource.namespace):
        return
    what = "sets" if value is True else "does not set"
    target = "to false" if value is not True else "to true"
    yield Violation((AUTOMOUNT,), f'ServiceAccount "{resource.name}" {what} {AUTOMOUNT} {target}.')


def default_service_account(
    resource: Resource, context: UnitContext, _: Params
) -> Iterator[Violation]:
    """Workloads that run as the default service account with its token mounted."""
    pod = pod_view(resource)
    if pod is None or not pod.declared or service_account_name(pod) != "default":
        return
    if pod.spec.get(AUTOMOUNT) is False:
        return
    if pod.spec.get(AUTOMOUNT) is None and (
        _account_automount(context, "default", resource.namespace) is False
    ):
        return
    key = next((k for k in ("serviceAccountName", "serviceAccount") if k in pod.spec), None)
    yield Violation(
        (*pod.path, key or "serviceAccountName"),
        "the pod runs as the default service account with its token mounted.",
    )


def deprecated_service_account_field(
    resource: Resource, _: UnitContext, __: Params
) -> Iterator[Violation]:
    """Pods that use the deprecated ``serviceAccount`` alias of ``serviceAccountName``.

    Not where it repeats ``serviceAccountName`` (the API server fills the alias in, so
    exported manifests carry both): the alias then changes nothing.
    """
    pod = pod_view(resource)
    if pod is None or pod.spec.get("serviceAccount") is None:
        return
    if pod.spec.get("serviceAccount") == pod.spec.get("serviceAccountName"):
        return
    yield Violation(
        (*pod.path, "serviceAccount"),
        "the pod sets the deprecated field serviceAccount: use serviceAccountName.",
    )


def missing_service_account(
    resource: Resource, context: UnitContext, _: Params
) -> Iterator[Violation]:
    """Pods naming a (non-default) service account that the input does not define."""
    pod = pod_view(resource)
    if pod is None:
        return
    name = service_account_name(pod)
    if name == "default" or find_service_account(context, name, resource.namespace):
        return
    key = "serviceAccountName" if pod.spec.get("serviceAccountName") else "serviceAccount"
    yield Violation(
        (*pod.path, key), f'the pod uses service account "{name}", which the input does not define.'
    )


def _token_mounted(pod: PodView, context: UnitContext, name: str, namespace: str) -> bool:
    """Whether the pod gets its service account's token (pod setting first, then the SA's)."""
    value = pod.spec.get(AUTOMOUNT)
    if value is not None:
        return value is not False
    return _account_automount(context, name, namespace) is not False


def _all_verbs_on_all_resources(rule: dict[str, Any]) -> bool:
    """``*`` verbs on ``*`` resources of every group or the core group: cluster-admin alike.

    Wildcards within an operator's own API group (``monitoring.coreos.com``) do not count.
    """

    def has(key: str, value: str) -> bool:
        items = rule.get(key)
        return isinstance(items, list) and value in items

    return (
        has("verbs", "*")
        and has("resources", "*")
        and (has("apiGroups", "*") or has("apiGroups", ""))
    )


# Permissions a component commonly needs within its own namespace: granted by a RoleBinding
# they are reported as notes (expected for many controllers, still worth a look).
NAMESPACE_ROUTINE = frozenset({"secrets-read", "create-pods"})


def _rule_grants(
    rule: dict[str, Any], wanted: list[str], binding: Resource
) -> list[tuple[str, str]]:
    """(key, label) of the ``wanted`` permissions (PERMISSIONS keys or ``wildcard``) a rule
    grants through ``binding`` (a RoleBinding grants within its namespace only)."""
    namespaced = binding.kind == "RoleBinding"
    grants = []
    for key in wanted:
        if key == "wildcard":
            if _all_verbs_on_all_resources(rule):
                grants.append((key, "every verb on every resource (wildcards)"))
        elif match_rule(rule, PERMISSIONS[key], namespaced) is not None:
            grants.append((key, PERMISSIONS[key].label))
    return grants


def _granted(context: UnitContext, binding: Resource, wanted: list[str]) -> list[tuple[str, str]]:
    """What dangerous permissions a binding grants, from the role it names (if known)."""
    ref = binding.data.get("roleRef")
    if not isinstance(ref, dict):
        return []
    if ref.get("kind") == "ClusterRole" and ref.get("name") == "cluster-admin":
        return [("cluster-admin", "full control of the cluster (cluster-admin)")]
    grants: list[tuple[str, str]] = []
    for role in bound_roles(context, binding):
        for _, rule in role_rules(role):
            grants.extend(g for g in _rule_grants(rule, wanted, binding) if g not in grants)
    return grants


def _controller_job(context: UnitContext, binding: Resource, wanted: list[str]) -> str:
    """Why every dangerous grant of a binding is its controller's job (the reasons of
    :mod:`klint.checks.rbac_owner` on each bound role), "" when one is not."""
    reasons: list[str] = []
    for role in bound_roles(context, binding):
        keys = {
            key for _, rule in role_rules(role) for key, _ in _rule_grants(rule, wanted, binding)
        }
        if not keys:
            continue
        reason = role_job(role, context, keys) if "wildcard" not in keys else ""
        if not reason:
            return ""
        reasons.append(reason)
    return "; ".join(dict.fromkeys(reasons))


def privileged_service_account(
    resource: Resource, context: UnitContext, params: Params
) -> Iterator[Violation]:
    """Workloads whose mounted service account token carries dangerous RBAC permissions.

    cluster-admin always counts (an error); ``permissions`` lists the others (keys of the
    RBAC rules' permission table, or ``wildcard``). Secrets read and pod creation granted
    only within the namespace (a RoleBinding) are notes: many components need them there.
    """
    pod = pod_view(resource)
    if pod is None or not pod.declared:
        return
    name = service_account_name(pod)
    if not _token_mounted(pod, context, name, resource.namespace):
        return
    path = (*pod.path, "serviceAccountName")
    wanted = list(params["permissions"])
    found = [
        (binding, grants)
        for binding in bindings_of(context, name, resource.namespace)
        if is_rbac(binding, BINDING_KINDS) and (grants := _granted(context, binding, wanted))
    ]
    admin = next((b for b, _ in found if _grants_all(context, b)), None)
    for binding, grants in found:
        keys = {key for key, _ in grants}
        severity, job = None, ""
        if "cluster-admin" in keys:
            severity = Severity.ERROR
        elif (binding.kind == "RoleBinding" and keys <= NAMESPACE_ROUTINE) or (
            job := _controller_job(context, binding, wanted)
        ):
            severity = Severity.NOTE
        scope = ""
        if binding.kind == "RoleBinding":
            # a base without a namespace is applied to the namespace kubectl is told to use
            scope = (
                f' in namespace "{binding.namespace}"'
                if binding.namespace
                else " in the namespace it is applied to"
            )
        text = (
            f'the pods run as service account "{name}" with its token mounted, and '
            f'{binding.kind} "{binding.name}" grants it {", ".join(label for _, label in grants)}'
            f"{scope}: a compromised container can use them"
        )
        if admin is not None and binding is not admin:
            # the account holds everything through another binding, reported on this pod
            # as well: this one adds nothing, and that one is the line to edit
            yield Violation(
                path,
                f"{text} (the account already holds every permission through "
                f'ClusterRoleBinding "{admin.name}", reported on this pod too; kept as a note).',
                severity=Severity.NOTE,
                properties=(("expected-for", "subject-holds-everything"),),
            )
            continue
        yield Violation(
            path,
            text + (f" (expected for {job}; kept as a note)." if job else "."),
            severity=severity,
            properties=(("expected-for", "controller-token"),) if job else (),
        )


def _grants_all(context: UnitContext, binding: Resource) -> bool:
    """A ClusterRoleBinding to cluster-admin or to a role of the unit with a rule that
    allows everything (``*`` groups, resources and verbs)."""
    if binding.kind != "ClusterRoleBinding":
        return False
    ref = binding.data.get("roleRef")
    if (
        isinstance(ref, dict)
        and ref.get("kind") == "ClusterRole"
        and ref.get("name") == "cluster-admin"
    ):
        return True
    return any(
        grants_everything(rule)
        for role in bound_roles(context, binding)
        for _, rule in role_rules(role)
    )


def legacy_token_secret(resource: Resource, _: UnitContext, __: Params) -> Iterator[Violation]:
    """Secrets of type ``kubernetes.io/service-account-token`` (long-lived tokens)."""
    if resource.kind != "Secret" or resource.group != "":
        return
    if resource.data.get("type") == LEGACY_TOKEN_TYPE:
        account = resource.annotations.get("kubernetes.io/service-account.name", "")
        whose = f' for service account "{account}"' if account else ""
        yield Violation(
            ("type",), f"Secret holds a long-lived, non-expiring service account token{whose}."
        )


CHECKS = (
    Check(
        "automount-service-account-token",
        automount_token,
        "Pods that automount a service account token they do not need.",
    ),
    Check(
        "service-account-automount",
        service_account_automount,
        "ServiceAccounts that do not disable token automounting.",
    ),
    Check(
        "default-service-account",
        default_service_account,
        "Workloads running as the default service account with a token.",
    ),
    Check(
        "deprecated-service-account-field",
        deprecated_service_account_field,
        "Use of the deprecated serviceAccount field.",
    ),
    Check(
        "missing-service-account",
        missing_service_account,
        "Service accounts referenced but not defined in the input.",
    ),
    Check(
        "legacy-token-secret", legacy_token_secret, "Secrets holding legacy service account tokens."
    ),
    Check(
        "privileged-service-account",
        privileged_service_account,
        "Workloads whose service account token carries dangerous RBAC permissions.",
        {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "permissions": {
                    "type": "array",
                    "items": {"enum": ["wildcard", *PERMISSIONS]},
                }
            },
        },
        {"permissions": ["wildcard"]},
    ),
)

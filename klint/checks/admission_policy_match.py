"""Which ValidatingAdmissionPolicies apply to an object, as the API server decides it.

Policies and bindings (``admissionregistration.k8s.io`` v1, v1beta1, v1alpha1) come from
the lint unit and from ``--policy`` files, which apply to every unit. A binding applies
its policy to an object when both the policy's ``matchConstraints`` and the binding's
``matchResources`` match: resource rules (group, version, resource, ``CREATE``), minus the
exclude rules, the namespace selector (against the Namespace objects of the input; every
namespace has the ``kubernetes.io/metadata.name`` label) and the object selector.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from klint.checks.base import UnitContext
from klint.checks.selectors import matches_label_selector
from klint.model.resource import Resource

POLICY_KIND = "ValidatingAdmissionPolicy"
BINDING_KIND = "ValidatingAdmissionPolicyBinding"
_GROUP = "admissionregistration.k8s.io"
NAME_LABEL = "kubernetes.io/metadata.name"
CLUSTER_SCOPED = frozenset(
    {
        "Namespace",
        "Node",
        "PersistentVolume",
        "ClusterRole",
        "ClusterRoleBinding",
        "CustomResourceDefinition",
        "StorageClass",
        "PriorityClass",
        "RuntimeClass",
        "IngressClass",
        "CSIDriver",
        "APIService",
        "MutatingWebhookConfiguration",
        "ValidatingWebhookConfiguration",
        POLICY_KIND,
        BINDING_KIND,
        "CertificateSigningRequest",
    }
)


@dataclass(frozen=True)
class PolicySet:
    """The policies, bindings and candidate param objects one unit sees."""

    policies: dict[str, Resource] = field(default_factory=dict)
    bindings: list[Resource] = field(default_factory=list)
    objects: list[Resource] = field(default_factory=list)  # params may be any of them
    external: frozenset[str] = frozenset()  # policies given with --policy


def is_policy_object(resource: Resource) -> bool:
    """A policy or binding of the admissionregistration group."""
    return resource.group == _GROUP and resource.kind in (POLICY_KIND, BINDING_KIND)


def policy_set(context: UnitContext, files: tuple[str, ...]) -> PolicySet:
    """The unit's policies plus those of ``--policy`` files (computed once per unit)."""
    return context.derived(f"admission-policies:{files}", lambda c: _policy_set(c, files))


def _policy_set(context: UnitContext, files: tuple[str, ...]) -> PolicySet:
    external = extra_objects(files) if files else ()
    result = PolicySet(objects=[*external, *context.resources])
    names = set()
    for resource in [*external, *context.resources]:
        if not is_policy_object(resource):
            continue
        if resource.kind == POLICY_KIND and resource.name:
            result.policies[resource.name] = resource
            if resource in external:
                names.add(resource.name)
        elif resource.kind == BINDING_KIND:
            result.bindings.append(resource)
    unbound = names - {str(b.get("spec", "policyName")) for b in result.bindings}
    for name in sorted(unbound):  # a --policy policy without a binding: bound to everything
        result.bindings.append(implicit_binding(result.policies[name]))
    return PolicySet(result.policies, result.bindings, result.objects, frozenset(names))


def implicit_binding(policy: Resource) -> Resource:
    """The binding a ``--policy`` policy without one gets: every object, ``Deny``."""
    data = {
        "apiVersion": f"{_GROUP}/v1",
        "kind": BINDING_KIND,
        "metadata": {"name": f"{policy.name} (implicit binding)"},
        "spec": {"policyName": policy.name, "validationActions": ["Deny"]},
    }
    return Resource(data, policy.document)


@cache
def extra_objects(paths: tuple[str, ...]) -> tuple[Resource, ...]:
    """Every object of the ``--policy`` files and folders, read once per run."""
    from klint.documents import decode, parse_stream
    from klint.model.resource import resources_from_document

    files: list[Path] = []
    for text in paths:
        path = Path(text)
        if path.is_dir():
            files.extend(sorted(f for f in path.rglob("*") if f.suffix in (".yaml", ".yml")))
        elif path.is_file():
            files.append(path)
    found: list[Resource] = []
    for file in files:
        try:
            decoded, _ = decode(file.read_bytes(), str(file))
        except OSError:
            continue
        if decoded is not None:
            for document in parse_stream(decoded, str(file)).documents:
                found.extend(resources_from_document(document))
    return tuple(found)


# --- matching --------------------------------------------------------------------------------


def resource_name(resource: Resource, context: UnitContext) -> str:
    """The REST resource of an object's kind (``deployments``), from CRDs when custom."""
    plurals = context.derived("crd-plurals", _crd_plurals)
    custom = plurals.get((resource.group, resource.kind))
    if custom:
        return custom
    kind = resource.kind.lower()
    if kind.endswith("y") and not kind.endswith(("ay", "ey", "oy")):
        return kind[:-1] + "ies"
    if kind.endswith(("s", "x", "ch", "sh")):
        return kind if kind.endswith("endpoints") else kind + "es"
    return kind + "s"


def _crd_plurals(context: UnitContext) -> dict[tuple[str, str], str]:
    found = {}
    for crd in context.of_kind("CustomResourceDefinition"):
        group, kind, plural = (
            crd.get("spec", "group"),
            crd.get("spec", "names", "kind"),
            crd.get("spec", "names", "plural"),
        )
        if isinstance(group, str) and isinstance(kind, str) and isinstance(plural, str):
            found[(group, kind)] = plural
    return found


def namespace_labels(resource: Resource, context: UnitContext) -> dict[str, str] | None:
    """The labels of the object's namespace; None for cluster-scoped objects."""
    if resource.kind == "Namespace":
        return {**resource.labels, NAME_LABEL: resource.name}
    if resource.kind in CLUSTER_SCOPED and not resource.namespace:
        return None
    name = resource.namespace or "default"
    namespace = _namespaces(context).get(name)
    if namespace is not None:
        return {**namespace.labels, NAME_LABEL: name}
    return {NAME_LABEL: name}


def _namespaces(context: UnitContext) -> dict[str, Resource]:
    """The unit's Namespace objects by name (the first of each name), built once."""

    def build(context: UnitContext) -> dict[str, Resource]:
        found: dict[str, Resource] = {}
        for namespace in context.of_kind("Namespace"):
            found.setdefault(namespace.name, namespace)
        return found

    return context.derived("namespaces-by-name", build)


def namespace_object(resource: Resource, context: UnitContext) -> dict[str, Any] | None:
    """``namespaceObject`` of an admission request (None for cluster-scoped objects)."""
    labels = namespace_labels(resource, context)
    if labels is None or resource.kind == "Namespace":
        return None
    name = labels[NAME_LABEL]
    namespace = _namespaces(context).get(name)
    if namespace is not None:
        return namespace.data
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}


def namespace_name(namespace: dict[str, Any]) -> str:
    """The name of a Namespace object."""
    metadata = namespace.get("metadata")
    return str(metadata.get("name", "")) if isinstance(metadata, dict) else ""


def matches(constraints: Any, resource: Resource, context: UnitContext) -> bool:
    """Whether ``matchConstraints``/``matchResources`` select ``resource`` on CREATE."""
    if constraints is None:
        return True
    if not isinstance(constraints, dict):
        return False
    rules = constraints.get("resourceRules")
    plural = resource_name(resource, context)
    if rules is not None and not _any_rule(rules, resource, plural):
        return False
    if _any_rule(constraints.get("excludeResourceRules") or [], resource, plural):
        return False
    labels = namespace_labels(resource, context)
    selector = constraints.get("namespaceSelector")
    if selector is not None and labels is not None and not matches_label_selector(selector, labels):
        return False
    selector = constraints.get("objectSelector")
    return selector is None or matches_label_selector(selector, resource.labels)


def _any_rule(rules: Any, resource: Resource, plural: str) -> bool:
    if not isinstance(rules, list):
        return False
    version = resource.api_version.rpartition("/")[2]
    return any(
        isinstance(rule, dict)
        and _listed(rule.get("apiGroups"), resource.group)
        and _listed(rule.get("apiVersions"), version)
        and _listed(rule.get("operations"), "CREATE")
        and _resource_listed(rule.get("resources"), plural)
        and _named(rule.get("resourceNames"), resource.name)
        for rule in rules
    )


def _listed(values: Any, wanted: str) -> bool:
    return isinstance(values, list) and any(v in ("*", wanted) for v in values)


def _resource_listed(values: Any, plural: str) -> bool:
    return isinstance(values, list) and any(v in ("*", "*/*", plural) for v in values)


def _named(values: Any, name: str) -> bool:
    return not values or (isinstance(values, list) and name in values)


def params_for(
    policy: Resource, binding: Resource, resource: Resource, candidates: Iterable[Resource]
) -> list[dict[str, Any]] | None:
    """The param objects a binding selects: ``[None-equivalent]`` without ``paramKind``.

    Returns ``[{}]`` sentinel-free: an empty list means "none found" and None that the
    policy takes no params.
    """
    kind = policy.get("spec", "paramKind")
    if not isinstance(kind, dict):
        return None
    reference = binding.get("spec", "paramRef")
    if not isinstance(reference, dict):
        return []
    api_version, wanted_kind = kind.get("apiVersion"), kind.get("kind")
    name, namespace = reference.get("name"), reference.get("namespace")
    selector = reference.get("selector")
    found = []
    for candidate in candidates:
        if candidate.api_version != api_version or candidate.kind != wanted_kind:
            continue
        if namespace and candidate.namespace not in (namespace, ""):
            continue
        if not namespace and candidate.namespace not in ("", resource.namespace or "default"):
            continue
        if name is not None and candidate.name != name:
            continue
        if name is None and not matches_label_selector(selector, candidate.labels):
            continue
        found.append(candidate.data)
    return found

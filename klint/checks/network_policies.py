"""Which pods a network policy isolates for ingress: Kubernetes and Cilium semantics.

- ``networking.k8s.io`` NetworkPolicy: selects pods of its namespace by ``podSelector``;
  it isolates them for ingress when ``policyTypes`` contains ``Ingress``, and an unset
  ``policyTypes`` always includes ``Ingress`` (the API server defaults it so, even for a
  policy that lists only egress rules). ``policyTypes: [Egress]`` leaves ingress open.
- ``cilium.io`` CiliumNetworkPolicy (namespaced) and CiliumClusterwideNetworkPolicy
  (every namespace): each rule (``spec`` and every item of ``specs``) selects endpoints by
  ``endpointSelector`` and isolates them for ingress only when it has an ``ingress`` or
  ``ingressDeny`` section (a rule with only ``egress`` leaves ingress open), unless
  ``enableDefaultDeny.ingress`` is false. Selector keys may carry a label source prefix
  (``k8s:app``, ``any:app``); ``io.kubernetes.pod.namespace`` is the pod's namespace.
  Rules that select nodes (``nodeSelector``, host policies) isolate no pod.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from klint.checks.base import UnitContext
from klint.checks.selectors import (
    LabelSet,
    SelectorIndex,
    label_set,
    matches_label_selector,
    namespace_of,
)
from klint.model.resource import Resource

CILIUM_GROUP = "cilium.io"
CILIUM_KINDS = ("CiliumNetworkPolicy", "CiliumClusterwideNetworkPolicy")
NAMESPACE_LABEL = "io.kubernetes.pod.namespace"
_SOURCE_PREFIXES = ("k8s:", "any:", "container:", "reserved:")


def is_network_policy(resource: Resource) -> bool:
    """A Kubernetes or Cilium network policy."""
    if resource.kind == "NetworkPolicy":
        return resource.group == "networking.k8s.io"
    return resource.kind in CILIUM_KINDS and resource.group == CILIUM_GROUP


def policies_for(context: UnitContext, namespace: str) -> list[Resource]:
    """Network policies that can apply to pods of ``namespace`` (clusterwide ones too)."""
    by_namespace = context.derived("policies-by-namespace", _policies_by_namespace)
    return by_namespace.get(namespace, []) + by_namespace.get(None, [])


def _policies_by_namespace(context: UnitContext) -> dict[str | None, list[Resource]]:
    """Policies per namespace; ``None``: clusterwide ones (one pass over the unit)."""
    result: dict[str | None, list[Resource]] = {}
    for policy in context.of_kind("NetworkPolicy", *CILIUM_KINDS):
        if not is_network_policy(policy):
            continue
        clusterwide = policy.kind == "CiliumClusterwideNetworkPolicy"
        result.setdefault(None if clusterwide else namespace_of(policy), []).append(policy)
    return result


@dataclass
class IngressIsolation:
    """The ingress-isolating selectors of a unit, indexed by namespace, then by selector:
    Kubernetes ``podSelector``s match pod labels, Cilium ``endpointSelector``s match them
    with the namespace label added. Verdicts are kept per (namespace, label set)."""

    kubernetes: dict[str, SelectorIndex] = field(default_factory=dict)
    cilium: dict[str | None, SelectorIndex] = field(default_factory=dict)
    verdicts: dict[tuple[str, LabelSet], bool] = field(default_factory=dict)

    def isolated(self, labels: dict[str, str], namespace: str) -> bool:
        """Whether some policy isolates pods with ``labels`` in ``namespace`` for ingress."""
        key = (namespace, label_set(labels))
        verdict = self.verdicts.get(key)
        if verdict is None:
            verdict = self._isolated(labels, namespace)
            self.verdicts[key] = verdict
        return verdict

    def _isolated(self, labels: dict[str, str], namespace: str) -> bool:
        index = self.kubernetes.get(namespace)
        if index is not None and index.matches(labels):
            return True
        with_namespace = {**labels, NAMESPACE_LABEL: namespace}
        return any(
            index is not None and index.matches(with_namespace)
            for index in (self.cilium.get(namespace), self.cilium.get(None))
        )


def ingress_isolation(context: UnitContext) -> IngressIsolation:
    """The unit's :class:`IngressIsolation` (built once, in one pass over its policies)."""
    return context.derived("ingress-isolation", _ingress_isolation)


def _ingress_isolation(context: UnitContext) -> IngressIsolation:
    result = IngressIsolation()
    by_namespace = context.derived("policies-by-namespace", _policies_by_namespace)
    for namespace, policies in by_namespace.items():
        for policy in policies:
            if policy.kind == "NetworkPolicy":
                assert namespace is not None
                types = policy.get("spec", "policyTypes")
                if isinstance(types, list) and "Ingress" not in types:
                    continue
                index = result.kubernetes.setdefault(namespace, SelectorIndex())
                index.add(policy.get("spec", "podSelector"))
                continue
            for rule in cilium_rules(policy):
                if _cilium_isolates_ingress(rule):
                    index = result.cilium.setdefault(namespace, SelectorIndex())
                    index.add(_strip_sources(rule.get("endpointSelector")))
    return result


def cilium_rules(policy: Resource) -> Iterator[dict[str, Any]]:
    """The rule mappings of a Cilium policy: ``spec`` and each item of ``specs``."""
    spec = policy.get("spec")
    if isinstance(spec, dict):
        yield spec
    specs = policy.get("specs")
    for item in specs if isinstance(specs, list) else []:
        if isinstance(item, dict):
            yield item


def _cilium_isolates_ingress(rule: dict[str, Any]) -> bool:
    if "endpointSelector" not in rule:
        return False  # a host (nodeSelector) policy
    default_deny = rule.get("enableDefaultDeny")
    if isinstance(default_deny, dict) and default_deny.get("ingress") is False:
        return False
    if isinstance(default_deny, dict) and default_deny.get("ingress") is True:
        return True
    return rule.get("ingress") is not None or rule.get("ingressDeny") is not None


def _strip_sources(selector: Any) -> Any:
    """A Cilium selector with label source prefixes removed from its keys."""
    if not isinstance(selector, dict):
        return selector
    result = dict(selector)
    labels = selector.get("matchLabels")
    if isinstance(labels, dict):
        result["matchLabels"] = {_key(str(k)): v for k, v in labels.items()}
    expressions = selector.get("matchExpressions")
    if isinstance(expressions, list):
        result["matchExpressions"] = [
            {**e, "key": _key(str(e.get("key")))} if isinstance(e, dict) else e for e in expressions
        ]
    return result


def _key(key: str) -> str:
    for prefix in _SOURCE_PREFIXES:
        if key.startswith(prefix):
            return key[len(prefix) :]
    return key


def cilium_selects(rule: dict[str, Any], labels: dict[str, str], namespace: str) -> bool:
    """Whether a Cilium rule's endpointSelector selects pods with ``labels`` there."""
    if "endpointSelector" not in rule:
        return False
    with_namespace = {**labels, NAMESPACE_LABEL: namespace}
    return matches_label_selector(_strip_sources(rule.get("endpointSelector")), with_namespace)


_EVERYONE = frozenset({"all", "world"})
_ANY_ADDRESS = frozenset({"0.0.0.0/0", "::/0"})


def cilium_open_peers(rule: dict[str, Any], direction: str) -> Iterator[tuple[int, str]]:
    """(index, what) of each ``ingress``/``egress`` item of a Cilium rule that admits every
    peer: the ``all``/``world`` entity or a 0.0.0.0/0 CIDR (any port list)."""
    items = rule.get(direction)
    prefix = "from" if direction == "ingress" else "to"
    for index, item in enumerate(items if isinstance(items, list) else []):
        if not isinstance(item, dict):
            continue
        entities = item.get(f"{prefix}Entities")
        if isinstance(entities, list) and _EVERYONE & {str(e) for e in entities}:
            yield index, f"{prefix}Entities {', '.join(str(e) for e in entities)}"
            continue
        cidrs = item.get(f"{prefix}CIDR")
        if isinstance(cidrs, list) and _ANY_ADDRESS & {str(c).strip() for c in cidrs}:
            yield index, f"{prefix}CIDR {', '.join(str(c) for c in cidrs)}"

"""Label selectors the API server refuses (``ValidateLabelSelector`` of apimachinery).

A ``LabelSelector``'s ``matchLabels`` keys must be qualified names and its values label
values; each ``matchExpressions`` item needs a qualified-name key, a known operator, values
for ``In``/``NotIn`` and none for ``Exists``/``DoesNotExist``
(``ValidateLabelSelectorRequirement``). The apps controllers also refuse an empty selector
(``ValidateDeploymentSpec`` and its ReplicaSet, DaemonSet and StatefulSet equivalents:
"empty selector is invalid"): it would adopt every pod of the namespace.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from klint.checks.api_names import qualified_name
from klint.checks.base import Check, Params, UnitContext, Violation
from klint.findings import FieldPath
from klint.model.resource import Resource

_LABEL_VALUE = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?")
_CONTROLLERS = frozenset({"Deployment", "ReplicaSet", "DaemonSet", "StatefulSet"})
_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")


def label_value(value: str) -> str:
    """IsValidLabelValue: at most 63 characters of the label alphabet (empty is fine)."""
    if len(value) > 63:
        return "must be no more than 63 characters"
    if not _LABEL_VALUE.fullmatch(value):
        return (
            "a valid label must be an empty string or consist of alphanumeric characters, "
            "'-', '_' or '.', and must start and end with an alphanumeric character"
        )
    return ""


def selector_problems(selector: Any, path: FieldPath) -> Iterator[Violation]:
    """What ``ValidateLabelSelector`` rejects in one selector."""
    if not isinstance(selector, dict):
        return
    labels = selector.get("matchLabels")
    for key, value in labels.items() if isinstance(labels, dict) else ():
        where = (*path, "matchLabels", str(key))
        if qualified_name(str(key)):
            yield Violation(where, f'selector label key "{key}": {qualified_name(str(key))}.')
        if isinstance(value, str) and label_value(value):
            yield Violation(where, f'selector label value "{value}": {label_value(value)}.')
    expressions = selector.get("matchExpressions")
    for index, item in enumerate(expressions if isinstance(expressions, list) else []):
        if isinstance(item, dict):
            yield from _requirement(item, (*path, "matchExpressions", index))


def _requirement(item: dict[str, Any], path: FieldPath) -> Iterator[Violation]:
    key, operator, values = item.get("key"), item.get("operator"), item.get("values")
    if isinstance(key, str) and qualified_name(key):
        yield Violation((*path, "key"), f'selector key "{key}": {qualified_name(key)}.')
    if operator in ("In", "NotIn") and not values:
        yield Violation((*path, "values"), f"values must be non-empty when operator is {operator}.")
    elif operator in ("Exists", "DoesNotExist") and values:
        yield Violation((*path, "values"), f"values must be empty when operator is {operator}.")
    elif isinstance(operator, str) and operator not in _OPERATORS:
        yield Violation(
            (*path, "operator"),
            f'"{operator}" is not a valid selector operator ({", ".join(_OPERATORS)}).',
        )
    for number, value in enumerate(values if isinstance(values, list) else []):
        if isinstance(value, str) and label_value(value):
            yield Violation((*path, "values", number), f'value "{value}": {label_value(value)}.')


def _is_empty(selector: dict[str, Any]) -> bool:
    return not selector.get("matchLabels") and not selector.get("matchExpressions")


def _selectors(resource: Resource) -> Iterator[tuple[Any, FieldPath]]:
    """The ``LabelSelector``s of the built-in kinds that have them."""
    group, kind = resource.group, resource.kind
    if kind == "NetworkPolicy" and group == "networking.k8s.io":
        yield resource.get("spec", "podSelector"), ("spec", "podSelector")
        for direction, peers in (("ingress", "from"), ("egress", "to")):
            rules = resource.get("spec", direction)
            for index, rule in enumerate(rules if isinstance(rules, list) else []):
                items = rule.get(peers) if isinstance(rule, dict) else None
                for number, peer in enumerate(items if isinstance(items, list) else []):
                    for key in ("podSelector", "namespaceSelector"):
                        if isinstance(peer, dict) and key in peer:
                            yield peer[key], ("spec", direction, index, peers, number, key)
    elif (kind in _CONTROLLERS and group == "apps") or (
        kind in ("Job", "PodDisruptionBudget") and group in ("batch", "policy")
    ):
        yield resource.get("spec", "selector"), ("spec", "selector")


def invalid_label_selector(resource: Resource, _: UnitContext, __: Params) -> Iterator[Violation]:
    """ValidateLabelSelector on built-in selectors; an empty controller selector."""
    for selector, path in _selectors(resource):
        yield from selector_problems(selector, path)
        controller = resource.kind in _CONTROLLERS and resource.group == "apps"
        if controller and isinstance(selector, dict) and _is_empty(selector):
            yield Violation(
                path,
                f"empty selector is invalid for {resource.kind.lower()}: it would select "
                "every pod of the namespace; match the template's labels.",
            )


CHECKS = (
    Check(
        "api-invalid-label-selector", invalid_label_selector, invalid_label_selector.__doc__ or ""
    ),
)

"""Label selectors and the pod templates they can match, for cross-object checks.

Kubernetes has two selector shapes: the plain map of Services and ReplicationControllers
(``{app: web}``) and ``LabelSelector`` (``matchLabels`` + ``matchExpressions`` with
``In``/``NotIn``/``Exists``/``DoesNotExist``). Both are evaluated here, over the pod
templates of the same lint unit; a malformed selector matches nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from klint.checks.base import UnitContext
from klint.model import PodView, pod_view
from klint.model.resource import Resource


@dataclass(frozen=True)
class PodTemplate:
    """A workload's pod template: its namespace and labels."""

    resource: Resource
    pod: PodView
    namespace: str
    labels: dict[str, str]


def namespace_of(resource: Resource) -> str:
    """The object's namespace; ``default`` when unset, as ``kubectl apply`` would use."""
    return resource.namespace or "default"


def pod_labels(pod: PodView) -> dict[str, str]:
    """The labels of a pod template (string keys and values only)."""
    labels = pod.metadata.get("labels")
    if not isinstance(labels, dict):
        return {}
    return {str(k): "" if v is None else str(v) for k, v in labels.items()}


def pod_templates(context: UnitContext) -> list[PodTemplate]:
    """Every workload pod template in the unit, in input order (computed once per unit)."""
    return context.derived("pod-templates", _pod_templates)


def _pod_templates(context: UnitContext) -> list[PodTemplate]:
    result = []
    for resource in context.resources:
        pod = pod_view(resource)
        if pod is not None:
            result.append(PodTemplate(resource, pod, namespace_of(resource), pod_labels(pod)))
    return result


# Labels that controllers add to the pods they create (not in the template): a selector on
# them (e.g. one Service per StatefulSet pod) is judged by its other keys only.
GENERATED_LABELS = frozenset(
    {
        "statefulset.kubernetes.io/pod-name",
        "apps.kubernetes.io/pod-index",
        "pod-template-hash",
        "controller-revision-hash",
        "controller-uid",
        "job-name",
        "batch.kubernetes.io/controller-uid",
        "batch.kubernetes.io/job-name",
        "batch.kubernetes.io/job-completion-index",
        "rollouts-pod-template-hash",
    }
)


def matches_map(selector: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    """A plain ``{key: value}`` selector (Service, ReplicationController)."""
    return all(
        labels.get(str(k)) == ("" if v is None else str(v))
        for k, v in selector.items()
        if str(k) not in GENERATED_LABELS
    )


def matches_label_selector(selector: Any, labels: Mapping[str, str]) -> bool:
    """A ``LabelSelector``; ``{}`` matches everything, a non-mapping matches nothing."""
    if not isinstance(selector, dict):
        return False
    match_labels = selector.get("matchLabels")
    if match_labels is not None and (
        not isinstance(match_labels, dict) or not matches_map(match_labels, labels)
    ):
        return False
    expressions = selector.get("matchExpressions")
    if expressions is None:
        return True
    if not isinstance(expressions, list):
        return False
    return all(_matches_expression(expression, labels) for expression in expressions)


def _matches_expression(expression: Any, labels: Mapping[str, str]) -> bool:
    if not isinstance(expression, dict):
        return False
    key = str(expression.get("key"))
    if key in GENERATED_LABELS:
        return True
    operator = expression.get("operator")
    raw_values = expression.get("values")
    values = {str(v) for v in raw_values} if isinstance(raw_values, list) else set()
    if operator == "In":
        return key in labels and labels[key] in values
    if operator == "NotIn":
        return key not in labels or labels[key] not in values
    if operator == "Exists":
        return key in labels
    if operator == "DoesNotExist":
        return key not in labels
    return False


LabelSet = frozenset[tuple[str, str]]


def label_set(labels: Mapping[str, str]) -> LabelSet:
    """A hashable form of a label map (templates with equal labels are judged once)."""
    return frozenset(labels.items())


def _templates_by_labels(context: UnitContext) -> dict[str, dict[LabelSet, list[PodTemplate]]]:
    result: dict[str, dict[LabelSet, list[PodTemplate]]] = {}
    for template in pod_templates(context):
        group = result.setdefault(template.namespace, {})
        group.setdefault(label_set(template.labels), []).append(template)
    return result


def has_templates(context: UnitContext, namespace: str) -> bool:
    """Whether the unit has a pod template in ``namespace``."""
    return namespace in context.derived("templates-by-labels", _templates_by_labels)


def label_groups(context: UnitContext) -> Iterator[tuple[str, dict[str, str]]]:
    """(namespace, labels) of each distinct label set of the unit's pod templates."""
    for namespace, groups in context.derived("templates-by-labels", _templates_by_labels).items():
        for templates in groups.values():
            yield namespace, templates[0].labels


def selector_key(selector: Any) -> str:
    """A canonical text of a selector: equal selectors (aliases too) share one verdict."""
    return json.dumps(selector, sort_keys=True, default=str)


def selected_templates(
    context: UnitContext, namespace: str, selector: Any, *, plain: bool = False
) -> Iterator[PodTemplate]:
    """Pod templates in ``namespace`` that ``selector`` matches (``plain``: a map selector).

    Each distinct label set of the namespace is matched once per distinct selector (the
    verdicts are kept for the unit), so a thousand aliased Services or policies over a
    thousand aliased workloads cost a thousand lookups, not a million matches.
    """
    groups = context.derived("templates-by-labels", _templates_by_labels).get(namespace, {})
    memo: dict[tuple[str, bool, str], list[LabelSet]] = context.derived(
        "selector-verdicts", lambda _: {}
    )
    key = (namespace, plain, selector_key(selector))
    matched = memo.get(key)
    if matched is None:
        matched = []
        for labels in _candidates(context, namespace, selector, plain):
            templates = groups[labels]
            sample = templates[0].labels
            if plain:
                if isinstance(selector, dict) and selector and matches_map(selector, sample):
                    matched.append(labels)
            elif matches_label_selector(selector, sample):
                matched.append(labels)
        memo[key] = matched
    for labels in matched:
        yield from groups[labels]


def _pairs_index(context: UnitContext) -> dict[str, dict[tuple[str, str], list[LabelSet]]]:
    result: dict[str, dict[tuple[str, str], list[LabelSet]]] = {}
    for namespace, groups in context.derived("templates-by-labels", _templates_by_labels).items():
        index = result.setdefault(namespace, {})
        for labels in groups:
            for pair in labels:
                index.setdefault(pair, []).append(labels)
    return result


def _candidates(context: UnitContext, namespace: str, selector: Any, plain: bool) -> list[LabelSet]:
    """The label sets of ``namespace`` that can match: those holding one required pair of
    the selector, or all of them when it requires none."""
    required = (
        selector if plain else selector.get("matchLabels") if isinstance(selector, dict) else None
    )
    pairs = sorted(
        (str(k), "" if v is None else str(v))
        for k, v in (required.items() if isinstance(required, dict) else ())
        if str(k) not in GENERATED_LABELS
    )
    if pairs:
        return context.derived("label-pairs", _pairs_index).get(namespace, {}).get(pairs[0], [])
    groups = context.derived("templates-by-labels", _templates_by_labels).get(namespace, {})
    return list(groups)


class SelectorIndex:
    """``LabelSelector``s indexed by one ``matchLabels`` pair: the selectors that match a
    label set are found by looking up its pairs (plus the few without ``matchLabels``),
    and equal selectors are matched once."""

    def __init__(self) -> None:
        self._by_pair: dict[tuple[str, str], dict[str, Any]] = {}
        self._scan: dict[str, Any] = {}
        self.size = 0

    def add(self, selector: Any) -> None:
        """Index one selector (a malformed one is kept and matches nothing)."""
        self.size += 1
        key = selector_key(selector)
        labels = selector.get("matchLabels") if isinstance(selector, dict) else None
        pairs = sorted(
            (str(k), "" if v is None else str(v))
            for k, v in (labels.items() if isinstance(labels, dict) else ())
            if str(k) not in GENERATED_LABELS
        )
        bucket = self._by_pair.setdefault(pairs[0], {}) if pairs else self._scan
        bucket.setdefault(key, selector)

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Whether any indexed selector matches ``labels``."""
        candidates = list(self._scan.values())
        for pair in labels.items():
            candidates.extend(self._by_pair.get(pair, {}).values())
        return any(matches_label_selector(selector, labels) for selector in candidates)

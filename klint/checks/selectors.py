"""Label selectors and the pod templates they can match, for cross-object checks.

Kubernetes has two selector shapes: the plain map of Services and ReplicationControllers
(``{app: web}``) and ``LabelSelector`` (``matchLabels`` + ``matchExpressions`` with
``In``/``NotIn``/``Exists``/``DoesNotExist``). Both are evaluated here, over the pod
templates of the same lint unit; a malformed selector matches nothing.
"""

from __future__ import annotations

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


def templates_in(context: UnitContext, namespace: str) -> list[PodTemplate]:
    """The unit's pod templates in ``namespace``, in input order (indexed once per unit)."""
    return _template_index(context).get((namespace,), [])


def template_of(context: UnitContext, resource: Resource) -> PodTemplate | None:
    """The pod template of a workload of the unit."""
    found = _template_index(context).get(("id", id(resource)), [])
    return found[0] if found else None


def _template_index(context: UnitContext) -> dict[tuple[Any, ...], list[PodTemplate]]:
    def build(context: UnitContext) -> dict[tuple[Any, ...], list[PodTemplate]]:
        index: dict[tuple[Any, ...], list[PodTemplate]] = {}
        for template in pod_templates(context):
            index.setdefault(("id", id(template.resource)), []).append(template)
            index.setdefault((template.namespace,), []).append(template)
            for key, value in template.labels.items():
                index.setdefault((template.namespace, key, value), []).append(template)
        return index

    return context.derived("pod-template-index", build)


def _candidates(context: UnitContext, namespace: str, required: Any) -> list[PodTemplate]:
    """Templates of ``namespace`` that may match: those with the rarest required label."""
    index = _template_index(context)
    buckets = [
        index.get((namespace, str(key), "" if value is None else str(value)), [])
        for key, value in (required.items() if isinstance(required, dict) else ())
        if str(key) not in GENERATED_LABELS
    ]
    return min(buckets, key=len) if buckets else index.get((namespace,), [])


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


def selected_templates(
    context: UnitContext, namespace: str, selector: Any, *, plain: bool = False
) -> Iterator[PodTemplate]:
    """Pod templates in ``namespace`` that ``selector`` matches (``plain``: a map selector).

    Only templates that carry one of the selector's required labels are tried (an index of
    the unit's templates by namespace and label), so a selector costs its candidates, not
    every template of the unit.
    """
    required = (
        selector if plain else (selector.get("matchLabels") if isinstance(selector, dict) else None)
    )
    for template in _candidates(context, namespace, required):
        if plain:
            if isinstance(selector, dict) and selector and matches_map(selector, template.labels):
                yield template
        elif matches_label_selector(selector, template.labels):
            yield template

"""Workload reliability: replicas, disruption budgets, autoscalers, selectors, spreading.

These are availability concerns rather than security ones; their rules are notes or
warnings outside the default profile unless a mistake breaks the workload outright.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from klint.checks.base import Check, Params, UnitContext, Violation
from klint.checks.selectors import (
    has_templates,
    matches_label_selector,
    matches_map,
    namespace_of,
    pod_labels,
    pod_templates,
    selected_templates,
)
from klint.model import pod_view
from klint.model.resource import Resource

REPLICATED = frozenset({"Deployment", "StatefulSet", "ReplicaSet", "Rollout", "DeploymentConfig"})


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _hpa_targets(context: UnitContext, resource: Resource) -> bool:
    namespace = namespace_of(resource)
    for hpa in context.of_kind("HorizontalPodAutoscaler"):
        ref = hpa.get("spec", "scaleTargetRef")
        if (
            isinstance(ref, dict)
            and ref.get("kind") == resource.kind
            and ref.get("name") == resource.name
            and namespace_of(hpa) == namespace
        ):
            return True
    return False


def _replicas(resource: Resource) -> int:
    value = resource.get("spec", "replicas")
    return int(value) if _is_int(value) else 1


def single_replica(resource: Resource, context: UnitContext, _: Params) -> Iterator[Violation]:
    """Replicated workloads running one replica (explicitly or by default), not autoscaled."""
    if resource.kind not in REPLICATED or pod_view(resource) is None:
        return
    if _replicas(resource) == 1 and not _hpa_targets(context, resource):
        yield Violation(
            ("spec", "replicas"),
            f'{resource.kind} "{resource.name}" runs a single replica.',
        )


def replicas_with_hpa(resource: Resource, context: UnitContext, _: Params) -> Iterator[Violation]:
    """Workloads that set ``spec.replicas`` while an HPA scales them (each apply resets it)."""
    if resource.kind not in REPLICATED or resource.get("spec", "replicas") is None:
        return
    if _hpa_targets(context, resource):
        yield Violation(
            ("spec", "replicas"),
            f'{resource.kind} "{resource.name}" sets spec.replicas although a '
            "HorizontalPodAutoscaler scales it: every apply resets the replica count.",
        )


def _pdbs(context: UnitContext, namespace: str) -> list[Resource]:
    return [p for p in context.of_kind("PodDisruptionBudget") if namespace_of(p) == namespace]


def missing_pdb(resource: Resource, context: UnitContext, _: Params) -> Iterator[Violation]:
    """Workloads with several replicas (or an HPA) that no PodDisruptionBudget selects."""
    pod = pod_view(resource)
    if pod is None or resource.kind not in REPLICATED:
        return
    if _replicas(resource) < 2 and not _hpa_targets(context, resource):
        return
    labels = pod_labels(pod)
    pdbs = _pdbs(context, namespace_of(resource))
    if not any(matches_label_selector(p.get("spec", "selector"), labels) for p in pdbs):
        yield Violation(
            (*pod.metadata_path, "labels"),
            f'{resource.kind} "{resource.name}" has no PodDisruptionBudget selecting its pods.',
        )


def _percent(value: Any) -> int | None:
    if isinstance(value, str) and value.endswith("%") and value[:-1].strip().isdigit():
        return int(value[:-1])
    return None


def pdb_blocks_eviction(resource: Resource, context: UnitContext, _: Params) -> Iterator[Violation]:
    """PDBs that allow no voluntary disruption: maxUnavailable 0, or minAvailable ≥ replicas."""
    if resource.kind != "PodDisruptionBudget":
        return
    name = f'PodDisruptionBudget "{resource.name}"'
    max_unavailable = resource.get("spec", "maxUnavailable")
    if (max_unavailable == 0 and _is_int(max_unavailable)) or _percent(max_unavailable) == 0:
        yield Violation(
            ("spec", "maxUnavailable"),
            f"{name} sets maxUnavailable to {max_unavailable}: no pod can ever be evicted.",
        )
        return
    min_available = resource.get("spec", "minAvailable")
    if _percent(min_available) == 100:
        yield Violation(
            ("spec", "minAvailable"),
            f"{name} sets minAvailable to 100%: no pod can ever be evicted.",
        )
    elif _is_int(min_available):
        namespace = namespace_of(resource)
        selector = resource.get("spec", "selector")
        targets = [
            t.resource
            for t in selected_templates(context, namespace, selector)
            if t.resource.kind in REPLICATED
        ]
        total = sum(_replicas(t) for t in targets)
        if targets and min_available >= total:
            yield Violation(
                ("spec", "minAvailable"),
                f"{name} sets minAvailable to {min_available} but the pods it selects have "
                f"{total} replicas: no pod can ever be evicted.",
            )


def pdb_selects_nothing(resource: Resource, context: UnitContext, _: Params) -> Iterator[Violation]:
    """PDBs whose selector matches no pod template of their namespace in the unit."""
    if resource.kind != "PodDisruptionBudget":
        return
    namespace = namespace_of(resource)
    if not has_templates(context, namespace):
        return
    if next(selected_templates(context, namespace, resource.get("spec", "selector")), None):
        return
    yield Violation(
        ("spec", "selector"),
        f'PodDisruptionBudget "{resource.name}" selects no pod template in namespace '
        f'"{namespace}" of this input.',
    )


def dangling_hpa(resource: Resource, context: UnitContext, _: Params) -> Iterator[Violation]:
    """HPAs whose scaleTargetRef names no object of the unit (only if it has workloads)."""
    if resource.kind != "HorizontalPodAutoscaler" or not pod_templates(context):
        return
    ref = resource.get("spec", "scaleTargetRef")
    if not isinstance(ref, dict):
        return
    kind, name = ref.get("kind"), ref.get("name")
    namespace = namespace_of(resource)
    for target in context.of_kind(str(kind)):
        if target.name == name and namespace_of(target) == namespace:
            return
    yield Violation(
        ("spec", "scaleTargetRef"),
        f'HorizontalPodAutoscaler "{resource.name}" scales {kind} "{name}", which is not in '
        f'namespace "{namespace}" of this input.',
    )


def selector_mismatch(resource: Resource, _: UnitContext, __: Params) -> Iterator[Violation]:
    """Workload selectors that do not match their own pod template's labels."""
    pod = pod_view(resource)
    if pod is None or resource.kind in ("Pod", "PodTemplate", "CronJob"):
        return
    selector = resource.get("spec", "selector")
    if selector is None:
        return  # Jobs generate one; older APIs defaulted it from the template labels
    labels = pod_labels(pod)
    plain = resource.kind in ("ReplicationController", "DeploymentConfig")
    if isinstance(selector, dict) and (
        matches_map(selector, labels) if plain else matches_label_selector(selector, labels)
    ):
        return
    yield Violation(
        ("spec", "selector"),
        f'{resource.kind} "{resource.name}" has a selector that does not match the labels of '
        "its own pod template.",
    )


def _spreads_own_pods(term: Any, labels: dict[str, str], namespace: str) -> bool:
    """An anti-affinity term that repels the workload's own pods: its selector matches their
    labels and its namespaces include theirs (unset: the pod's own; a namespaceSelector
    ``{}`` means every namespace; other namespaceSelectors are given the benefit of doubt)."""
    if isinstance(term, dict) and isinstance(term.get("podAffinityTerm"), dict):
        term = term["podAffinityTerm"]  # a preferred (weighted) term
    if not isinstance(term, dict) or not term.get("topologyKey"):
        return False
    if not matches_label_selector(term.get("labelSelector"), labels):
        return False
    namespaces = term.get("namespaces")
    if isinstance(namespaces, list) and namespaces:
        return namespace in [str(n) for n in namespaces] or term.get("namespaceSelector") == {}
    return True


def missing_anti_affinity(resource: Resource, _: UnitContext, __: Params) -> Iterator[Violation]:
    """Workloads with several replicas and no pod anti-affinity (on their own pods, in their
    own namespace) or topology spread."""
    pod = pod_view(resource)
    if pod is None or resource.kind not in REPLICATED or _replicas(resource) < 2:
        return
    if pod.get("topologySpreadConstraints"):
        return
    anti = pod.get("affinity", "podAntiAffinity")
    terms: list[Any] = []
    for key in (
        "requiredDuringSchedulingIgnoredDuringExecution",
        "preferredDuringSchedulingIgnoredDuringExecution",
    ):
        value = anti.get(key) if isinstance(anti, dict) else None
        terms.extend(value if isinstance(value, list) else [])
    labels, namespace = pod_labels(pod), namespace_of(resource)
    if any(_spreads_own_pods(term, labels, namespace) for term in terms):
        return
    detail = (
        "pod anti-affinity that does not apply to its own pods in its namespace"
        if terms
        else "no pod anti-affinity"
    )
    yield Violation(
        (*pod.path, "affinity"),
        f'{resource.kind} "{resource.name}" runs {_replicas(resource)} replicas with {detail} '
        "or topology spread: they may all land on one node.",
    )


def naked_pod(resource: Resource, _: UnitContext, __: Params) -> Iterator[Violation]:
    """Bare Pods that no controller recreates."""
    if resource.kind == "Pod" and resource.api_version == "v1":
        yield Violation(("kind",), f'Pod "{resource.name}" is not managed by a controller.')


CHECKS = (
    Check("single-replica", single_replica, "Replicated workloads with one replica."),
    Check("replicas-with-hpa", replicas_with_hpa, "Static replicas on autoscaled workloads."),
    Check("missing-pdb", missing_pdb, "Replicated workloads without a PodDisruptionBudget."),
    Check("pdb-blocks-eviction", pdb_blocks_eviction, "PDBs that allow no eviction."),
    Check("pdb-selects-nothing", pdb_selects_nothing, "PDBs selecting no pod template."),
    Check("dangling-hpa", dangling_hpa, "HPAs targeting missing objects."),
    Check(
        "selector-mismatch",
        selector_mismatch,
        "Workload selectors not matching their pod template.",
    ),
    Check(
        "missing-anti-affinity",
        missing_anti_affinity,
        "Replicated workloads without anti-affinity.",
    ),
    Check("naked-pod", naked_pod, "Pods without a controller."),
)

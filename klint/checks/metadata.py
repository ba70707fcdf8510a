"""Metadata hygiene: namespaces, recommended labels and label values the API rejects."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from klint.checks.base import Check, Params, UnitContext, Violation
from klint.findings import FieldPath
from klint.model import pod_view
from klint.model.builtin import cluster_created
from klint.model.resource import Resource

# Built-in kinds that live in a namespace (unknown and cluster-scoped kinds are skipped).
NAMESPACED_KINDS = frozenset(
    {
        "Pod",
        "PodTemplate",
        "ReplicationController",
        "Deployment",
        "StatefulSet",
        "DaemonSet",
        "ReplicaSet",
        "Job",
        "CronJob",
        "Service",
        "ConfigMap",
        "Secret",
        "ServiceAccount",
        "Role",
        "RoleBinding",
        "Ingress",
        "NetworkPolicy",
        "PodDisruptionBudget",
        "HorizontalPodAutoscaler",
        "PersistentVolumeClaim",
        "LimitRange",
        "ResourceQuota",
        "Endpoints",
        "EndpointSlice",
        "Lease",
        "Rollout",
    }
)
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")


def namespace_use(resource: Resource, _: UnitContext, params: Params) -> Iterator[Violation]:
    """Namespaced objects in one of ``namespaces`` ("" stands for no namespace set).

    Objects the cluster creates itself (the ``kubernetes`` Service, ``default``
    ServiceAccounts) are where Kubernetes puts them and are skipped.
    """
    if resource.kind not in NAMESPACED_KINDS or cluster_created(resource):
        return
    namespace = resource.namespace
    if namespace not in [str(n) for n in params["namespaces"]]:
        return
    if namespace:
        yield Violation(
            ("metadata", "namespace"),
            f'{resource.kind} "{resource.name}" is placed in namespace "{namespace}".',
        )
    else:
        yield Violation(
            ("metadata", "namespace"),
            f'{resource.kind} "{resource.name}" sets no namespace, so it lands in the '
            "current (often the default) namespace.",
        )


def missing_labels(resource: Resource, _: UnitContext, params: Params) -> Iterator[Violation]:
    """Workloads whose metadata lacks any of the required ``labels``."""
    if pod_view(resource) is None:
        return
    missing = [str(k) for k in params["labels"] if str(k) not in resource.labels]
    if missing:
        yield Violation(
            ("metadata", "labels"),
            f'{resource.kind} "{resource.name}" lacks the label{"s" if len(missing) > 1 else ""} '
            f"{', '.join(missing)}.",
        )


def _label_maps(resource: Resource) -> Iterator[tuple[Any, FieldPath]]:
    yield resource.metadata.get("labels"), ("metadata", "labels")
    pod = pod_view(resource)
    if pod is not None and pod.metadata_path != ("metadata",):
        yield pod.metadata.get("labels"), (*pod.metadata_path, "labels")


def invalid_label_value(resource: Resource, _: UnitContext, __: Params) -> Iterator[Violation]:
    """Label values that are not strings or break the 63-character label syntax."""
    for labels, path in _label_maps(resource):
        if not isinstance(labels, dict):
            continue
        for key, value in labels.items():
            if value is None:
                continue
            where = (*path, str(key))
            if not isinstance(value, str):
                yield Violation(
                    where,
                    f'label "{key}" has the non-string value {value!r}: quote it, the API '
                    "server rejects it otherwise.",
                )
            elif len(value) > 63 or not _LABEL_VALUE.match(value):
                yield Violation(where, f'label "{key}" has the invalid value "{value}".')


CHECKS = (
    Check(
        "namespace-use",
        namespace_use,
        "Objects in (or defaulting to) a given namespace.",
        {
            "type": "object",
            "additionalProperties": False,
            "required": ["namespaces"],
            "properties": {"namespaces": {"type": "array", "items": {"type": "string"}}},
        },
    ),
    Check(
        "missing-labels",
        missing_labels,
        "Workloads without required labels.",
        {
            "type": "object",
            "additionalProperties": False,
            "properties": {"labels": {"type": "array", "items": {"type": "string"}, "minItems": 1}},
        },
        {"labels": ["app.kubernetes.io/name"]},
    ),
    Check("invalid-label-value", invalid_label_value, "Label values the API server rejects."),
)

"""Metadata hygiene: namespaces, recommended labels and label values the API rejects."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from klint.checks.base import Check, Params, UnitContext, Violation
from klint.findings import FieldPath, Severity
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


def _object_key(resource: Resource) -> tuple[str, str, str, str] | None:
    """What identifies an object in the cluster: group, kind, namespace, name."""
    name = resource.metadata.get("name")
    if not isinstance(name, str) or not name or not resource.kind:
        return None
    namespace = resource.namespace or ("" if resource.kind not in NAMESPACED_KINDS else "default")
    return (resource.group, resource.kind, namespace, name)


def _objects_by_key(context: UnitContext) -> dict[tuple[str, str, str, str], list[Resource]]:
    result: dict[tuple[str, str, str, str], list[Resource]] = {}
    for resource in context.resources:
        key = _object_key(resource)
        if key is not None:
            result.setdefault(key, []).append(resource)
    return result


def duplicate_object(resource: Resource, context: UnitContext, _: Params) -> Iterator[Violation]:
    """Objects defined more than once in the unit (same group, kind, namespace and name).

    Every definition is reported (file names stay out of the message, which a pull request
    could use to forge CI output; each finding is the location). Within one file both are
    always applied: a warning. Across files of a folder they may be alternatives applied
    one at a time (sample folders, ``app-dev.yaml``/``app-prod.yaml``): a note.
    """
    key = _object_key(resource)
    if key is None:
        return
    same = context.derived("objects-by-key", _objects_by_key)[key]
    if len(same) < 2:
        return
    where = f' in namespace "{key[2]}"' if key[2] else ""
    label = f'{resource.kind} "{key[3]}"{where}'
    files = {other.document.path for other in same}
    if len(files) == 1:
        yield Violation(
            ("metadata", "name"),
            f"{label} is defined {len(same)} times in this file (each definition is "
            "reported): the cluster keeps whichever is applied last.",
        )
        return
    yield Violation(
        ("metadata", "name"),
        f"{label} is defined in {len(files)} files of this input (each definition is "
        "reported): applied together, the cluster keeps whichever comes last; if they are "
        "alternatives, keep them in separate folders.",
        severity=Severity.NOTE,
    )


CHECKS = (
    Check("duplicate-object", duplicate_object, "Objects defined twice in one input."),
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

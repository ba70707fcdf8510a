"""Deprecated and removed Kubernetes API versions, by kind (from the upstream guide).

Source: the Kubernetes "Deprecated API Migration Guide" and release notes, 1.16 onward.
``deprecated``/``removed`` are the (major, minor) releases; ``removed`` is None for APIs
that are deprecated with no removal scheduled.
"""

from __future__ import annotations

from dataclasses import dataclass

Version = tuple[int, int]


@dataclass(frozen=True)
class Deprecation:
    """One apiVersion of one kind: when it was deprecated/removed and what replaces it."""

    api_version: str
    kind: str
    deprecated: Version
    removed: Version | None
    replacement: str


def _entries(
    api_version: str, kinds: str, deprecated: Version, removed: Version | None, replacement: str
) -> list[Deprecation]:
    return [
        Deprecation(api_version, kind, deprecated, removed, replacement) for kind in kinds.split()
    ]


_TABLE: list[Deprecation] = [
    # 1.16
    *_entries("extensions/v1beta1", "Deployment DaemonSet ReplicaSet", (1, 9), (1, 16), "apps/v1"),
    *_entries(
        "apps/v1beta1",
        "Deployment StatefulSet ReplicaSet ControllerRevision",
        (1, 9),
        (1, 16),
        "apps/v1",
    ),
    *_entries(
        "apps/v1beta2",
        "Deployment StatefulSet DaemonSet ReplicaSet ControllerRevision",
        (1, 9),
        (1, 16),
        "apps/v1",
    ),
    *_entries("extensions/v1beta1", "NetworkPolicy", (1, 9), (1, 16), "networking.k8s.io/v1"),
    *_entries(
        "extensions/v1beta1",
        "PodSecurityPolicy",
        (1, 10),
        (1, 16),
        "Pod Security Admission (policy/v1beta1 until 1.25)",
    ),
    # 1.22
    *_entries("extensions/v1beta1", "Ingress", (1, 14), (1, 22), "networking.k8s.io/v1"),
    *_entries(
        "networking.k8s.io/v1beta1",
        "Ingress IngressClass",
        (1, 19),
        (1, 22),
        "networking.k8s.io/v1",
    ),
    *_entries(
        "apiextensions.k8s.io/v1beta1",
        "CustomResourceDefinition",
        (1, 16),
        (1, 22),
        "apiextensions.k8s.io/v1",
    ),
    *_entries(
        "admissionregistration.k8s.io/v1beta1",
        "MutatingWebhookConfiguration ValidatingWebhookConfiguration",
        (1, 16),
        (1, 22),
        "admissionregistration.k8s.io/v1",
    ),
    *_entries(
        "apiregistration.k8s.io/v1beta1",
        "APIService",
        (1, 19),
        (1, 22),
        "apiregistration.k8s.io/v1",
    ),
    *_entries(
        "authentication.k8s.io/v1beta1", "TokenReview", (1, 19), (1, 22), "authentication.k8s.io/v1"
    ),
    *_entries(
        "authorization.k8s.io/v1beta1",
        "SubjectAccessReview LocalSubjectAccessReview SelfSubjectAccessReview "
        "SelfSubjectRulesReview",
        (1, 19),
        (1, 22),
        "authorization.k8s.io/v1",
    ),
    *_entries(
        "certificates.k8s.io/v1beta1",
        "CertificateSigningRequest",
        (1, 19),
        (1, 22),
        "certificates.k8s.io/v1",
    ),
    *_entries("coordination.k8s.io/v1beta1", "Lease", (1, 19), (1, 22), "coordination.k8s.io/v1"),
    *_entries(
        "rbac.authorization.k8s.io/v1beta1",
        "ClusterRole ClusterRoleBinding Role RoleBinding",
        (1, 17),
        (1, 22),
        "rbac.authorization.k8s.io/v1",
    ),
    *_entries(
        "rbac.authorization.k8s.io/v1alpha1",
        "ClusterRole ClusterRoleBinding Role RoleBinding",
        (1, 17),
        (1, 22),
        "rbac.authorization.k8s.io/v1",
    ),
    *_entries(
        "scheduling.k8s.io/v1beta1", "PriorityClass", (1, 14), (1, 22), "scheduling.k8s.io/v1"
    ),
    *_entries(
        "scheduling.k8s.io/v1alpha1", "PriorityClass", (1, 14), (1, 17), "scheduling.k8s.io/v1"
    ),
    *_entries(
        "storage.k8s.io/v1beta1",
        "CSIDriver CSINode StorageClass VolumeAttachment",
        (1, 19),
        (1, 22),
        "storage.k8s.io/v1",
    ),
    # 1.25
    *_entries("batch/v1beta1", "CronJob", (1, 21), (1, 25), "batch/v1"),
    *_entries("discovery.k8s.io/v1beta1", "EndpointSlice", (1, 21), (1, 25), "discovery.k8s.io/v1"),
    *_entries("events.k8s.io/v1beta1", "Event", (1, 21), (1, 25), "events.k8s.io/v1"),
    *_entries("autoscaling/v2beta1", "HorizontalPodAutoscaler", (1, 22), (1, 25), "autoscaling/v2"),
    *_entries("policy/v1beta1", "PodDisruptionBudget", (1, 21), (1, 25), "policy/v1"),
    *_entries(
        "policy/v1beta1",
        "PodSecurityPolicy",
        (1, 21),
        (1, 25),
        "Pod Security Admission (namespace labels pod-security.kubernetes.io/*)",
    ),
    *_entries("node.k8s.io/v1beta1", "RuntimeClass", (1, 22), (1, 25), "node.k8s.io/v1"),
    # 1.26
    *_entries("autoscaling/v2beta2", "HorizontalPodAutoscaler", (1, 23), (1, 26), "autoscaling/v2"),
    *_entries(
        "flowcontrol.apiserver.k8s.io/v1beta1",
        "FlowSchema PriorityLevelConfiguration",
        (1, 23),
        (1, 26),
        "flowcontrol.apiserver.k8s.io/v1 (v1beta3 before 1.29)",
    ),
    # 1.27
    *_entries(
        "storage.k8s.io/v1beta1", "CSIStorageCapacity", (1, 24), (1, 27), "storage.k8s.io/v1"
    ),
    # 1.29
    *_entries(
        "flowcontrol.apiserver.k8s.io/v1beta2",
        "FlowSchema PriorityLevelConfiguration",
        (1, 26),
        (1, 29),
        "flowcontrol.apiserver.k8s.io/v1 (v1beta3 before 1.29)",
    ),
    # 1.32
    *_entries(
        "flowcontrol.apiserver.k8s.io/v1beta3",
        "FlowSchema PriorityLevelConfiguration",
        (1, 29),
        (1, 32),
        "flowcontrol.apiserver.k8s.io/v1",
    ),
    # Deprecated, no removal scheduled.
    *_entries("v1", "Endpoints", (1, 33), None, "discovery.k8s.io/v1 EndpointSlice"),
]

DEPRECATIONS: dict[tuple[str, str], Deprecation] = {(d.api_version, d.kind): d for d in _TABLE}

# Kinds that no longer exist in any version: every object of the kind is a removed API.
REMOVED_KINDS: dict[str, Deprecation] = {
    "PodSecurityPolicy": DEPRECATIONS[("policy/v1beta1", "PodSecurityPolicy")],
}


def lookup(api_version: str, kind: str) -> Deprecation | None:
    """The deprecation entry for this apiVersion and kind, if any."""
    found = DEPRECATIONS.get((api_version, kind))
    if found is None and kind in REMOVED_KINDS:
        return REMOVED_KINDS[kind]
    return found


def version_text(version: Version) -> str:
    """``(1, 22)`` → ``"1.22"``."""
    return f"{version[0]}.{version[1]}"

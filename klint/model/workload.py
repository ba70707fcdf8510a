"""Where pod templates live in each workload kind, and helpers to walk their containers.

This is the one place that knows these paths. Checks ask for a :class:`PodView` and
iterate :func:`containers`; every value they read is type-checked here, so malformed
objects (a string where a list belongs, nulls) never reach a check as a surprise.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from klint.findings import FieldPath
from klint.model.resource import Resource, dig

# (group, kind) → (path of the pod spec, path of the pod metadata), relative to the object.
_TEMPLATE = (("spec", "template", "spec"), ("spec", "template", "metadata"))
POD_TEMPLATE_PATHS: dict[tuple[str, str], tuple[FieldPath, FieldPath]] = {
    ("", "Pod"): (("spec",), ("metadata",)),
    ("", "PodTemplate"): (("template", "spec"), ("template", "metadata")),
    ("", "ReplicationController"): _TEMPLATE,
    ("apps", "Deployment"): _TEMPLATE,
    ("apps", "StatefulSet"): _TEMPLATE,
    ("apps", "DaemonSet"): _TEMPLATE,
    ("apps", "ReplicaSet"): _TEMPLATE,
    ("extensions", "Deployment"): _TEMPLATE,
    ("extensions", "DaemonSet"): _TEMPLATE,
    ("extensions", "ReplicaSet"): _TEMPLATE,
    ("batch", "Job"): _TEMPLATE,
    ("batch", "CronJob"): (
        ("spec", "jobTemplate", "spec", "template", "spec"),
        ("spec", "jobTemplate", "spec", "template", "metadata"),
    ),
    # Custom resources that embed a plain pod template.
    ("argoproj.io", "Rollout"): _TEMPLATE,
    ("apps.openshift.io", "DeploymentConfig"): _TEMPLATE,
}

CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")

# API groups whose workload kinds are known by kind alone: an object of such a kind with an
# apiVersion the cluster does not serve (``apiVersion: v1`` on a Deployment) is rejected at
# apply time (KL905), but what it asks for is still plain, so every check reads it by kind.
BUILTIN_WORKLOAD_GROUPS = frozenset({"", "apps", "extensions", "batch", "apps.openshift.io"})
_BY_KIND: dict[str, tuple[FieldPath, FieldPath]] = {
    kind: paths
    for (group, kind), paths in POD_TEMPLATE_PATHS.items()
    if group in BUILTIN_WORKLOAD_GROUPS and group != "extensions"
}


@dataclass(frozen=True)
class PodView:
    """A pod spec inside a resource: the spec, its metadata and their paths."""

    resource: Resource
    spec: dict[str, Any]
    path: FieldPath
    metadata: dict[str, Any]
    metadata_path: FieldPath
    declared: bool = True  # False: the object has no pod spec mapping (read as empty)

    def get(self, *path: str | int) -> Any:
        """Value under the pod spec, or None."""
        return dig(self.spec, path)

    @property
    def security_context(self) -> dict[str, Any]:
        value = self.spec.get("securityContext")
        return value if isinstance(value, dict) else {}

    @property
    def security_context_path(self) -> FieldPath:
        return (*self.path, "securityContext")

    @property
    def annotations(self) -> dict[str, str]:
        value = self.metadata.get("annotations")
        if not isinstance(value, dict):
            return {}
        return {str(k): "" if v is None else str(v) for k, v in value.items()}

    @property
    def is_windows(self) -> bool:
        """``spec.os.name`` is exactly ``windows`` (PSS exemptions use a literal match)."""
        return bool(dig(self.spec, ("os", "name")) == "windows")

    @property
    def host_users_disabled(self) -> bool:
        """``spec.hostUsers`` is explicitly false (the pod runs in a user namespace)."""
        return self.spec.get("hostUsers") is False

    def volumes(self) -> Iterator[tuple[dict[str, Any], FieldPath]]:
        """Each volume mapping with its path."""
        for index, volume in _items(self.spec.get("volumes")):
            yield volume, (*self.path, "volumes", index)


@dataclass(frozen=True)
class ContainerView:
    """One container of a pod spec (regular, init or ephemeral) with its path."""

    data: dict[str, Any]
    path: FieldPath
    list_name: str
    index: int

    @property
    def name(self) -> str:
        value = self.data.get("name")
        return str(value) if value is not None else f"{self.list_name}[{self.index}]"

    @property
    def label(self) -> str:
        """How messages name it: ``container "app"`` or ``init container "setup"``."""
        kind = {"initContainers": "init container", "ephemeralContainers": "ephemeral container"}
        return f'{kind.get(self.list_name, "container")} "{self.name}"'

    def get(self, *path: str | int) -> Any:
        """Value under the container, or None."""
        return dig(self.data, path)

    @property
    def security_context(self) -> dict[str, Any]:
        value = self.data.get("securityContext")
        return value if isinstance(value, dict) else {}

    @property
    def security_context_path(self) -> FieldPath:
        return (*self.path, "securityContext")

    @property
    def privileged(self) -> bool:
        """``securityContext.privileged: true``: what privileged-container (KL101) reports,
        and what makes several other settings moot."""
        return self.security_context.get("privileged") is True


_last_view: tuple[Resource, PodView | None] | None = None


def pod_view(resource: Resource) -> PodView | None:
    """The pod spec of a workload, or None for kinds without one (or a malformed spec).

    The engine runs every rule on one object before the next, so the last answer is kept.
    """
    global _last_view
    if _last_view is not None and _last_view[0] is resource:
        return _last_view[1]
    view = _pod_view(resource)
    _last_view = (resource, view)
    return view


def workload_paths(resource: Resource) -> tuple[FieldPath, FieldPath] | None:
    """(pod spec path, pod metadata path) of a workload kind, or None for other kinds."""
    paths = POD_TEMPLATE_PATHS.get((resource.group, resource.kind))
    if paths is None and resource.group in BUILTIN_WORKLOAD_GROUPS:
        paths = _BY_KIND.get(resource.kind)
    return paths


def _pod_view(resource: Resource) -> PodView | None:
    """The pod template; a missing or malformed spec reads as empty (identity and labels
    do not depend on containers, so cross-object rules still see the workload)."""
    paths = workload_paths(resource)
    if paths is None:
        return None
    spec_path, meta_path = paths
    spec = dig(resource.data, spec_path)
    metadata = dig(resource.data, meta_path)
    return PodView(
        resource=resource,
        spec=spec if isinstance(spec, dict) else {},
        path=spec_path,
        metadata=metadata if isinstance(metadata, dict) else {},
        metadata_path=meta_path,
        declared=isinstance(spec, dict),
    )


def containers(pod: PodView, lists: tuple[str, ...] = CONTAINER_LISTS) -> Iterator[ContainerView]:
    """Every container mapping in the given lists, in spec order."""
    for list_name in lists:
        for index, data in _items(pod.spec.get(list_name)):
            yield ContainerView(data, (*pod.path, list_name, index), list_name, index)


def effective(pod: PodView, container: ContainerView, key: str) -> tuple[Any, FieldPath | None]:
    """A securityContext setting as it applies to a container, and where it is set.

    The container's value wins when it is set (not null); otherwise the pod's value applies.
    The path is None when neither sets it.
    """
    value = container.security_context.get(key)
    if value is not None:
        return value, (*container.security_context_path, key)
    value = pod.security_context.get(key)
    if value is not None:
        return value, (*pod.security_context_path, key)
    return None, None


def _items(value: Any) -> Iterator[tuple[int, dict[str, Any]]]:
    if not isinstance(value, list):
        return
    for index, item in enumerate(value):
        if isinstance(item, dict):
            yield index, item


def container_at(resource: Resource, field_path: FieldPath) -> dict[str, Any] | None:
    """The container mapping at the start of ``field_path`` (found by its list and index,
    not by a walk over every container: one check per finding)."""
    pod = pod_view(resource)
    if pod is None or tuple(field_path[: len(pod.path)]) != tuple(pod.path):
        return None
    rest = field_path[len(pod.path) :]
    if len(rest) < 2 or rest[0] not in CONTAINER_LISTS or not isinstance(rest[1], int):
        return None
    found = pod.spec.get(str(rest[0]))
    if not isinstance(found, list) or not 0 <= rest[1] < len(found):
        return None
    container = found[rest[1]]
    return container if isinstance(container, dict) else None

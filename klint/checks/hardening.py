"""Pod and container hardening beyond the Pod Security Standards.

Settings PSS does not cover (read-only root filesystem, NET_RAW, UID/GID ranges, root
group, sensitive host mounts, shared process namespace, ports, hostAliases). Controls that
PSS does cover live in :mod:`klint.checks.pod_security`; nothing here re-reports them.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator
from typing import Any

from klint.checks.base import Check, Params, UnitContext, Violation
from klint.findings import FieldPath, Severity
from klint.model import ContainerView, PodView, containers, effective, pod_view
from klint.model.capabilities import capability_names
from klint.model.resource import Resource

_RUNNING = ("initContainers", "containers")

RUNTIME_SOCKETS = frozenset(
    {
        "/var/run/docker.sock",
        "/run/docker.sock",
        "/var/run/containerd/containerd.sock",
        "/run/containerd/containerd.sock",
        "/var/run/crio/crio.sock",
        "/run/crio/crio.sock",
        "/var/run/cri-dockerd.sock",
        "/run/cri-dockerd.sock",
        "/var/run/dockershim.sock",
    }
)
# Below sensitive paths but harmless or needed by every CSI node plugin, and the kubelet's
# device plugin folder, where every device plugin (GPUs, SR-IOV) creates its socket.
HARMLESS_HOST_PATHS = (
    "/dev/log",
    "/var/lib/kubelet/plugins",
    "/var/lib/kubelet/plugins_registry",
    "/var/lib/kubelet/device-plugins",
)
SENSITIVE_HOST_PATHS = (
    "/boot",
    "/dev",
    "/etc",
    "/lib",
    "/proc",
    "/sys",
    "/usr",
    "/root",
    "/var/lib/kubelet",
    "/var/lib/docker",
    "/var/lib/containerd",
    "/var/run",
    "/run",
)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def writable_root_filesystem(resource: Resource, _: UnitContext, __: Params) -> Iterator[Violation]:
    """Containers whose root filesystem is not read-only (Windows pods exempt)."""
    pod = pod_view(resource)
    if pod is None or pod.is_windows:
        return
    for container in containers(pod, _RUNNING):
        value = container.security_context.get("readOnlyRootFilesystem")
        if value is True:
            continue
        path = (*container.security_context_path, "readOnlyRootFilesystem")
        if container.privileged:  # KL101 reports it
            yield Violation(
                path,
                f"{container.label} is privileged, and a privileged container can remount its "
                "root filesystem writable (KL101 privileged-container reports it): once "
                "privileged is removed, set securityContext.readOnlyRootFilesystem to true.",
                Severity.NOTE,
                (("expected-for", "privileged-container"),),
            )
        elif value is False:
            yield Violation(
                path, f"{container.label} sets securityContext.readOnlyRootFilesystem to false."
            )
        else:
            yield Violation(
                path,
                f"{container.label} does not set securityContext.readOnlyRootFilesystem to true.",
            )


def net_raw_not_dropped(resource: Resource, _: UnitContext, __: Params) -> Iterator[Violation]:
    """Containers that keep ``NET_RAW``: ``capabilities.drop`` has neither NET_RAW nor ALL."""
    pod = pod_view(resource)
    if pod is None or pod.is_windows:
        return
    for container in containers(pod, _RUNNING):
        if container.privileged:
            continue  # privileged-container already reports it, with every capability
        dropped = container.get("securityContext", "capabilities", "drop")
        if capability_names(dropped) & {"NET_RAW", "ALL"}:
            continue
        yield Violation(
            (*container.security_context_path, "capabilities", "drop"),
            f"{container.label} does not drop capability NET_RAW (drop ALL or NET_RAW).",
        )


def _id_settings(pod: PodView, key: str) -> Iterator[tuple[int, FieldPath, ContainerView | None]]:
    """Each distinct place an ID setting applies: (value, path, container or None for pod)."""
    seen: set[FieldPath] = set()
    for container in containers(pod, _RUNNING):
        value, path = effective(pod, container, key)
        if path is None or path in seen or not _is_int(value):
            continue
        seen.add(path)
        own = path[: len(container.path)] == container.path
        yield int(value), path, container if own else None


def low_user_group_id(resource: Resource, _: UnitContext, params: Params) -> Iterator[Violation]:
    """``runAsUser``/``runAsGroup`` set below ``minimum`` (0 is left to the root rules)."""
    pod = pod_view(resource)
    if pod is None or pod.host_users_disabled or pod.is_windows:
        return
    minimum = int(params["minimum"])
    for key, what in (("runAsUser", "UID"), ("runAsGroup", "GID")):
        for value, path, container in _id_settings(pod, key):
            if 0 < value < minimum:
                owner = container.label if container else "the pod"
                yield Violation(
                    path,
                    f"{owner} sets securityContext.{key} to {value}, a {what} below {minimum} "
                    "that may collide with a host account.",
                )


def root_group(resource: Resource, _: UnitContext, __: Params) -> Iterator[Violation]:
    """``runAsGroup``, ``fsGroup`` or ``supplementalGroups`` naming group 0."""
    pod = pod_view(resource)
    if pod is None or pod.host_users_disabled or pod.is_windows:
        return
    for value, path, container in _id_settings(pod, "runAsGroup"):
        if value == 0:
            owner = container.label if container else "the pod"
            yield Violation(path, f"{owner} sets securityContext.runAsGroup to 0 (root group).")
    if pod.security_context.get("fsGroup") == 0 and _is_int(pod.security_context["fsGroup"]):
        yield Violation(
            (*pod.security_context_path, "fsGroup"),
            "the pod sets securityContext.fsGroup to 0 (root group).",
        )
    groups = pod.security_context.get("supplementalGroups")
    if isinstance(groups, list):
        for index, group in enumerate(groups):
            if _is_int(group) and group == 0:
                yield Violation(
                    (*pod.security_context_path, "supplementalGroups", index),
                    "the pod adds supplemental group 0 (root group).",
                )


def _normalise(path: str) -> str:
    normal = posixpath.normpath(path.strip())
    return "/" if normal in ("/", "//") else normal


def _sensitive(path: str) -> bool:
    if path == "/":
        return True
    if any(path == p or path.startswith(p + "/") for p in HARMLESS_HOST_PATHS):
        return False
    return any(path == p or path.startswith(p + "/") for p in SENSITIVE_HOST_PATHS)


_PRIVILEGED_ANYWAY = (
    " The container is privileged, so it can write to the host whatever this mount says:"
    " privileged: true (privileged-container) is the setting to fix."
)


def sensitive_host_mount(resource: Resource, _: UnitContext, __: Params) -> Iterator[Violation]:
    """Mounts of a runtime socket (any mode), or writable mounts of sensitive host paths."""
    pod = pod_view(resource)
    if pod is None:
        return
    host_paths: dict[str, str] = {}
    for volume, _path in pod.volumes():
        source = volume.get("hostPath")
        if isinstance(source, dict) and isinstance(source.get("path"), str):
            host_paths[str(volume.get("name"))] = _normalise(source["path"])
    if not host_paths:
        return
    for container in containers(pod):
        mounts = container.get("volumeMounts")
        if not isinstance(mounts, list):
            continue
        for index, mount in enumerate(mounts):
            if not isinstance(mount, dict):
                continue
            host = host_paths.get(str(mount.get("name")))
            if host is None:
                continue
            target = mount.get("mountPath", "?")
            where = (*container.path, "volumeMounts", index)
            if host in RUNTIME_SOCKETS or host.endswith(("/docker.sock", "/containerd.sock")):
                yield Violation(
                    where,
                    f"{container.label} mounts the container runtime socket {host} at {target}, "
                    "which gives control of every container on the node.",
                )
            elif _sensitive(host) and mount.get("readOnly") is not True:
                message = f"{container.label} mounts host path {host} writable at {target}."
                if container.privileged:
                    # a privileged container can write the host anyway: privileged-container
                    # (an error of its own) is the setting to fix, readOnly here changes nothing
                    yield Violation(where, message + _PRIVILEGED_ANYWAY, Severity.NOTE)
                else:
                    yield Violation(where, message)


def share_process_namespace(resource: Resource, _: UnitContext, __: Params) -> Iterator[Violation]:
    """``spec.shareProcessNamespace: true``."""
    pod = pod_view(resource)
    if pod is not None and pod.spec.get("shareProcessNamespace") is True:
        yield Violation(
            (*pod.path, "shareProcessNamespace"),
            "the pod sets shareProcessNamespace to true: its containers can see and signal "
            "each other's processes and read their files through /proc.",
        )


def _ports(pod: PodView) -> Iterator[tuple[ContainerView, int, dict[str, Any]]]:
    for container in containers(pod, _RUNNING):
        ports = container.get("ports")
        if isinstance(ports, list):
            for index, port in enumerate(ports):
                if isinstance(port, dict):
                    yield container, index, port


def container_port(resource: Resource, _: UnitContext, params: Params) -> Iterator[Violation]:
    """``containerPort`` values in ``ports`` (exact) or below ``below``."""
    pod = pod_view(resource)
    if pod is None:
        return
    exact = {int(p) for p in params.get("ports", [])}
    below = int(params.get("below", 0))
    for container, index, port in _ports(pod):
        number = port.get("containerPort")
        if not isinstance(number, int) or isinstance(number, bool):
            continue
        if number in exact:
            yield Violation(
                (*container.path, "ports", index, "containerPort"),
                f"{container.label} exposes SSH port {number}.",
            )
        elif 0 < number < below:
            yield Violation(
                (*container.path, "ports", index, "containerPort"),
                f"{container.label} listens on privileged port {number} (below {below}), "
                "which needs root or NET_BIND_SERVICE.",
            )


def host_aliases(resource: Resource, _: UnitContext, __: Params) -> Iterator[Violation]:
    """``spec.hostAliases`` entries (they rewrite the pod's /etc/hosts)."""
    pod = pod_view(resource)
    if pod is None:
        return
    aliases = pod.spec.get("hostAliases")
    if isinstance(aliases, list) and aliases:
        yield Violation(
            (*pod.path, "hostAliases"),
            f"the pod sets hostAliases ({len(aliases)} entries) that override DNS in /etc/hosts.",
        )


CHECKS = (
    Check(
        "writable-root-filesystem",
        writable_root_filesystem,
        "Containers without a read-only root filesystem.",
    ),
    Check("net-raw-not-dropped", net_raw_not_dropped, "Containers that keep NET_RAW."),
    Check(
        "low-user-group-id",
        low_user_group_id,
        "runAsUser/runAsGroup below a minimum.",
        {
            "type": "object",
            "additionalProperties": False,
            "properties": {"minimum": {"type": "integer", "minimum": 1}},
        },
        {"minimum": 10000},
    ),
    Check("root-group", root_group, "Pods running with the root group."),
    Check(
        "sensitive-host-mount",
        sensitive_host_mount,
        "Runtime sockets or writable sensitive host paths mounted.",
    ),
    Check(
        "share-process-namespace", share_process_namespace, "Pods sharing one process namespace."
    ),
    Check(
        "container-port",
        container_port,
        "Container ports that are SSH (exact list) or privileged (below a bound).",
        {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "ports": {"type": "array", "items": {"type": "integer"}},
                "below": {"type": "integer", "minimum": 0},
            },
        },
        {"ports": [], "below": 0},
    ),
    Check("host-aliases", host_aliases, "Pods with hostAliases."),
)

"""Pod Security Standards controls, with the exact semantics of pod-security-admission.

Each check follows ``policy/check_*.go`` of kubernetes/pod-security-admission (see
``reference/pss-semantics.md``): all three container lists, pod-level settings that fail
even when containers override them, literal case-sensitive matching, and nil versus empty.
"""

from __future__ import annotations

from collections.abc import Iterator

from klint.checks.base import Check, Params, UnitContext, Violation
from klint.findings import Severity
from klint.model import containers, pod_view
from klint.model.resource import Resource

BASELINE_CAPABILITIES = frozenset(
    {
        "AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD",
        "NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT",
    }
)


def privileged(resource: Resource, _: UnitContext, __: Params) -> Iterator[Violation]:
    """Containers with ``securityContext.privileged: true``."""
    pod = pod_view(resource)
    if pod is None:
        return
    for container in containers(pod):
        if container.security_context.get("privileged") is True:
            yield Violation(
                (*container.security_context_path, "privileged"),
                f"{container.label} sets securityContext.privileged to true.",
            )


def host_namespace(resource: Resource, _: UnitContext, params: Params) -> Iterator[Violation]:
    """``spec.hostNetwork``/``hostPID``/``hostIPC`` set to true (the field is a param)."""
    pod = pod_view(resource)
    if pod is None:
        return
    name = str(params["field"])
    if pod.spec.get(name) is True:
        yield Violation((*pod.path, name), f"the pod sets {name} to true.")


def host_path_volume(resource: Resource, _: UnitContext, __: Params) -> Iterator[Violation]:
    """Any declared hostPath volume, mounted or not."""
    pod = pod_view(resource)
    if pod is None:
        return
    for volume, path in pod.volumes():
        host_path = volume.get("hostPath")
        if host_path is not None:
            where = host_path.get("path") if isinstance(host_path, dict) else None
            suffix = f" (path {where})" if where else ""
            yield Violation(
                (*path, "hostPath"),
                f'volume "{volume.get("name", "?")}" mounts a hostPath{suffix}.',
            )


def host_port(resource: Resource, _: UnitContext, __: Params) -> Iterator[Violation]:
    """Container ports with a non-zero ``hostPort``."""
    pod = pod_view(resource)
    if pod is None:
        return
    for container in containers(pod):
        ports = container.data.get("ports")
        if not isinstance(ports, list):
            continue
        for index, port in enumerate(ports):
            if isinstance(port, dict) and port.get("hostPort") not in (None, 0):
                yield Violation(
                    (*container.path, "ports", index, "hostPort"),
                    f"{container.label} binds hostPort {port.get('hostPort')}.",
                )


def capabilities_baseline(resource: Resource, _: UnitContext, __: Params) -> Iterator[Violation]:
    """``capabilities.add`` items outside the baseline set (exact, case-sensitive)."""
    pod = pod_view(resource)
    if pod is None:
        return
    for container in containers(pod):
        added = container.get("securityContext", "capabilities", "add")
        if not isinstance(added, list):
            continue
        for index, capability in enumerate(added):
            if capability not in BASELINE_CAPABILITIES:
                yield Violation(
                    (*container.security_context_path, "capabilities", "add", index),
                    f"{container.label} adds capability {capability}, which the baseline "
                    "Pod Security Standard forbids.",
                )


def allow_privilege_escalation(
    resource: Resource, _: UnitContext, __: Params
) -> Iterator[Violation]:
    """Containers that do not set ``allowPrivilegeEscalation: false`` (Windows pods exempt)."""
    pod = pod_view(resource)
    if pod is None or pod.is_windows:
        return
    for container in containers(pod):
        value = container.security_context.get("allowPrivilegeEscalation")
        if value is False:
            continue
        if value is True:
            yield Violation(
                (*container.security_context_path, "allowPrivilegeEscalation"),
                f"{container.label} sets securityContext.allowPrivilegeEscalation to true.",
                severity=Severity.ERROR,
            )
        else:
            yield Violation(
                (*container.security_context_path, "allowPrivilegeEscalation"),
                f"{container.label} does not set securityContext.allowPrivilegeEscalation "
                "to false.",
            )


def run_as_non_root(resource: Resource, _: UnitContext, __: Params) -> Iterator[Violation]:
    """``runAsNonRoot`` must be true: set on the pod or on every container, never false."""
    pod = pod_view(resource)
    if pod is None or pod.host_users_disabled:
        return
    pod_value = pod.security_context.get("runAsNonRoot")
    if pod_value is False:
        yield Violation(
            (*pod.security_context_path, "runAsNonRoot"),
            "the pod sets securityContext.runAsNonRoot to false.",
        )
    for container in containers(pod):
        value = container.security_context.get("runAsNonRoot")
        if value is False:
            yield Violation(
                (*container.security_context_path, "runAsNonRoot"),
                f"{container.label} sets securityContext.runAsNonRoot to false.",
            )
        elif value is None and pod_value is not True:
            yield Violation(
                (*container.security_context_path, "runAsNonRoot"),
                f"{container.label} may run as root: set securityContext.runAsNonRoot to "
                "true on the container or the pod.",
            )


def run_as_user_root(resource: Resource, _: UnitContext, __: Params) -> Iterator[Violation]:
    """``runAsUser: 0`` at pod or container level (pod-level 0 fails even if overridden)."""
    pod = pod_view(resource)
    if pod is None or pod.host_users_disabled:
        return
    if pod.security_context.get("runAsUser") == 0:
        yield Violation(
            (*pod.security_context_path, "runAsUser"), "the pod sets securityContext.runAsUser to 0."
        )
    for container in containers(pod):
        if container.security_context.get("runAsUser") == 0:
            yield Violation(
                (*container.security_context_path, "runAsUser"),
                f"{container.label} sets securityContext.runAsUser to 0.",
            )


CHECKS = (
    Check("privileged", privileged, "Containers running privileged."),
    Check(
        "host-namespace",
        host_namespace,
        "The pod shares a host namespace (network, PID or IPC).",
        {"type": "object", "required": ["field"], "additionalProperties": False,
         "properties": {"field": {"enum": ["hostNetwork", "hostPID", "hostIPC"]}}},
    ),
    Check("host-path-volume", host_path_volume, "hostPath volumes."),
    Check("host-port", host_port, "Container ports bound to a host port."),
    Check("capabilities-baseline", capabilities_baseline,
          "Capabilities added beyond the PSS baseline set."),
    Check("allow-privilege-escalation", allow_privilege_escalation,
          "Containers that allow privilege escalation."),
    Check("run-as-non-root", run_as_non_root, "Containers that may run as root."),
    Check("run-as-user-root", run_as_user_root, "runAsUser set to 0."),
)

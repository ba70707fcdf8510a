"""Pod Security Standards baseline controls, with the exact semantics of pod-security-admission.

Each check follows ``policy/check_*.go`` of kubernetes/pod-security-admission at its latest
policy version (see ``reference/pss-semantics.md``): all three container lists, pod-level
settings that fail even when containers override them, literal case-sensitive matching, nil
versus empty, and the Windows and user-namespace exemptions only where upstream has them.
Every violation names its control and level and carries ``pss-level``/``pss-control``
properties. The restricted controls are in :mod:`klint.checks.pss_restricted`.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from typing import Any

from klint.checks.base import Check, Params, UnitContext, Violation
from klint.checks.pss_controls import (
    ALLOWED_SYSCTLS,
    APPARMOR,
    APPARMOR_ANNOTATION_PREFIX,
    APPARMOR_TYPES,
    BASELINE_CAPABILITIES,
    CAPS_BASELINE,
    HOST_NAMESPACES,
    HOST_PATH,
    HOST_PORTS,
    HOST_PROBES,
    HOST_PROCESS,
    LIFECYCLE_HANDLERS,
    PRIVILEGED,
    PROBES,
    PROC_MOUNT,
    SECCOMP_BASELINE,
    SECCOMP_TYPES,
    SELINUX,
    SELINUX_TYPES,
    SYSCTLS,
    allowed,
    host_path_suffix,
    proc_mounts,
    scalar_text,
    seccomp_type,
    security_contexts,
    shown,
    volume_name,
)
from klint.findings import FieldPath, Severity
from klint.model import containers, pod_view
from klint.model.capabilities import capability_name
from klint.model.resource import Resource


def privileged(resource: Resource, _: UnitContext, __: Params) -> Iterator[Violation]:
    """Containers with ``securityContext.privileged: true``."""
    pod = pod_view(resource)
    if pod is None:
        return
    for container in containers(pod):
        if container.privileged:
            yield PRIVILEGED.violation(
                (*container.security_context_path, "privileged"),
                f"{container.label} sets securityContext.privileged to true",
            )


def host_namespace(resource: Resource, _: UnitContext, params: Params) -> Iterator[Violation]:
    """``spec.hostNetwork``/``hostPID``/``hostIPC`` set to true (the field is a param)."""
    pod = pod_view(resource)
    if pod is None:
        return
    name = str(params["field"])
    if pod.spec.get(name) is True:
        yield HOST_NAMESPACES.violation((*pod.path, name), f"the pod sets {name} to true")


def host_path_volume(resource: Resource, _: UnitContext, __: Params) -> Iterator[Violation]:
    """Any declared hostPath volume, mounted or not."""
    pod = pod_view(resource)
    if pod is None:
        return
    for volume, path in pod.volumes():
        host_path = volume.get("hostPath")
        if host_path is not None:
            yield HOST_PATH.violation(
                (*path, "hostPath"),
                f"volume {volume_name(volume)} mounts a hostPath{host_path_suffix(host_path)}",
            )


def host_port(resource: Resource, _: UnitContext, __: Params) -> Iterator[Violation]:
    """Container ports with a non-zero ``hostPort``."""
    pod = pod_view(resource)
    if pod is None:
        return
    host_network = pod.get("hostNetwork") is True
    for container in containers(pod):
        ports = container.data.get("ports")
        if not isinstance(ports, list):
            continue
        for index, port in enumerate(ports):
            if not isinstance(port, dict) or port.get("hostPort") in (None, 0):
                continue
            where = (*container.path, "ports", index, "hostPort")
            text = f"{container.label} binds hostPort {port.get('hostPort')}"
            if host_network:  # every port it listens on is the node's already
                yield HOST_PORTS.violation(
                    where,
                    f"{text}, but the pod uses the node's network (hostNetwork: true, which "
                    "KL102 host-network reports), where every port it listens on is the "
                    "node's: the hostPort adds nothing until hostNetwork is removed",
                    severity=Severity.NOTE,
                    extra=(("expected-for", "host-network"),),
                )
            else:
                yield HOST_PORTS.violation(where, text)


def capabilities_baseline(resource: Resource, _: UnitContext, __: Params) -> Iterator[Violation]:
    """``capabilities.add`` items outside the baseline set.

    The name is read as the runtime reads it (``sys_admin`` is SYS_ADMIN); a baseline
    capability spelt otherwise than upstream (``chown``, ``CAP_CHOWN``) is a note, since
    admission compares literally and rejects it although the runtime grants only CHOWN.
    """
    pod = pod_view(resource)
    if pod is None:
        return
    for container in containers(pod):
        added = container.get("securityContext", "capabilities", "add")
        if not isinstance(added, list):
            continue
        for index, capability in enumerate(added):
            if allowed(capability, BASELINE_CAPABILITIES):
                continue
            path = (*container.security_context_path, "capabilities", "add", index)
            name = capability_name(capability)
            if name in BASELINE_CAPABILITIES:
                yield CAPS_BASELINE.violation(
                    path,
                    f"{container.label} writes capability {capability}, which the runtime "
                    f"reads as {name} but Pod Security admission rejects: write {name}",
                    severity=Severity.NOTE,
                )
            else:
                yield CAPS_BASELINE.violation(
                    path,
                    f"{container.label} adds capability {name or capability}, which is not "
                    "in the baseline set",
                )


def host_probes(resource: Resource, _: UnitContext, __: Params) -> Iterator[Violation]:
    """Probes and lifecycle hooks whose ``httpGet``/``tcpSocket`` set a non-empty ``host``."""
    pod = pod_view(resource)
    if pod is None:
        return
    host_network = pod.spec.get("hostNetwork") is True
    for container in containers(pod):
        handlers: list[tuple[Any, FieldPath, str]] = [
            (container.data.get(probe), (*container.path, probe), probe) for probe in PROBES
        ]
        for hook in LIFECYCLE_HANDLERS:
            handlers.append(
                (
                    container.get("lifecycle", hook),
                    (*container.path, "lifecycle", hook),
                    f"lifecycle.{hook}",
                )
            )
        for handler, path, label in handlers:
            if not isinstance(handler, dict):
                continue
            for action in ("httpGet", "tcpSocket"):
                spec = handler.get(action)
                host = scalar_text(spec.get("host")) if isinstance(spec, dict) else ""
                if host and host_network and _loopback(host):
                    # host-namespaces (KL102) reports hostNetwork; the loopback is the pod's own
                    yield HOST_PROBES.violation(
                        (*path, action, "host"),
                        f"{container.label} sets {label}.{action}.host to {shown(host)}, but "
                        "the pod uses hostNetwork (KL102 host-namespaces reports it), where "
                        "the node's loopback is the pod itself: the kubelet reaches only the "
                        "pod; Pod Security admission still rejects the field, so remove it "
                        "when hostNetwork goes",
                        severity=Severity.NOTE,
                        extra=(("expected-for", "host-network"),),
                    )
                elif host:
                    yield HOST_PROBES.violation(
                        (*path, action, "host"),
                        f"{container.label} sets {label}.{action}.host to {shown(host)}; "
                        "remove it so the kubelet targets the pod",
                    )


def _loopback(host: str) -> bool:
    """``host`` names the loopback interface (``127.0.0.0/8``, ``::1``, ``localhost``)."""
    name = host.strip().strip("[]").lower()
    if name in ("localhost", "::1") or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def apparmor(resource: Resource, _: UnitContext, __: Params) -> Iterator[Violation]:
    """AppArmor profile types and the beta annotations of the pod (template) metadata."""
    pod = pod_view(resource)
    if pod is None:
        return
    for who, context, path in security_contexts(pod):
        profile = context.get("appArmorProfile")
        if profile is None:
            continue
        kind = profile.get("type") if isinstance(profile, dict) else None
        if not allowed(kind, APPARMOR_TYPES):
            yield APPARMOR.violation(
                (*path, "appArmorProfile", "type"),
                f"{who} sets securityContext.appArmorProfile.type to {shown(kind)}; "
                "use RuntimeDefault or Localhost",
            )
    for key, value in pod.annotations.items():
        if not key.startswith(APPARMOR_ANNOTATION_PREFIX):
            continue
        if value == "" or value == "runtime/default" or value.startswith("localhost/"):
            continue
        yield APPARMOR.violation(
            (*pod.metadata_path, "annotations", key),
            f"the pod annotation {key} sets AppArmor profile {shown(value)}; use runtime/default "
            "or localhost/<profile>",
        )


def selinux(resource: Resource, _: UnitContext, __: Params) -> Iterator[Violation]:
    """``seLinuxOptions`` with a custom type, or any user or role, at pod or container level."""
    pod = pod_view(resource)
    if pod is None:
        return
    for who, context, path in security_contexts(pod):
        options = context.get("seLinuxOptions")
        if not isinstance(options, dict):
            continue
        kind = scalar_text(options.get("type"))
        if kind not in SELINUX_TYPES:
            yield SELINUX.violation(
                (*path, "seLinuxOptions", "type"),
                f"{who} sets securityContext.seLinuxOptions.type to {shown(kind)}",
            )
        for field in ("user", "role"):
            value = scalar_text(options.get(field))
            if value:
                yield SELINUX.violation(
                    (*path, "seLinuxOptions", field),
                    f"{who} sets securityContext.seLinuxOptions.{field} to {shown(value)}",
                )


def proc_mount_baseline(resource: Resource, _: UnitContext, __: Params) -> Iterator[Violation]:
    """``procMount`` other than ``Default``; any value passes with ``hostUsers: false``."""
    pod = pod_view(resource)
    if pod is None or pod.host_users_disabled:
        return
    yield from proc_mounts(pod, PROC_MOUNT)


def seccomp_baseline(resource: Resource, _: UnitContext, __: Params) -> Iterator[Violation]:
    """A set seccompProfile whose type is not RuntimeDefault or Localhost (pod or container)."""
    pod = pod_view(resource)
    if pod is None:
        return
    for who, context, path in security_contexts(pod):
        profile = context.get("seccompProfile")
        if profile is not None and seccomp_type(profile) not in SECCOMP_TYPES:
            yield SECCOMP_BASELINE.violation(
                (*path, "seccompProfile", "type"),
                f"{who} sets securityContext.seccompProfile.type to {shown(seccomp_type(profile))}",
            )


def sysctls(resource: Resource, _: UnitContext, __: Params) -> Iterator[Violation]:
    """Pod sysctls outside the allow-list (names compared literally)."""
    pod = pod_view(resource)
    if pod is None:
        return
    items = pod.security_context.get("sysctls")
    if not isinstance(items, list):
        return
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            continue
        name = item.get("name")
        if not allowed(name, ALLOWED_SYSCTLS):
            yield SYSCTLS.violation(
                (*pod.security_context_path, "sysctls", index, "name"),
                f"the pod sets sysctl {shown(name)}, which is not in the safe set",
            )


def windows_host_process(resource: Resource, _: UnitContext, __: Params) -> Iterator[Violation]:
    """``windowsOptions.hostProcess: true`` on the pod or any container."""
    pod = pod_view(resource)
    if pod is None:
        return
    for who, context, path in security_contexts(pod):
        options = context.get("windowsOptions")
        if isinstance(options, dict) and options.get("hostProcess") is True:
            yield HOST_PROCESS.violation(
                (*path, "windowsOptions", "hostProcess"),
                f"{who} sets securityContext.windowsOptions.hostProcess to true",
            )


_FIELD_PARAMS = {
    "type": "object",
    "required": ["field"],
    "additionalProperties": False,
    "properties": {"field": {"enum": ["hostNetwork", "hostPID", "hostIPC"]}},
}

CHECKS = (
    Check("privileged", privileged, "Containers running privileged."),
    Check(
        "host-namespace",
        host_namespace,
        "The pod shares a host namespace (network, PID or IPC).",
        _FIELD_PARAMS,
    ),
    Check("host-path-volume", host_path_volume, "hostPath volumes."),
    Check("host-port", host_port, "Container ports bound to a host port."),
    Check(
        "capabilities-baseline",
        capabilities_baseline,
        "Capabilities added beyond the PSS baseline set.",
    ),
    Check("host-probes", host_probes, "Probes and lifecycle hooks that target another host."),
    Check("apparmor-profile", apparmor, "AppArmor profiles other than runtime default/localhost."),
    Check("selinux-options", selinux, "Custom SELinux type, user or role."),
    Check("proc-mount-baseline", proc_mount_baseline, "Non-default /proc mounts (baseline)."),
    Check("seccomp-baseline", seccomp_baseline, "Seccomp profiles other than allowed types."),
    Check("sysctls", sysctls, "Sysctls outside the PSS safe set."),
    Check("windows-host-process", windows_host_process, "Windows HostProcess pods/containers."),
)

"""Pod Security Standards controls, with the exact semantics of pod-security-admission.

Each check follows ``policy/check_*.go`` of kubernetes/pod-security-admission at its latest
policy version (see ``reference/pss-semantics.md``): all three container lists, pod-level
settings that fail even when containers override them, literal case-sensitive matching, nil
versus empty, and the Windows and user-namespace exemptions only where upstream has them.
Every violation names its control and level and carries ``pss-level``/``pss-control``
properties.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from klint.checks.base import Check, Params, UnitContext, Violation
from klint.findings import FieldPath, Severity
from klint.model import ContainerView, PodView, containers, pod_view
from klint.model.resource import Resource

BASELINE_CAPABILITIES = frozenset(
    {
        "AUDIT_WRITE",
        "CHOWN",
        "DAC_OVERRIDE",
        "FOWNER",
        "FSETID",
        "KILL",
        "MKNOD",
        "NET_BIND_SERVICE",
        "SETFCAP",
        "SETGID",
        "SETPCAP",
        "SETUID",
        "SYS_CHROOT",
    }
)
# Every sysctl any policy version up to v1.37 allows (check_sysctls.go); names are literal.
ALLOWED_SYSCTLS = frozenset(
    {
        "kernel.shm_rmid_forced",
        "net.ipv4.ip_local_port_range",
        "net.ipv4.tcp_syncookies",
        "net.ipv4.ping_group_range",
        "net.ipv4.ip_unprivileged_port_start",
        "net.ipv4.ip_local_reserved_ports",  # v1.27
        "net.ipv4.tcp_keepalive_time",  # v1.29
        "net.ipv4.tcp_fin_timeout",
        "net.ipv4.tcp_keepalive_intvl",
        "net.ipv4.tcp_keepalive_probes",
        "net.ipv4.tcp_rmem",  # v1.32
        "net.ipv4.tcp_wmem",
        "net.ipv4.tcp_slow_start_after_idle",  # v1.37
        "net.ipv4.tcp_notsent_lowat",
    }
)
SELINUX_TYPES = frozenset(
    {"", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"}
)
SECCOMP_TYPES = frozenset({"RuntimeDefault", "Localhost"})
APPARMOR_TYPES = frozenset({"RuntimeDefault", "Localhost"})
APPARMOR_ANNOTATION_PREFIX = "container.apparmor.security.beta.kubernetes.io/"
ALLOWED_VOLUME_SOURCES = frozenset(
    {
        "configMap",
        "csi",
        "downwardAPI",
        "emptyDir",
        "ephemeral",
        "image",
        "persistentVolumeClaim",
        "projected",
        "secret",
    }
)
PROBES = ("livenessProbe", "readinessProbe", "startupProbe")
LIFECYCLE_HANDLERS = ("postStart", "preStop")


@dataclass(frozen=True)
class Control:
    """A PSS control as upstream names it: level, check id and the docs title."""

    level: str
    check_id: str
    title: str

    def violation(
        self,
        path: FieldPath,
        text: str,
        severity: Severity | None = None,
        also: Control | None = None,
    ) -> Violation:
        """A violation whose message ends with ``(Pod Security Standards <level>: <title>).``

        ``also`` names the baseline control the same field violates, where this restricted
        control replaces it (compliance reports count the finding for both).
        """
        message = f"{text} (Pod Security Standards {self.level}: {self.title})."
        properties: tuple[tuple[str, str], ...] = (
            ("pss-level", self.level),
            ("pss-control", self.check_id),
        )
        if also is not None:
            properties += (("pss-also-violates", also.check_id),)
        return Violation(path, message, severity, properties)


PRIVILEGED = Control("baseline", "privileged", "Privileged Containers")
HOST_NAMESPACES = Control("baseline", "hostNamespaces", "Host Namespaces")
HOST_PATH = Control("baseline", "hostPathVolumes", "HostPath Volumes")
HOST_PORTS = Control("baseline", "hostPorts", "Host Ports")
CAPS_BASELINE = Control("baseline", "capabilities_baseline", "Capabilities")
HOST_PROBES = Control("baseline", "hostProbesAndHostLifecycle", "Host Probes / Lifecycle Hooks")
APPARMOR = Control("baseline", "appArmorProfile", "AppArmor")
SELINUX = Control("baseline", "seLinuxOptions", "SELinux")
PROC_MOUNT = Control("baseline", "procMount", "/proc Mount Type")
SECCOMP_BASELINE = Control("baseline", "seccompProfile_baseline", "Seccomp")
SYSCTLS = Control("baseline", "sysctls", "Sysctls")
HOST_PROCESS = Control("baseline", "windowsHostProcess", "HostProcess")
VOLUMES = Control("restricted", "restrictedVolumes", "Volume Types")
ESCALATION = Control("restricted", "allowPrivilegeEscalation", "Privilege Escalation")
NON_ROOT = Control("restricted", "runAsNonRoot", "Running as Non-root")
NON_ROOT_USER = Control("restricted", "runAsUser", "Running as Non-root user")
SECCOMP_RESTRICTED = Control("restricted", "seccompProfile_restricted", "Seccomp")
CAPS_RESTRICTED = Control("restricted", "capabilities_restricted", "Capabilities")
PROC_MOUNT_RESTRICTED = Control("restricted", "procMount_restricted", "/proc Mount Type")


def _text(value: Any) -> str:
    """A scalar as Go would hold it in a string field (null is the empty string)."""
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)


def _show(value: Any) -> str:
    """A value as messages print it: as written, or ``""`` when empty."""
    text = _text(value)
    return text if text else '""'


def _is_zero_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value == 0


def privileged(resource: Resource, _: UnitContext, __: Params) -> Iterator[Violation]:
    """Containers with ``securityContext.privileged: true``."""
    pod = pod_view(resource)
    if pod is None:
        return
    for container in containers(pod):
        if container.security_context.get("privileged") is True:
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
                f"volume {_volume_name(volume)} mounts a hostPath{_host_path_suffix(host_path)}",
            )


def _volume_name(volume: dict[str, Any]) -> str:
    return f'"{_text(volume.get("name")) or "?"}"'


def _host_path_suffix(host_path: Any) -> str:
    where = host_path.get("path") if isinstance(host_path, dict) else None
    return f" (path {where})" if where else ""


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
                yield HOST_PORTS.violation(
                    (*container.path, "ports", index, "hostPort"),
                    f"{container.label} binds hostPort {port.get('hostPort')}",
                )


def _allowed(value: Any, allowed: frozenset[str]) -> bool:
    """Literal membership that never fails on unhashable (malformed) values."""
    return isinstance(value, str) and value in allowed


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
            if not _allowed(capability, BASELINE_CAPABILITIES):
                yield CAPS_BASELINE.violation(
                    (*container.security_context_path, "capabilities", "add", index),
                    f"{container.label} adds capability {capability}, which is not in the "
                    "baseline set",
                )


def host_probes(resource: Resource, _: UnitContext, __: Params) -> Iterator[Violation]:
    """Probes and lifecycle hooks whose ``httpGet``/``tcpSocket`` set a non-empty ``host``."""
    pod = pod_view(resource)
    if pod is None:
        return
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
                host = _text(spec.get("host")) if isinstance(spec, dict) else ""
                if host:
                    yield HOST_PROBES.violation(
                        (*path, action, "host"),
                        f"{container.label} sets {label}.{action}.host to {_show(host)}; "
                        "remove it so the kubelet targets the pod",
                    )


def _security_contexts(pod: PodView) -> Iterator[tuple[str, dict[str, Any], FieldPath]]:
    """The pod's securityContext, then each container's: (who, mapping, path)."""
    yield "the pod", pod.security_context, pod.security_context_path
    for container in containers(pod):
        yield container.label, container.security_context, container.security_context_path


def apparmor(resource: Resource, _: UnitContext, __: Params) -> Iterator[Violation]:
    """AppArmor profile types and the beta annotations of the pod (template) metadata."""
    pod = pod_view(resource)
    if pod is None:
        return
    for who, context, path in _security_contexts(pod):
        profile = context.get("appArmorProfile")
        if profile is None:
            continue
        kind = profile.get("type") if isinstance(profile, dict) else None
        if not _allowed(kind, APPARMOR_TYPES):
            yield APPARMOR.violation(
                (*path, "appArmorProfile", "type"),
                f"{who} sets securityContext.appArmorProfile.type to {_show(kind)}; "
                "use RuntimeDefault or Localhost",
            )
    for key, value in pod.annotations.items():
        if not key.startswith(APPARMOR_ANNOTATION_PREFIX):
            continue
        if value == "" or value == "runtime/default" or value.startswith("localhost/"):
            continue
        yield APPARMOR.violation(
            (*pod.metadata_path, "annotations", key),
            f"the pod annotation {key} sets AppArmor profile {_show(value)}; use runtime/default "
            "or localhost/<profile>",
        )


def selinux(resource: Resource, _: UnitContext, __: Params) -> Iterator[Violation]:
    """``seLinuxOptions`` with a custom type, or any user or role, at pod or container level."""
    pod = pod_view(resource)
    if pod is None:
        return
    for who, context, path in _security_contexts(pod):
        options = context.get("seLinuxOptions")
        if not isinstance(options, dict):
            continue
        kind = _text(options.get("type"))
        if kind not in SELINUX_TYPES:
            yield SELINUX.violation(
                (*path, "seLinuxOptions", "type"),
                f"{who} sets securityContext.seLinuxOptions.type to {_show(kind)}",
            )
        for field in ("user", "role"):
            value = _text(options.get(field))
            if value:
                yield SELINUX.violation(
                    (*path, "seLinuxOptions", field),
                    f"{who} sets securityContext.seLinuxOptions.{field} to {_show(value)}",
                )


def _proc_mounts(
    pod: PodView, control: Control, also: Control | None = None
) -> Iterator[Violation]:
    for container in containers(pod):
        value = container.security_context.get("procMount")
        if value is not None and value != "Default":
            yield control.violation(
                (*container.security_context_path, "procMount"),
                f"{container.label} sets securityContext.procMount to {_show(value)}",
                also=also,
            )


def proc_mount_baseline(resource: Resource, _: UnitContext, __: Params) -> Iterator[Violation]:
    """``procMount`` other than ``Default``; any value passes with ``hostUsers: false``."""
    pod = pod_view(resource)
    if pod is None or pod.host_users_disabled:
        return
    yield from _proc_mounts(pod, PROC_MOUNT)


def proc_mount_restricted(resource: Resource, _: UnitContext, __: Params) -> Iterator[Violation]:
    """``procMount`` other than ``Default``, with no user-namespace relaxation."""
    pod = pod_view(resource)
    if pod is None:
        return
    baseline = None if pod.host_users_disabled else PROC_MOUNT
    yield from _proc_mounts(pod, PROC_MOUNT_RESTRICTED, baseline)


def _seccomp_type(profile: Any) -> str:
    """The type of a present seccompProfile (``{}`` has type ``""``)."""
    return _text(profile.get("type")) if isinstance(profile, dict) else ""


def seccomp_baseline(resource: Resource, _: UnitContext, __: Params) -> Iterator[Violation]:
    """A set seccompProfile whose type is not RuntimeDefault or Localhost (pod or container)."""
    pod = pod_view(resource)
    if pod is None:
        return
    for who, context, path in _security_contexts(pod):
        profile = context.get("seccompProfile")
        if profile is not None and _seccomp_type(profile) not in SECCOMP_TYPES:
            yield SECCOMP_BASELINE.violation(
                (*path, "seccompProfile", "type"),
                f"{who} sets securityContext.seccompProfile.type to "
                f"{_show(_seccomp_type(profile))}",
            )


def seccomp_restricted(resource: Resource, _: UnitContext, __: Params) -> Iterator[Violation]:
    """Seccomp RuntimeDefault or Localhost on the pod or every container (Windows exempt)."""
    pod = pod_view(resource)
    if pod is None or pod.is_windows:
        return
    pod_profile = pod.security_context.get("seccompProfile")
    pod_valid = False
    if pod_profile is not None:
        if _seccomp_type(pod_profile) in SECCOMP_TYPES:
            pod_valid = True
        else:
            yield SECCOMP_RESTRICTED.violation(
                (*pod.security_context_path, "seccompProfile", "type"),
                f"the pod sets securityContext.seccompProfile.type to "
                f"{_show(_seccomp_type(pod_profile))}; use RuntimeDefault or Localhost",
                also=SECCOMP_BASELINE,
            )
    for container in containers(pod):
        profile = container.security_context.get("seccompProfile")
        if profile is not None:
            if _seccomp_type(profile) not in SECCOMP_TYPES:
                yield SECCOMP_RESTRICTED.violation(
                    (*container.security_context_path, "seccompProfile", "type"),
                    f"{container.label} sets securityContext.seccompProfile.type to "
                    f"{_show(_seccomp_type(profile))}; use RuntimeDefault or Localhost",
                    also=SECCOMP_BASELINE,
                )
        elif not pod_valid:
            yield SECCOMP_RESTRICTED.violation(
                (*container.security_context_path, "seccompProfile"),
                f"{container.label} has no seccomp profile: set "
                "securityContext.seccompProfile.type to RuntimeDefault on the container or "
                "the pod",
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
        if not _allowed(name, ALLOWED_SYSCTLS):
            yield SYSCTLS.violation(
                (*pod.security_context_path, "sysctls", index, "name"),
                f"the pod sets sysctl {_show(name)}, which is not in the safe set",
            )


def windows_host_process(resource: Resource, _: UnitContext, __: Params) -> Iterator[Violation]:
    """``windowsOptions.hostProcess: true`` on the pod or any container."""
    pod = pod_view(resource)
    if pod is None:
        return
    for who, context, path in _security_contexts(pod):
        options = context.get("windowsOptions")
        if isinstance(options, dict) and options.get("hostProcess") is True:
            yield HOST_PROCESS.violation(
                (*path, "windowsOptions", "hostProcess"),
                f"{who} sets securityContext.windowsOptions.hostProcess to true",
            )


def restricted_volumes(resource: Resource, _: UnitContext, __: Params) -> Iterator[Violation]:
    """Volumes of a type outside the restricted set (a source-less volume is an emptyDir)."""
    pod = pod_view(resource)
    if pod is None:
        return
    for volume, path in pod.volumes():
        for key, value in volume.items():
            if key == "name" or value is None or key in ALLOWED_VOLUME_SOURCES:
                continue
            if key == "hostPath":
                yield VOLUMES.violation(
                    (*path, key),
                    f"volume {_volume_name(volume)} mounts a hostPath{_host_path_suffix(value)}",
                    severity=Severity.ERROR,
                    also=HOST_PATH,
                )
            else:
                yield VOLUMES.violation(
                    (*path, key),
                    f"volume {_volume_name(volume)} uses volume type {key}, which is not allowed",
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
        path = (*container.security_context_path, "allowPrivilegeEscalation")
        if value is False:
            continue
        if value is True:
            yield ESCALATION.violation(
                path,
                f"{container.label} sets securityContext.allowPrivilegeEscalation to true",
                severity=Severity.ERROR,
            )
        else:
            yield ESCALATION.violation(
                path,
                f"{container.label} does not forbid privilege escalation: set "
                "securityContext.allowPrivilegeEscalation to false",
            )


def run_as_non_root(resource: Resource, _: UnitContext, __: Params) -> Iterator[Violation]:
    """``runAsNonRoot`` must be true: set on the pod or on every container, never false."""
    pod = pod_view(resource)
    if pod is None or pod.host_users_disabled:
        return
    pod_value = pod.security_context.get("runAsNonRoot")
    if pod_value is False:
        yield NON_ROOT.violation(
            (*pod.security_context_path, "runAsNonRoot"),
            "the pod sets securityContext.runAsNonRoot to false",
        )
    for container in containers(pod):
        value = container.security_context.get("runAsNonRoot")
        path = (*container.security_context_path, "runAsNonRoot")
        if value is False:
            yield NON_ROOT.violation(
                path, f"{container.label} sets securityContext.runAsNonRoot to false"
            )
        elif value is None and pod_value is not True:
            yield NON_ROOT.violation(
                path,
                f"{container.label} may run as root: set securityContext.runAsNonRoot to "
                "true on the container or the pod",
            )


def run_as_user_root(resource: Resource, _: UnitContext, __: Params) -> Iterator[Violation]:
    """``runAsUser: 0`` at pod or container level (pod-level 0 fails even if overridden)."""
    pod = pod_view(resource)
    if pod is None or pod.host_users_disabled:
        return
    for who, context, path in _security_contexts(pod):
        if _is_zero_int(context.get("runAsUser")):
            yield NON_ROOT_USER.violation(
                (*path, "runAsUser"), f"{who} sets securityContext.runAsUser to 0"
            )


def capabilities_restricted(resource: Resource, _: UnitContext, __: Params) -> Iterator[Violation]:
    """Every container drops ``ALL`` and adds at most ``NET_BIND_SERVICE`` (Windows exempt).

    Added capabilities the baseline forbids too are reported as errors: this rule replaces
    the baseline capabilities rule wherever both are selected.
    """
    pod = pod_view(resource)
    if pod is None or pod.is_windows:
        return
    for container in containers(pod):
        yield from _restricted_capabilities(container)


def _restricted_capabilities(container: ContainerView) -> Iterator[Violation]:
    path = (*container.security_context_path, "capabilities")
    capabilities = container.security_context.get("capabilities")
    if not isinstance(capabilities, dict):
        capabilities = {}
    dropped = capabilities.get("drop")
    if not (isinstance(dropped, list) and "ALL" in [d for d in dropped if isinstance(d, str)]):
        yield CAPS_RESTRICTED.violation(
            (*path, "drop"),
            f'{container.label} does not drop all capabilities: add "ALL" to '
            "securityContext.capabilities.drop",
        )
    added = capabilities.get("add")
    if not isinstance(added, list):
        return
    for index, capability in enumerate(added):
        if capability == "NET_BIND_SERVICE":
            continue
        baseline_forbids = not _allowed(capability, BASELINE_CAPABILITIES)
        yield CAPS_RESTRICTED.violation(
            (*path, "add", index),
            f"{container.label} adds capability {capability}; only NET_BIND_SERVICE may be added",
            severity=Severity.ERROR if baseline_forbids else None,
            also=CAPS_BASELINE if baseline_forbids else None,
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
    Check("restricted-volumes", restricted_volumes, "Volume types outside the restricted set."),
    Check(
        "allow-privilege-escalation",
        allow_privilege_escalation,
        "Containers that allow privilege escalation.",
    ),
    Check("run-as-non-root", run_as_non_root, "Containers that may run as root."),
    Check("run-as-user-root", run_as_user_root, "runAsUser set to 0."),
    Check(
        "seccomp-restricted",
        seccomp_restricted,
        "Containers without a RuntimeDefault/Localhost seccomp profile.",
    ),
    Check(
        "capabilities-restricted",
        capabilities_restricted,
        "Containers that do not drop ALL or add more than NET_BIND_SERVICE.",
    ),
    Check(
        "proc-mount-restricted",
        proc_mount_restricted,
        "Non-default /proc mounts (restricted).",
    ),
)

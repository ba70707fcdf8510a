"""Pod Security Standards: the controls as upstream names them, their allowed values, and
the small helpers every control check shares (Go-like scalar reading, messages).

The values follow ``policy/check_*.go`` of kubernetes/pod-security-admission at its latest
policy version (see ``reference/pss-semantics.md``); they are compared literally.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from klint.checks.base import Violation
from klint.findings import FieldPath, Severity
from klint.model import PodView, containers

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
        extra: tuple[tuple[str, str], ...] = (),
    ) -> Violation:
        """A violation whose message ends with ``(Pod Security Standards <level>: <title>).``

        ``also`` names the baseline control the same field violates, where this restricted
        control replaces it (compliance reports count the finding for both); ``extra``
        properties follow (``expected-for`` where the check lowers it with a reason).
        """
        message = f"{text} (Pod Security Standards {self.level}: {self.title})."
        properties: tuple[tuple[str, str], ...] = (
            ("pss-level", self.level),
            ("pss-control", self.check_id),
        )
        if also is not None:
            properties += (("pss-also-violates", also.check_id),)
        return Violation(path, message, severity, properties + extra)


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


def scalar_text(value: Any) -> str:
    """A scalar as Go would hold it in a string field (null is the empty string)."""
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)


def shown(value: Any) -> str:
    """A value as messages print it: as written, or ``""`` when empty."""
    text = scalar_text(value)
    return text if text else '""'


def is_zero_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value == 0


def allowed(value: Any, names: frozenset[str]) -> bool:
    """Literal membership that never fails on unhashable (malformed) values."""
    return isinstance(value, str) and value in names


def volume_name(volume: dict[str, Any]) -> str:
    return f'"{scalar_text(volume.get("name")) or "?"}"'


def host_path_suffix(host_path: Any) -> str:
    where = host_path.get("path") if isinstance(host_path, dict) else None
    return f" (path {where})" if where else ""


def security_contexts(pod: PodView) -> Iterator[tuple[str, dict[str, Any], FieldPath]]:
    """The pod's securityContext, then each container's: (who, mapping, path)."""
    yield "the pod", pod.security_context, pod.security_context_path
    for container in containers(pod):
        yield container.label, container.security_context, container.security_context_path


def proc_mounts(pod: PodView, control: Control, also: Control | None = None) -> Iterator[Violation]:
    for container in containers(pod):
        value = container.security_context.get("procMount")
        if value is not None and value != "Default":
            yield control.violation(
                (*container.security_context_path, "procMount"),
                f"{container.label} sets securityContext.procMount to {shown(value)}",
                also=also,
            )


def seccomp_type(profile: Any) -> str:
    """The type of a present seccompProfile (``{}`` has type ``""``)."""
    return scalar_text(profile.get("type")) if isinstance(profile, dict) else ""

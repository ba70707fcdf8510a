"""Pod Security Standards restricted controls, with the exact semantics of
pod-security-admission (see :mod:`klint.checks.pod_security` for the baseline ones).

Several restricted controls replace a baseline one (``OverrideCheckIDs`` upstream), so their
violations also name the baseline control the same field breaks.
"""

from __future__ import annotations

from collections.abc import Iterator

from klint.checks.base import Check, Params, UnitContext, Violation
from klint.checks.pss_controls import (
    ALLOWED_VOLUME_SOURCES,
    BASELINE_CAPABILITIES,
    CAPS_BASELINE,
    CAPS_RESTRICTED,
    ESCALATION,
    HOST_PATH,
    NON_ROOT,
    NON_ROOT_USER,
    PROC_MOUNT,
    PROC_MOUNT_RESTRICTED,
    SECCOMP_BASELINE,
    SECCOMP_RESTRICTED,
    SECCOMP_TYPES,
    VOLUMES,
    allowed,
    host_path_suffix,
    is_zero_int,
    proc_mounts,
    seccomp_type,
    security_contexts,
    shown,
    volume_name,
)
from klint.findings import Severity
from klint.model import ContainerView, PodView, containers, pod_view
from klint.model.capabilities import capability_name, capability_names
from klint.model.resource import Resource


def proc_mount_restricted(resource: Resource, _: UnitContext, __: Params) -> Iterator[Violation]:
    """``procMount`` other than ``Default``, with no user-namespace relaxation."""
    pod = pod_view(resource)
    if pod is None:
        return
    baseline = None if pod.host_users_disabled else PROC_MOUNT
    yield from proc_mounts(pod, PROC_MOUNT_RESTRICTED, baseline)


def seccomp_restricted(resource: Resource, _: UnitContext, __: Params) -> Iterator[Violation]:
    """Seccomp RuntimeDefault or Localhost on the pod or every container (Windows exempt)."""
    pod = pod_view(resource)
    if pod is None or pod.is_windows:
        return
    pod_profile = pod.security_context.get("seccompProfile")
    pod_valid = False
    if pod_profile is not None:
        if seccomp_type(pod_profile) in SECCOMP_TYPES:
            pod_valid = True
        else:
            yield SECCOMP_RESTRICTED.violation(
                (*pod.security_context_path, "seccompProfile", "type"),
                f"the pod sets securityContext.seccompProfile.type to "
                f"{shown(seccomp_type(pod_profile))}; use RuntimeDefault or Localhost",
                also=SECCOMP_BASELINE,
            )
    for container in containers(pod):
        profile = container.security_context.get("seccompProfile")
        if container.privileged:
            if profile is not None or not pod_valid:  # KL101 reports the container
                yield SECCOMP_RESTRICTED.violation(
                    (*container.security_context_path, "seccompProfile"),
                    f"{container.label} is privileged, and a privileged container always runs "
                    "seccomp Unconfined, whatever profile it sets (KL101 privileged-container "
                    "reports it): once privileged is removed, set "
                    "securityContext.seccompProfile.type to RuntimeDefault",
                    severity=Severity.NOTE,
                    extra=(("expected-for", "privileged-container"),),
                )
        elif profile is not None:
            if seccomp_type(profile) not in SECCOMP_TYPES:
                yield SECCOMP_RESTRICTED.violation(
                    (*container.security_context_path, "seccompProfile", "type"),
                    f"{container.label} sets securityContext.seccompProfile.type to "
                    f"{shown(seccomp_type(profile))}; use RuntimeDefault or Localhost",
                    also=SECCOMP_BASELINE,
                )
        elif not pod_valid:
            yield SECCOMP_RESTRICTED.violation(
                (*container.security_context_path, "seccompProfile"),
                f"{container.label} has no seccomp profile: set "
                "securityContext.seccompProfile.type to RuntimeDefault on the container or "
                "the pod",
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
                    f"volume {volume_name(volume)} mounts a hostPath{host_path_suffix(value)}",
                    severity=Severity.ERROR,
                    also=HOST_PATH,
                )
            else:
                yield VOLUMES.violation(
                    (*path, key),
                    f"volume {volume_name(volume)} uses volume type {key}, which is not allowed",
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
        elif container.privileged:
            # The API server rejects allowPrivilegeEscalation: false on a privileged container;
            # privileged-container (KL101, never lowered) reports the container as an error
            yield ESCALATION.violation(
                path,
                f"{container.label} is privileged, which always allows privilege escalation "
                "(KL101 privileged-container reports it): allowPrivilegeEscalation cannot be "
                "false while privileged is true; remove privileged, then set it to false",
                severity=Severity.NOTE,
                extra=(("expected-for", "privileged-container"),),
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
            yield NON_ROOT.violation(path, _missing_non_root(container.label, pod, container))


def _missing_non_root(label: str, pod: PodView, container: ContainerView) -> str:
    """What is missing where ``runAsNonRoot`` is unset (a non-zero UID is not root today)."""
    user = container.security_context.get("runAsUser")
    if user is None:
        user = pod.security_context.get("runAsUser")
    if isinstance(user, int) and not isinstance(user, bool) and user > 0:
        return (
            f"{label} runs as user {user} but does not set securityContext.runAsNonRoot to "
            "true, which Pod Security restricted requires (the kubelet then refuses a UID 0 "
            "that a later override or image could bring): set it on the container or the pod"
        )
    return (
        f"{label} may run as root: set securityContext.runAsNonRoot to "
        "true on the container or the pod"
    )


def run_as_user_root(resource: Resource, _: UnitContext, __: Params) -> Iterator[Violation]:
    """``runAsUser: 0`` at pod or container level (pod-level 0 fails even if overridden)."""
    pod = pod_view(resource)
    if pod is None or pod.host_users_disabled:
        return
    for who, context, path in security_contexts(pod):
        if is_zero_int(context.get("runAsUser")):
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
    """Drop ALL, add at most NET_BIND_SERVICE: names read as the runtime reads them, with a
    note where only the spelling differs from upstream's literal comparison."""
    path = (*container.security_context_path, "capabilities")
    capabilities = container.security_context.get("capabilities")
    if not isinstance(capabilities, dict):
        capabilities = {}
    dropped = capabilities.get("drop")
    literal_all = isinstance(dropped, list) and "ALL" in [d for d in dropped if isinstance(d, str)]
    if not literal_all and "ALL" in capability_names(dropped):
        yield CAPS_RESTRICTED.violation(
            (*path, "drop"),
            f"{container.label} drops every capability, but spells ALL otherwise: Pod Security "
            'admission compares literally and rejects it; write "ALL"',
            severity=Severity.NOTE,
        )
    elif not literal_all and container.privileged:
        # privileged-container (KL101, never lowered) reports the container as an error
        yield CAPS_RESTRICTED.violation(
            (*path, "drop"),
            f"{container.label} does not drop all capabilities, but it is privileged, which "
            "grants every capability whatever it drops (KL101 privileged-container reports it): "
            'dropping does nothing until privileged is removed; then add "ALL" to '
            "securityContext.capabilities.drop",
            severity=Severity.NOTE,
            extra=(("expected-for", "privileged-container"),),
        )
    elif not literal_all:
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
        # Upstream's baseline verdict is literal (``chown`` fails it); the risk is the
        # runtime's reading (``chown`` is CHOWN): ``also`` follows the first, severity the second.
        also = None if allowed(capability, BASELINE_CAPABILITIES) else CAPS_BASELINE
        name = capability_name(capability)
        # The baseline rule reports every name outside its literal set (a note where only
        # the spelling differs): the same field's violation, so it stands for both.
        baseline_reports = not allowed(capability, BASELINE_CAPABILITIES)
        also = CAPS_BASELINE if baseline_reports else None
        if name == "NET_BIND_SERVICE":
            yield CAPS_RESTRICTED.violation(
                (*path, "add", index),
                f"{container.label} writes capability {capability}, which the runtime reads "
                "as NET_BIND_SERVICE but Pod Security admission rejects: write NET_BIND_SERVICE",
                severity=Severity.NOTE,
                also=also,
            )
            continue
        yield CAPS_RESTRICTED.violation(
            (*path, "add", index),
            f"{container.label} adds capability {name or capability}; only NET_BIND_SERVICE "
            "may be added",
            severity=Severity.ERROR if name not in BASELINE_CAPABILITIES else None,
            also=also,
        )


CHECKS = (
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

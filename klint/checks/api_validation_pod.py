"""Pod-spec validation of the API server that no schema expresses.

Each check mirrors a function of ``pkg/apis/core/validation/validation.go`` (named in the
check's docstring and its rule's references) and reports what that function rejects, at
the offending field, for every workload kind with a pod template.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from klint.checks.api_names import env_var_name, port_name, port_number, user_id
from klint.checks.base import Check, Params, UnitContext, Violation
from klint.findings import FieldPath, Severity
from klint.model import ContainerView, PodView, containers, pod_view
from klint.model.resource import Resource
from klint.quantity import QuantityError, parse_field_quantity

_FIELD_REFS = frozenset(
    {
        "metadata.name",
        "metadata.namespace",
        "metadata.uid",
        "metadata.labels",
        "metadata.annotations",
        "spec.nodeName",
        "spec.serviceAccountName",
        "status.hostIP",
        "status.hostIPs",
        "status.podIP",
        "status.podIPs",
    }
)
_VALUE_SOURCES = ("fieldRef", "resourceFieldRef", "configMapKeyRef", "secretKeyRef", "fileKeyRef")
_PROBE_HANDLERS = ("exec", "httpGet", "tcpSocket", "grpc")


def _items(value: Any) -> Iterator[tuple[int, dict[str, Any]]]:
    if isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, dict):
                yield index, item


def _pod(resource: Resource) -> PodView | None:
    return pod_view(resource)


def privileged_without_escalation(
    resource: Resource, _: UnitContext, __: Params
) -> Iterator[Violation]:
    """ValidateSecurityContext: ``allowPrivilegeEscalation: false`` with privileged/SYS_ADMIN."""
    pod = _pod(resource)
    if pod is None:
        return
    for container in containers(pod):
        context = container.security_context
        if context.get("allowPrivilegeEscalation") is not False:
            continue
        path = (*container.security_context_path, "allowPrivilegeEscalation")
        if container.privileged:
            yield Violation(
                path,
                f"{container.label} sets allowPrivilegeEscalation to false and privileged to "
                "true; the API server rejects the combination.",
            )
        added = context.get("capabilities", {})
        added = added.get("add") if isinstance(added, dict) else None
        if isinstance(added, list) and "CAP_SYS_ADMIN" in added:
            yield Violation(
                path,
                f"{container.label} sets allowPrivilegeEscalation to false and adds "
                "CAP_SYS_ADMIN; the API server rejects the combination.",
            )


def duplicate_names(resource: Resource, _: UnitContext, __: Params) -> Iterator[Violation]:
    """validateContainers, ValidateVolumes, validateContainerPorts, ValidateVolumeMounts."""
    pod = _pod(resource)
    if pod is None:
        return
    seen: dict[str, FieldPath] = {}
    for container in containers(pod):
        name = container.data.get("name")
        if isinstance(name, str):
            if name in seen:
                yield Violation(
                    (*container.path, "name"),
                    f'container name "{name}" is used twice in the pod (containers, init and '
                    "ephemeral containers share one namespace of names).",
                )
            seen.setdefault(name, container.path)
        yield from _duplicates(container, "ports", "name", "port name")
        yield from _duplicates(container, "volumeMounts", "mountPath", "mount path")
    volumes: set[str] = set()
    for volume, path in pod.volumes():
        name = volume.get("name")
        if isinstance(name, str):
            if name in volumes:
                yield Violation((*path, "name"), f'volume name "{name}" is used twice.')
            volumes.add(name)
    yield from _duplicate_host_ports(pod)


def _duplicates(container: ContainerView, key: str, field: str, what: str) -> Iterator[Violation]:
    seen: set[Any] = set()
    for index, item in _items(container.data.get(key)):
        value = item.get(field)
        if value is None:
            continue
        if value in seen:
            yield Violation(
                (*container.path, key, index, field),
                f'{container.label} uses {what} "{value}" twice.',
            )
        seen.add(value)


def _duplicate_host_ports(pod: PodView) -> Iterator[Violation]:
    """AccumulateUniqueHostPorts: one hostPort/protocol/hostIP per pod."""
    seen: set[tuple[Any, Any, Any]] = set()
    for container in containers(pod, ("initContainers", "containers")):
        for index, port in _items(container.data.get("ports")):
            host = port.get("hostPort")
            if not isinstance(host, int) or host == 0:
                continue
            key = (host, port.get("protocol") or "TCP", port.get("hostIP") or "")
            if key in seen:
                yield Violation(
                    (*container.path, "ports", index, "hostPort"),
                    f"{container.label} uses hostPort {host}/{key[1]} that another port of "
                    "the pod already uses.",
                )
            seen.add(key)


def duplicate_env(resource: Resource, _: UnitContext, __: Params) -> Iterator[Violation]:
    """Warnings of pkg/api/pod/warnings.go: an env var that hides an earlier one."""
    pod = _pod(resource)
    if pod is None:
        return
    for container in containers(pod):
        seen: set[str] = set()
        for index, item in _items(container.data.get("env")):
            name = item.get("name")
            if isinstance(name, str) and name in seen:
                yield Violation(
                    (*container.path, "env", index, "name"),
                    f'{container.label} defines environment variable "{name}" twice; the '
                    "later value hides the earlier one.",
                )
            if isinstance(name, str):
                seen.add(name)


def dangling_volume_mount(resource: Resource, _: UnitContext, __: Params) -> Iterator[Violation]:
    """ValidateVolumeMounts / ValidateVolumeDevices: each must name a volume of the pod.

    A StatefulSet's ``volumeClaimTemplates`` count as volumes (``ValidateStatefulSetSpec``).
    """
    pod = _pod(resource)
    if pod is None:
        return
    volumes = {str(volume.get("name")) for volume, _ in pod.volumes()}
    if resource.kind == "StatefulSet":  # claims from the templates are volumes too
        for _index, claim in _items(resource.get("spec", "volumeClaimTemplates")):
            name = (
                claim.get("metadata", {}).get("name")
                if isinstance(claim.get("metadata"), dict)
                else None
            )
            volumes.add(str(name))
    for container in containers(pod):
        for key, what in (("volumeMounts", "mounts"), ("volumeDevices", "uses device")):
            for index, item in _items(container.data.get(key)):
                name = item.get("name")
                if isinstance(name, str) and name not in volumes:
                    yield Violation(
                        (*container.path, key, index, "name"),
                        f'{container.label} {what} volume "{name}", which the pod does not '
                        "define in spec.volumes.",
                    )


def invalid_env_source(resource: Resource, _: UnitContext, __: Params) -> Iterator[Violation]:
    """validateEnvVarValueFrom, validateObjectFieldSelector, ValidateEnvFrom."""
    pod = _pod(resource)
    if pod is None:
        return
    for container in containers(pod):
        for index, item in _items(container.data.get("env")):
            path = (*container.path, "env", index)
            name = item.get("name")
            if isinstance(name, str) and env_var_name(name):
                yield Violation(
                    (*path, "name"),
                    f'{container.label}: env var name "{name}" {env_var_name(name)}.',
                )
            source = item.get("valueFrom")
            if not isinstance(source, dict):
                continue
            given = [key for key in _VALUE_SOURCES if source.get(key) is not None]
            label = f'{container.label} env "{item.get("name")}"'
            if len(given) != 1:
                yield Violation(
                    (*path, "valueFrom"),
                    f"{label}: valueFrom must set exactly one of {', '.join(_VALUE_SOURCES)}"
                    f" (sets {len(given)}).",
                )
            if "value" in item and item.get("value") not in (None, ""):
                yield Violation(
                    (*path, "value"),
                    f"{label} sets both value and valueFrom; the API server accepts only one.",
                )
            field_path = source.get("fieldRef", {})
            field_path = field_path.get("fieldPath") if isinstance(field_path, dict) else None
            if isinstance(field_path, str) and not _supported_field(field_path):
                yield Violation(
                    (*path, "valueFrom", "fieldRef", "fieldPath"),
                    f'{label}: fieldRef "{field_path}" is not a supported field (supported: '
                    f"{', '.join(sorted(_FIELD_REFS))}, metadata.labels['KEY'], "
                    "metadata.annotations['KEY']).",
                )
        for index, item in _items(container.data.get("envFrom")):
            prefix = item.get("prefix")
            if isinstance(prefix, str) and prefix and env_var_name(prefix):
                yield Violation(
                    (*container.path, "envFrom", index, "prefix"),
                    f'{container.label}: envFrom prefix "{prefix}" {env_var_name(prefix)}.',
                )
            given = [key for key in ("configMapRef", "secretRef") if item.get(key) is not None]
            if len(given) != 1:
                yield Violation(
                    (*container.path, "envFrom", index),
                    f"{container.label}: each envFrom entry must set exactly one of "
                    "configMapRef and secretRef.",
                )


def _supported_field(path: str) -> bool:
    if path in _FIELD_REFS:
        return True
    for prefix in ("metadata.labels['", "metadata.annotations['"):
        if path.startswith(prefix) and path.endswith("']") and len(path) > len(prefix) + 2:
            return True
    return False


def invalid_port(resource: Resource, _: UnitContext, __: Params) -> Iterator[Violation]:
    """validateContainerPorts and ValidateService: port ranges and IANA port names."""
    pod = _pod(resource)
    if pod is not None:
        for container in containers(pod):
            for index, port in _items(container.data.get("ports")):
                path = (*container.path, "ports", index)
                for key, zero in (("containerPort", False), ("hostPort", True)):
                    problem = port_number(port.get(key), zero=zero)
                    if problem:
                        yield Violation(
                            (*path, key), f"{container.label}: {key} {port.get(key)} {problem}."
                        )
                name = port.get("name")
                if isinstance(name, str) and port_name(name):
                    yield Violation(
                        (*path, "name"),
                        f'{container.label}: port name "{name}" {port_name(name)}.',
                    )
    if resource.kind == "Service" and resource.group == "":
        yield from _service_ports(resource)


def _service_ports(resource: Resource) -> Iterator[Violation]:
    ports = list(_items(resource.get("spec", "ports")))
    names: set[str] = set()
    for index, port in ports:
        path = ("spec", "ports", index)
        for key, zero in (("port", False), ("nodePort", True)):
            problem = port_number(port.get(key), zero=zero)
            if problem:
                yield Violation((*path, key), f"Service port {key} {port.get(key)} {problem}.")
        target = port.get("targetPort")
        if isinstance(target, int) and port_number(target):
            yield Violation(
                (*path, "targetPort"), f"Service targetPort {target} {port_number(target)}."
            )
        elif isinstance(target, str) and port_name(target):
            yield Violation(
                (*path, "targetPort"), f'Service targetPort "{target}" {port_name(target)}.'
            )
        name = port.get("name")
        if len(ports) > 1 and not name:
            yield Violation(path, "a Service with several ports must name each of them.")
        if isinstance(name, str) and name in names:
            yield Violation((*path, "name"), f'Service port name "{name}" is used twice.')
        if isinstance(name, str):
            names.add(name)


def id_out_of_range(resource: Resource, _: UnitContext, __: Params) -> Iterator[Violation]:
    """ValidatePodSecurityContext / ValidateSecurityContext: user and group ids."""
    pod = _pod(resource)
    if pod is None:
        return
    places: list[tuple[dict[str, Any], FieldPath, str]] = [
        (pod.security_context, pod.security_context_path, "the pod")
    ]
    places += [(c.security_context, c.security_context_path, c.label) for c in containers(pod)]
    for context, path, label in places:
        for key in ("runAsUser", "runAsGroup", "fsGroup"):
            problem = user_id(context.get(key))
            if problem:
                yield Violation((*path, key), f"{label}: {key} {context.get(key)} {problem}.")
        groups = context.get("supplementalGroups")
        for index, group in enumerate(groups if isinstance(groups, list) else []):
            if user_id(group):
                yield Violation(
                    (*path, "supplementalGroups", index),
                    f"{label}: supplemental group {group} {user_id(group)}.",
                )


def invalid_resources(resource: Resource, _: UnitContext, __: Params) -> Iterator[Violation]:
    """ValidateResourceRequirements: quantities that parse, are not negative, requests <= limits."""
    pod = _pod(resource)
    if pod is None:
        return
    for container in containers(pod):
        values: dict[str, dict[str, Any]] = {}
        for kind in ("requests", "limits"):
            found = container.get("resources", kind)
            if not isinstance(found, dict):
                continue
            for name, raw in found.items():
                path = (*container.path, "resources", kind, name)
                try:
                    value = parse_field_quantity(raw)
                except QuantityError:
                    yield Violation(
                        path, f'{container.label}: {kind}.{name} "{raw}" is not a quantity.'
                    )
                    continue
                if value < 0:
                    yield Violation(path, f"{container.label}: {kind}.{name} must not be negative.")
                elif name == "memory" and value.denominator != 1:
                    yield Violation(
                        path,
                        f'{container.label}: {kind}.memory "{raw}" is a fractional number of '
                        'bytes (the "m" suffix means thousandths, not mega); the API server '
                        "warns that it is invalid and rounds it up: write Mi or M.",
                        severity=Severity.WARNING,
                    )
                values.setdefault(kind, {})[str(name)] = (value, raw)
        for name, (request, raw) in values.get("requests", {}).items():
            limit = values.get("limits", {}).get(name)
            if limit is not None and request > limit[0]:
                yield Violation(
                    (*container.path, "resources", "requests", name),
                    f"{container.label}: requests.{name} {raw} is above limits.{name} "
                    f"{limit[1]}; a request must be less than or equal to its limit.",
                )


def invalid_probe(resource: Resource, _: UnitContext, __: Params) -> Iterator[Violation]:
    """validateProbe / validateHandler: exactly one handler; liveness successThreshold 1."""
    pod = _pod(resource)
    if pod is None:
        return
    for container in containers(pod, ("initContainers", "containers")):
        plain_init = container.list_name == "initContainers"
        plain_init = plain_init and container.data.get("restartPolicy") != "Always"
        for key in ("livenessProbe", "readinessProbe", "startupProbe"):
            probe = container.data.get(key)
            if not isinstance(probe, dict):
                continue
            path = (*container.path, key)
            if plain_init:
                yield Violation(
                    path,
                    f"{container.label}: {key} may not be set on an init container without "
                    "restartPolicy: Always (only sidecars are probed).",
                )
            yield from _probe_ports(container, key, probe)
            handlers = [h for h in _PROBE_HANDLERS if probe.get(h) is not None]
            if len(handlers) != 1:
                text = "sets no handler" if not handlers else f"sets {', '.join(handlers)}"
                yield Violation(
                    path,
                    f"{container.label}: {key} {text}; a probe needs exactly one of "
                    f"{', '.join(_PROBE_HANDLERS)}.",
                )
            threshold = probe.get("successThreshold")
            if key != "readinessProbe" and isinstance(threshold, int) and threshold != 1:
                yield Violation(
                    (*path, "successThreshold"),
                    f"{container.label}: {key}.successThreshold must be 1, not {threshold}.",
                )
            for field in ("initialDelaySeconds", "timeoutSeconds", "periodSeconds"):
                value = probe.get(field)
                if isinstance(value, int) and not isinstance(value, bool) and value < 0:
                    yield Violation(
                        (*path, field), f"{container.label}: {key}.{field} must not be negative."
                    )


def _probe_ports(container: ContainerView, key: str, probe: dict[str, Any]) -> Iterator[Violation]:
    """validateHTTPGetAction / validateTCPSocketAction / validateGRPCAction: port numbers
    1-65535, port names IANA service names."""
    for handler in ("httpGet", "tcpSocket", "grpc"):
        action = probe.get(handler)
        port = action.get("port") if isinstance(action, dict) else None
        where = (*container.path, key, handler, "port")
        if isinstance(port, int) and port_number(port):
            yield Violation(where, f"{container.label}: {key} port {port} {port_number(port)}.")
        elif isinstance(port, str) and handler != "grpc" and not port.isdigit() and port_name(port):
            yield Violation(where, f'{container.label}: {key} port "{port}" {port_name(port)}.')


CHECKS = (
    Check(
        "api-privileged-without-escalation",
        privileged_without_escalation,
        privileged_without_escalation.__doc__ or "",
    ),
    Check("api-duplicate-names", duplicate_names, duplicate_names.__doc__ or ""),
    Check("api-duplicate-env", duplicate_env, duplicate_env.__doc__ or ""),
    Check("api-dangling-volume-mount", dangling_volume_mount, dangling_volume_mount.__doc__ or ""),
    Check("api-invalid-env-source", invalid_env_source, invalid_env_source.__doc__ or ""),
    Check("api-invalid-port", invalid_port, invalid_port.__doc__ or ""),
    Check("api-id-out-of-range", id_out_of_range, id_out_of_range.__doc__ or ""),
    Check("api-invalid-resources", invalid_resources, invalid_resources.__doc__ or ""),
    Check("api-invalid-probe", invalid_probe, invalid_probe.__doc__ or ""),
)

"""Resource requests and limits, and container health probes."""

from __future__ import annotations

from collections.abc import Iterator

from klint.checks.base import Check, Params, UnitContext, Violation
from klint.findings import Severity
from klint.model import containers, pod_view
from klint.model.resource import Resource


def _sizes_nothing(context: UnitContext) -> bool:
    """Whether the unit has two or more workloads and none of their containers sets any
    ``resources`` entry: the project leaves sizing to whoever installs it (derived once)."""

    def compute(unit: UnitContext) -> bool:
        workloads = 0
        for resource in unit.resources:
            pod = pod_view(resource)
            if pod is None:
                continue
            workloads += 1
            for container in containers(pod, ("initContainers", "containers")):
                for key in ("requests", "limits"):
                    values = container.get("resources", key)
                    if isinstance(values, dict) and values:
                        return False
        return workloads >= 2

    return context.derived("resources:sizes-nothing", compute)


_NO_SIZING = (
    "no workload in this input sets resources: sizing is left to the installer (kept as a note)"
)
_UNSIZED = (("expected-for", "unit-without-resources"),)
_RUNS_ONCE = (
    "an init container runs once, to completion, before the pod's containers start, so it "
    "cannot hold the node's resources for long (kept as a note)"
)
_INIT = (("expected-for", "init-container"),)


def missing_limits(resource: Resource, context: UnitContext, params: Params) -> Iterator[Violation]:
    """Containers without the configured ``resources.limits`` (cpu and memory by default).

    Notes rather than warnings: requests set for every missing limit (Burstable on
    purpose); only the cpu limit missing beside a memory limit (CPU is compressible and
    limits throttle: leaving them out is a common deliberate choice); and a unit where no
    workload sets any resources (sizing left to the installer)."""
    pod = pod_view(resource)
    if pod is None:
        return
    wanted = [str(name) for name in params["resources"]]
    for container in containers(pod, ("initContainers", "containers")):
        limits = container.get("resources", "limits")
        present = limits if isinstance(limits, dict) else {}
        missing = [name for name in wanted if present.get(name) in (None, "")]
        if not missing:
            continue
        path = (*container.path, "resources", "limits")
        text = f"{container.label} has no {' or '.join(missing)} limit in resources.limits"
        requests = container.get("resources", "requests")
        requested = requests if isinstance(requests, dict) else {}
        if all(requested.get(name) not in (None, "") for name in missing):
            # Sized for scheduling; leaving limits out (Burstable QoS) is a deliberate choice
            # many upstreams make, and a LimitRange can still set them: a note.
            yield Violation(
                path,
                f"{text}, but sets requests for {' and '.join(missing)}: it is scheduled for "
                "them and may use more (expected for an upstream that leaves limits out on "
                "purpose; kept as a note).",
                severity=Severity.NOTE,
                properties=(("expected-for", "requests-without-limits"),),
            )
        elif missing == ["cpu"] and present.get("memory") not in (None, ""):
            yield Violation(
                path,
                f"{text}, but limits memory: CPU is compressible (a busy container is slowed, "
                "not killed, and CPU limits throttle), so leaving the cpu limit out is a common "
                "deliberate choice (kept as a note; set a cpu request so it is scheduled for "
                "what it uses).",
                severity=Severity.NOTE,
                properties=(("expected-for", "memory-limit-without-cpu-limit"),),
            )
        elif container.list_name == "initContainers" and container.data.get("restartPolicy") != (
            "Always"  # a sidecar (restartable init container) runs as long as the pod
        ):
            yield Violation(path, f"{text}: {_RUNS_ONCE}.", Severity.NOTE, _INIT)
        elif _sizes_nothing(context):
            yield Violation(path, f"{text}: {_NO_SIZING}.", Severity.NOTE, _UNSIZED)
        else:
            yield Violation(path, f"{text}.")


def missing_requests(
    resource: Resource, context: UnitContext, params: Params
) -> Iterator[Violation]:
    """Containers with neither a request nor a limit (which requests default to); notes in
    a unit where no workload sets any resources."""
    pod = pod_view(resource)
    if pod is None:
        return
    wanted = [str(name) for name in params["resources"]]
    for container in containers(pod, ("initContainers", "containers")):
        requests = container.get("resources", "requests")
        limits = container.get("resources", "limits")
        requested = requests if isinstance(requests, dict) else {}
        limited = limits if isinstance(limits, dict) else {}
        missing = [
            name
            for name in wanted
            if requested.get(name) in (None, "") and limited.get(name) in (None, "")
        ]
        if missing:
            path = (*container.path, "resources", "requests")
            text = f"{container.label} has no {' or '.join(missing)} request in resources.requests"
            if _sizes_nothing(context):
                yield Violation(path, f"{text}: {_NO_SIZING}.", Severity.NOTE, _UNSIZED)
            else:
                yield Violation(path, f"{text}.")


# Workloads whose pods run until stopped (and bare Pods with restartPolicy Always: a failed
# liveness probe restarts the container in place with or without a controller); Jobs and
# CronJobs run to completion.
LONG_RUNNING = frozenset(
    {
        "Deployment",
        "StatefulSet",
        "DaemonSet",
        "ReplicaSet",
        "ReplicationController",
        "Rollout",
        "DeploymentConfig",
    }
)


def missing_probe(resource: Resource, _: UnitContext, params: Params) -> Iterator[Violation]:
    """Regular containers of long-running workloads without the configured probe."""
    pod = pod_view(resource)
    if pod is None:
        return
    restarts = pod.spec.get("restartPolicy") in (None, "Always")
    if resource.kind not in LONG_RUNNING and not (resource.kind == "Pod" and restarts):
        return
    probe = str(params["probe"])
    for container in containers(pod, ("containers",)):
        if not isinstance(container.data.get(probe), dict):
            yield Violation((*container.path, probe), f"{container.label} has no {probe}.")


_HANDLERS = ("httpGet", "tcpSocket", "grpc", "exec")


def identical_probes(resource: Resource, _: UnitContext, __: Params) -> Iterator[Violation]:
    """Liveness and readiness probes that are the same (a busy pod gets restarted)."""
    pod = pod_view(resource)
    if pod is None:
        return
    for container in containers(pod, ("containers",)):
        liveness = container.data.get("livenessProbe")
        readiness = container.data.get("readinessProbe")
        if not isinstance(liveness, dict) or not isinstance(readiness, dict):
            continue
        if any(key in liveness for key in _HANDLERS) and liveness == readiness:
            yield Violation(
                (*container.path, "livenessProbe"),
                f"{container.label} uses the same check for livenessProbe and readinessProbe.",
            )


_PROBES = ("livenessProbe", "readinessProbe", "startupProbe")


def probe_port_not_exposed(resource: Resource, _: UnitContext, __: Params) -> Iterator[Violation]:
    """Probes that name a port the container does not declare (the probe can never pass)."""
    pod = pod_view(resource)
    if pod is None:
        return
    for container in containers(pod, ("containers",)):
        ports = container.data.get("ports")
        names = {
            str(port.get("name"))
            for port in (ports if isinstance(ports, list) else [])
            if isinstance(port, dict) and port.get("name") is not None
        }
        for probe in _PROBES:
            for handler in ("httpGet", "tcpSocket", "grpc"):
                port = container.get(probe, handler, "port")
                if isinstance(port, str) and not port.isdigit() and port not in names:
                    yield Violation(
                        (*container.path, probe, handler, "port"),
                        f'{container.label} {probe} uses port "{port}", which the container '
                        "does not declare in ports.",
                    )


_PROBE_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["probe"],
    "properties": {"probe": {"enum": ["livenessProbe", "readinessProbe", "startupProbe"]}},
}

_RESOURCE_NAMES = {
    "type": "object",
    "additionalProperties": False,
    "properties": {"resources": {"type": "array", "items": {"type": "string"}, "minItems": 1}},
}

CHECKS = (
    Check(
        "missing-limits",
        missing_limits,
        "Containers without resource limits.",
        _RESOURCE_NAMES,
        {"resources": ["cpu", "memory"]},
    ),
    Check(
        "missing-requests",
        missing_requests,
        "Containers without resource requests.",
        _RESOURCE_NAMES,
        {"resources": ["cpu", "memory"]},
    ),
    Check(
        "missing-probe", missing_probe, "Long-running containers without a probe.", _PROBE_SCHEMA
    ),
    Check("identical-probes", identical_probes, "Identical liveness and readiness probes."),
    Check(
        "probe-port-not-exposed",
        probe_port_not_exposed,
        "Probes naming a port the container does not declare.",
    ),
)

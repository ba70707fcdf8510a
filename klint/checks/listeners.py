"""Workloads that listen on nothing: no container declares a port and no Service of the
input selects their pods (image pullers and capacity placeholders that run ``pause``).
Nothing connects to such pods, so an ingress NetworkPolicy for them protects nothing."""

from __future__ import annotations

from klint.checks.base import UnitContext
from klint.checks.selectors import GENERATED_LABELS, matches_map, namespace_of, pod_labels
from klint.model import containers
from klint.model.resource import Resource
from klint.model.workload import PodView

NO_LISTENER = "a workload that declares no port and no Service selects it: nothing connects to it"


def _service_selectors(context: UnitContext) -> dict[str, list[dict[str, str]]]:
    """The selectors (without controller-generated labels) of the unit's Services, by
    namespace (computed once per unit)."""

    def compute(unit: UnitContext) -> dict[str, list[dict[str, str]]]:
        found: dict[str, list[dict[str, str]]] = {}
        for service in unit.of_kind("Service"):
            if service.api_version != "v1":
                continue
            selector = service.get("spec", "selector")
            plain = {
                str(k): "" if v is None else str(v)
                for k, v in (selector.items() if isinstance(selector, dict) else ())
                if str(k) not in GENERATED_LABELS
            }
            found.setdefault(namespace_of(service), []).append(plain)
        return found

    return context.derived("listeners:service-selectors", compute)


def listens_on_nothing(resource: Resource, pod: PodView, context: UnitContext) -> bool:
    """No container of the pod declares a port or is probed on one (a kube-scheduler
    probed on 10259 listens without declaring it), the input holds Services (so the ones that
    would select it are there) and none of them selects the pod's labels. A Service without
    a selector (endpoints managed by hand or by a controller) may point anywhere: its
    namespace counts as selecting every pod."""
    for container in containers(pod, ("initContainers", "containers")):
        ports = container.data.get("ports")
        if (isinstance(ports, list) and ports) or _probed_port(container.data):
            return False
    services = _service_selectors(context)
    if not services:
        return False
    labels = pod_labels(pod)
    for selector in services.get(namespace_of(resource), []):
        if not selector or matches_map(selector, labels):
            return False
    return True


def _probed_port(container: dict[str, object]) -> bool:
    """A probe of the container connects to it (``httpGet``, ``tcpSocket``, ``grpc``)."""
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        found = container.get(probe)
        if isinstance(found, dict) and any(k in found for k in ("httpGet", "tcpSocket", "grpc")):
            return True
    return False

"""Objects that are neither workloads nor networking: OpenShift SCCs, monitoring CRDs."""

from __future__ import annotations

from collections.abc import Iterator

from klint.checks.base import Check, Params, UnitContext, Violation
from klint.checks.selectors import matches_label_selector, namespace_of
from klint.model.resource import Resource

_SCC_FLAGS = (
    "allowPrivilegedContainer",
    "allowHostNetwork",
    "allowHostPID",
    "allowHostIPC",
    "allowHostDirVolumePlugin",
)


def scc_privileged(resource: Resource, _: UnitContext, __: Params) -> Iterator[Violation]:
    """OpenShift SecurityContextConstraints that admit privileged or host-sharing pods."""
    if resource.kind != "SecurityContextConstraints":
        return
    for flag in _SCC_FLAGS:
        if resource.data.get(flag) is True:
            yield Violation(
                (flag,),
                f'SecurityContextConstraints "{resource.name}" sets {flag} to true.',
            )


def dangling_service_monitor(
    resource: Resource, context: UnitContext, _: Params
) -> Iterator[Violation]:
    """Prometheus ServiceMonitors whose selector matches no Service (if the unit has any)."""
    if resource.kind != "ServiceMonitor" or resource.group != "monitoring.coreos.com":
        return
    services = context.of_kind("Service")
    if not services:
        return
    selector = resource.get("spec", "selector")
    names = resource.get("spec", "namespaceSelector", "matchNames")
    if resource.get("spec", "namespaceSelector", "any") is True:
        namespaces = None
    elif isinstance(names, list) and names:
        namespaces = {str(n) for n in names}
    else:
        namespaces = {namespace_of(resource)}
    by_namespace = context.indexed("services-by-ns", ("Service",), lambda s: [namespace_of(s)])
    candidates = (
        services
        if namespaces is None
        else [s for namespace in sorted(namespaces) for s in by_namespace.get(namespace, ())]
    )
    for service in candidates:
        context.budget.check()
        if matches_label_selector(selector, service.labels):
            return
    yield Violation(
        ("spec", "selector"),
        f'ServiceMonitor "{resource.name}" selects no Service of this input.',
    )


CHECKS = (
    Check("scc-privileged", scc_privileged, "SCCs admitting privileged or host-sharing pods."),
    Check(
        "dangling-service-monitor",
        dangling_service_monitor,
        "ServiceMonitors selecting no Service.",
    ),
)

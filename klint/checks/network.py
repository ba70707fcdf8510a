"""Networking: Services, Ingresses and NetworkPolicies, alone and against each other.

Cross-object checks look only at the same lint unit (a file, chart or overlay) and keep
quiet when the unit lacks the objects they compare against, so a partial input does not
produce findings about objects that simply live elsewhere.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from klint.checks.base import Check, Params, UnitContext, Violation
from klint.checks.listeners import NO_LISTENER, listens_on_nothing
from klint.checks.network_policies import (
    CILIUM_KINDS,
    cilium_open_peers,
    cilium_rules,
    cilium_selects,
    ingress_isolation,
    is_network_policy,
    policies_for,
)
from klint.checks.selectors import (
    label_groups,
    namespace_of,
    pod_labels,
    pod_templates,
    selected_templates,
)
from klint.findings import Severity
from klint.model import PodView, pod_view
from klint.model.resource import Resource, dig

INGRESS_KINDS = ("Ingress",)
INTERNAL_LB_ANNOTATIONS = {
    "service.beta.kubernetes.io/aws-load-balancer-internal": None,
    "service.beta.kubernetes.io/aws-load-balancer-scheme": "internal",
    "networking.gke.io/load-balancer-type": "internal",
    "cloud.google.com/load-balancer-type": "internal",
    "service.beta.kubernetes.io/azure-load-balancer-internal": "true",
    "service.beta.kubernetes.io/oci-load-balancer-internal": "true",
    "service.beta.kubernetes.io/openstack-internal-load-balancer": "true",
    "service.kubernetes.io/ibm-load-balancer-cloud-provider-ip-type": "private",
}
_ANYWHERE = frozenset({"0.0.0.0/0", "::/0"})


def _workload(resource: Resource) -> str:
    return f'{resource.kind} "{resource.name or "?"}"'


def pod_not_isolated(
    resource: Resource, context: UnitContext, params: Params
) -> Iterator[Violation]:
    """Pod templates that no ingress network policy (Kubernetes or Cilium) selects.

    ``scope: selected`` reports only where the namespace has policies in the unit (some
    pods covered, this one not); ``scope: namespace`` only where it has none at all.
    """
    if resource.kind == "Namespace" and resource.group == "" and params["scope"] == "namespace":
        yield from _namespace_not_covered(resource, context)
        return
    pod = pod_view(resource)
    if pod is None:
        return
    namespace = namespace_of(resource)
    policies = policies_for(context, namespace)
    if params["scope"] == "namespace":
        if not policies and namespace not in _declared_namespaces(context):
            yield _unisolated(
                resource,
                pod,
                context,
                f'{_workload(resource)} runs in namespace "{namespace}", which has no '
                "NetworkPolicy in this input: its pods accept traffic from any pod",
            )
        return
    if not policies:
        return
    if not ingress_isolation(context).isolated(pod_labels(pod), namespace):
        yield _unisolated(
            resource,
            pod,
            context,
            f"the pods of {_workload(resource)} are selected by no ingress NetworkPolicy in "
            f'namespace "{namespace}"',
        )


def _unisolated(resource: Resource, pod: PodView, context: UnitContext, text: str) -> Violation:
    """The finding on pods no ingress policy isolates: a note when they listen on nothing."""
    where = (*pod.metadata_path, "labels")
    if listens_on_nothing(resource, pod, context):
        note = f"{text} (expected for {NO_LISTENER}; kept as a note)."
        return Violation(where, note, Severity.NOTE, (("expected-for", "no-listener"),))
    return Violation(where, f"{text}.")


def _declared_namespaces(context: UnitContext) -> set[str]:
    return {n.name for n in context.of_kind("Namespace") if n.group == "" and n.name}


def _namespace_not_covered(resource: Resource, context: UnitContext) -> Iterator[Violation]:
    """A Namespace of the input with no NetworkPolicy in it (its workloads are not
    reported one by one then: the finding is the namespace's)."""
    if not resource.name or policies_for(context, resource.name):
        return
    if resource.name in ("kube-system", "kube-public", "kube-node-lease"):
        return
    yield Violation(
        ("metadata", "name"),
        f'Namespace "{resource.name}" has no NetworkPolicy in this input: its pods accept '
        "traffic from any pod and reach any destination.",
    )


def policy_ignored_rules(resource: Resource, _: UnitContext, __: Params) -> Iterator[Violation]:
    """NetworkPolicy ``ingress``/``egress`` rules that ``policyTypes`` switches off.

    With ``policyTypes`` set, a direction it does not list is not enforced: its rules are
    accepted and ignored, and that traffic stays open (an unset ``policyTypes`` is
    defaulted from the rules present, so nothing is ignored then).
    """
    if resource.kind != "NetworkPolicy" or resource.group != "networking.k8s.io":
        return
    types = resource.get("spec", "policyTypes")
    if not isinstance(types, list):
        return
    for direction, kind in (("ingress", "Ingress"), ("egress", "Egress")):
        rules = resource.get("spec", direction)
        if isinstance(rules, list) and rules and kind not in types:
            listed = ", ".join(str(t) for t in types) or "nothing"
            yield Violation(
                ("spec", direction),
                f'NetworkPolicy "{resource.name}" has {direction} rules but policyTypes lists '
                f"only {listed}: the {direction} rules are ignored and {direction} traffic of "
                f"the selected pods stays unrestricted; add {kind} to policyTypes.",
            )


SSH_PORTS = frozenset({22, 2222})


def service_ssh_port(resource: Resource, _: UnitContext, __: Params) -> Iterator[Violation]:
    """Service ports that forward to SSH (target port 22 or 2222, or port when no target)."""
    if resource.kind != "Service" or resource.group != "":
        return
    ports = resource.get("spec", "ports")
    for index, port in enumerate(ports if isinstance(ports, list) else []):
        if not isinstance(port, dict):
            continue
        target = port.get("targetPort", port.get("port"))
        key = "targetPort" if "targetPort" in port else "port"
        if isinstance(target, int) and not isinstance(target, bool) and target in SSH_PORTS:
            yield Violation(
                ("spec", "ports", index, key),
                f'Service "{resource.name}" forwards port {port.get("port")} to the SSH port '
                f"{target} of its pods.",
            )


def policy_selects_nothing(
    resource: Resource, context: UnitContext, _: Params
) -> Iterator[Violation]:
    """Network policies (Kubernetes, Cilium) whose selector matches no pod template of the
    namespaces they apply to (only where the unit has pod templates there)."""
    if resource.kind in CILIUM_KINDS and is_network_policy(resource):
        yield from _cilium_selects_nothing(resource, context)
        return
    if resource.kind != "NetworkPolicy":
        return
    namespace = namespace_of(resource)
    if not any(t.namespace == namespace for t in pod_templates(context)):
        return
    selector = resource.get("spec", "podSelector")
    if next(selected_templates(context, namespace, selector), None) is None:
        yield Violation(
            ("spec", "podSelector"),
            f'NetworkPolicy "{resource.name}" selects no pod template in namespace '
            f'"{namespace}" of this input.',
        )


def _cilium_selects_nothing(resource: Resource, context: UnitContext) -> Iterator[Violation]:
    clusterwide = resource.kind == "CiliumClusterwideNetworkPolicy"
    namespace = namespace_of(resource)
    groups = [(n, labels) for n, labels in label_groups(context) if clusterwide or n == namespace]
    if not groups:
        return
    for number, rule in enumerate(cilium_rules(resource)):
        if "endpointSelector" not in rule:
            continue  # a host policy (nodeSelector)
        if not any(cilium_selects(rule, labels, n) for n, labels in groups):
            yield Violation(
                (*_cilium_rule_path(resource, number), "endpointSelector"),
                f'{resource.kind} "{resource.name}" selects no pod template of this input.',
            )


def _is_empty(value: Any) -> bool:
    return value is None or value == [] or value == {}


def policy_allows_all(resource: Resource, _: UnitContext, params: Params) -> Iterator[Violation]:
    """Policy rules with no peers and no ports: every source (or destination) and port;
    in Cilium policies, rules that admit the ``all``/``world`` entity or 0.0.0.0/0."""
    direction = str(params["direction"])
    if resource.kind in CILIUM_KINDS and is_network_policy(resource):
        yield from _cilium_allows_all(resource, direction)
        return
    if resource.kind != "NetworkPolicy":
        return
    peers = "from" if direction == "ingress" else "to"
    rules = resource.get("spec", direction)
    if not isinstance(rules, list):
        return
    for index, rule in enumerate(rules):
        if not isinstance(rule, dict):
            continue
        if _is_empty(rule.get(peers)) and _is_empty(rule.get("ports")):
            yield Violation(
                ("spec", direction, index),
                f'NetworkPolicy "{resource.name}" allows all {direction} traffic '
                f"(a rule with no {peers} and no ports).",
            )


def _cilium_allows_all(resource: Resource, direction: str) -> Iterator[Violation]:
    where = "from" if direction == "ingress" else "to"
    for number, rule in enumerate(cilium_rules(resource)):
        for index, what in cilium_open_peers(rule, direction):
            yield Violation(
                (*_cilium_rule_path(resource, number), direction, index),
                f'{resource.kind} "{resource.name}" allows {direction} traffic {where} '
                f"anywhere ({what}).",
            )


def _cilium_rule_path(resource: Resource, number: int) -> tuple[str | int, ...]:
    """The path of the ``number``-th rule of :func:`cilium_rules` (``spec``, then ``specs``)."""
    spec_first = isinstance(resource.get("spec"), dict)
    if spec_first and number == 0:
        return ("spec",)
    return ("specs", number - int(spec_first))


def _service_type(resource: Resource) -> str:
    value = resource.get("spec", "type")
    return value if isinstance(value, str) else "ClusterIP"


def node_port_service(resource: Resource, _: UnitContext, __: Params) -> Iterator[Violation]:
    """Services of type NodePort (open on every node's address)."""
    if resource.kind == "Service" and _service_type(resource) == "NodePort":
        yield Violation(
            ("spec", "type"),
            f'Service "{resource.name}" is of type NodePort: it listens on every node.',
        )


def _internal(resource: Resource) -> bool:
    for key, wanted in INTERNAL_LB_ANNOTATIONS.items():
        value = resource.annotations.get(key)
        if value is None:
            continue
        if wanted is None:
            if value.strip().lower() not in ("false", "0", ""):
                return True
        elif value.strip().lower() == wanted:
            return True
    return False


def open_load_balancer(resource: Resource, _: UnitContext, __: Params) -> Iterator[Violation]:
    """External LoadBalancer Services without source ranges (or open to 0.0.0.0/0)."""
    if resource.kind != "Service" or _service_type(resource) != "LoadBalancer":
        return
    if _internal(resource):
        return
    ranges = resource.get("spec", "loadBalancerSourceRanges")
    annotation = resource.annotations.get("service.beta.kubernetes.io/load-balancer-source-ranges")
    if isinstance(ranges, list) and ranges:
        for index, cidr in enumerate(ranges):
            if str(cidr).strip() in _ANYWHERE:
                yield Violation(
                    ("spec", "loadBalancerSourceRanges", index),
                    f'Service "{resource.name}" admits {cidr} in loadBalancerSourceRanges.',
                )
        return
    if annotation and annotation.strip():
        return
    yield Violation(
        ("spec", "type"),
        f'LoadBalancer Service "{resource.name}" sets no loadBalancerSourceRanges: it is '
        "reachable from any address.",
    )


def service_external_ips(resource: Resource, _: UnitContext, __: Params) -> Iterator[Violation]:
    """Services with ``spec.externalIPs`` (CVE-2020-8554 traffic interception)."""
    if resource.kind != "Service":
        return
    ips = resource.get("spec", "externalIPs")
    if isinstance(ips, list) and ips:
        yield Violation(
            ("spec", "externalIPs"),
            f'Service "{resource.name}" sets externalIPs {", ".join(map(str, ips))}.',
        )


def dangling_service(resource: Resource, context: UnitContext, _: Params) -> Iterator[Violation]:
    """Services whose selector matches no pod template (only if the unit has workloads)."""
    if resource.kind != "Service" or resource.api_version != "v1":
        return
    selector = resource.get("spec", "selector")
    if not isinstance(selector, dict) or not selector or not pod_templates(context):
        return
    namespace = namespace_of(resource)
    if next(selected_templates(context, namespace, selector, plain=True), None) is None:
        shown = ", ".join(f"{k}={v}" for k, v in selector.items())
        yield Violation(
            ("spec", "selector"),
            f'Service "{resource.name}" selects no pod template of this input ({shown}).',
        )


def ingress_without_tls(resource: Resource, _: UnitContext, __: Params) -> Iterator[Violation]:
    """Ingresses with no ``spec.tls``."""
    if resource.kind not in INGRESS_KINDS or not isinstance(resource.get("spec"), dict):
        return
    tls = resource.get("spec", "tls")
    if not isinstance(tls, list) or not tls:
        yield Violation(("spec", "tls"), f'Ingress "{resource.name}" serves plain HTTP (no tls).')


Backend = tuple[tuple[str | int, ...], str, tuple[str | int, ...], Any]


def _backends(resource: Resource) -> Iterator[Backend]:
    """(name path, Service name, port path, port) of every Service backend, v1 and v1beta1
    shapes; the port is a number or a port name (None when unset)."""
    spec = resource.get("spec")
    if not isinstance(spec, dict):
        return
    candidates: list[tuple[tuple[str | int, ...], Any]] = [
        (("spec", "defaultBackend"), spec.get("defaultBackend")),
        (("spec", "backend"), spec.get("backend")),
    ]
    rules = spec.get("rules")
    for r_index, rule in enumerate(rules if isinstance(rules, list) else []):
        paths = dig(rule, ("http", "paths"))
        for p_index, item in enumerate(paths if isinstance(paths, list) else []):
            if isinstance(item, dict):
                candidates.append(
                    (
                        ("spec", "rules", r_index, "http", "paths", p_index, "backend"),
                        item.get("backend"),
                    )
                )
    for path, backend in candidates:
        if not isinstance(backend, dict):
            continue
        service = backend.get("service")
        if isinstance(service, dict) and isinstance(service.get("name"), str):
            port = service.get("port")
            port = port if isinstance(port, dict) else {}
            key = "number" if port.get("number") is not None else "name"
            yield (
                (*path, "service", "name"),
                service["name"],
                (*path, "service", "port", key),
                port.get(key),
            )
        elif isinstance(backend.get("serviceName"), str):
            yield (
                (*path, "serviceName"),
                backend["serviceName"],
                (*path, "servicePort"),
                backend.get("servicePort"),
            )


def _declares_ports(service: Resource) -> bool:
    """The Service lists its ports (a manifest without them is too partial to judge)."""
    ports = service.get("spec", "ports")
    return isinstance(ports, list) and bool(ports)


def _exposes(service: Resource, port: Any) -> bool:
    """Whether the Service declares the port (by number, or by name for a string)."""
    ports = service.get("spec", "ports")
    for item in ports if isinstance(ports, list) else []:
        if not isinstance(item, dict):
            continue
        if isinstance(port, int) and not isinstance(port, bool) and item.get("port") == port:
            return True
        if isinstance(port, str) and (item.get("name") == port or str(item.get("port")) == port):
            return True
    return False


def dangling_ingress(resource: Resource, context: UnitContext, _: Params) -> Iterator[Violation]:
    """Ingress backends naming a Service that is not in the unit (only if it has Services),
    or a port that Service does not declare."""
    if resource.kind not in INGRESS_KINDS:
        return
    services = context.of_kind("Service")
    if not services:
        return
    namespace = namespace_of(resource)
    by_name: dict[str, list[Resource]] = {}
    for service in services:
        if namespace_of(service) == namespace:
            by_name.setdefault(service.name, []).append(service)
    for path, name, port_path, port in _backends(resource):
        found = by_name.get(name)
        if not found:
            yield Violation(
                path,
                f'Ingress "{resource.name}" routes to Service "{name}", which is not in '
                f'namespace "{namespace}" of this input.',
            )
        elif port is not None and all(_declares_ports(s) and not _exposes(s, port) for s in found):
            yield Violation(
                port_path,
                f'Ingress "{resource.name}" routes to port {port} of Service "{name}", which '
                "declares no such port.",
            )


def nginx_snippet_annotation(resource: Resource, _: UnitContext, __: Params) -> Iterator[Violation]:
    """ingress-nginx ``*-snippet`` annotations (arbitrary NGINX config, CVE-2021-25742)."""
    if resource.kind not in INGRESS_KINDS:
        return
    for key in resource.annotations:
        prefix, _sep, name = key.partition("/")
        if prefix.endswith("ingress.kubernetes.io") and name.endswith("-snippet"):
            yield Violation(
                ("metadata", "annotations", key),
                f'Ingress "{resource.name}" sets the snippet annotation {key}.',
            )


CHECKS = (
    Check(
        "pod-not-isolated",
        pod_not_isolated,
        "Pod templates no ingress NetworkPolicy selects.",
        {
            "type": "object",
            "additionalProperties": False,
            "required": ["scope"],
            "properties": {"scope": {"enum": ["selected", "namespace"]}},
        },
    ),
    Check(
        "network-policy-ignored-rules",
        policy_ignored_rules,
        "NetworkPolicy rules that policyTypes switches off.",
    ),
    Check("service-ssh-port", service_ssh_port, "Services forwarding to the SSH port."),
    Check(
        "network-policy-selects-nothing",
        policy_selects_nothing,
        "NetworkPolicies that select no pod template.",
    ),
    Check(
        "network-policy-allows-all",
        policy_allows_all,
        "NetworkPolicy rules allowing all traffic in one direction.",
        {
            "type": "object",
            "additionalProperties": False,
            "required": ["direction"],
            "properties": {"direction": {"enum": ["ingress", "egress"]}},
        },
    ),
    Check("node-port-service", node_port_service, "NodePort Services."),
    Check(
        "open-load-balancer", open_load_balancer, "External LoadBalancers without source ranges."
    ),
    Check("service-external-ips", service_external_ips, "Services with externalIPs."),
    Check("dangling-service", dangling_service, "Services selecting no pod template."),
    Check("ingress-without-tls", ingress_without_tls, "Ingresses without TLS."),
    Check("dangling-ingress", dangling_ingress, "Ingress backends naming missing Services."),
    Check(
        "nginx-snippet-annotation", nginx_snippet_annotation, "ingress-nginx snippet annotations."
    ),
)

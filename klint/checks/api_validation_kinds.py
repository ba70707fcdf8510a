"""Per-kind validation of the apps, batch, rbac and networking API groups.

Each check mirrors a validation function of ``pkg/apis/<group>/validation`` named in its
docstring: restart policies a controller forbids, rolling-update settings, CronJob
schedules, RBAC rules and bindings, Ingress paths and NetworkPolicy ports.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from klint.checks.api_names import dns1123_subdomain, port_name, port_number, wildcard_host
from klint.checks.base import Check, Params, UnitContext, Violation
from klint.checks.server_defaults import RBAC_GROUP
from klint.model import pod_view
from klint.model.resource import Resource

_ALWAYS_ONLY = frozenset({"Deployment", "ReplicaSet", "DaemonSet", "StatefulSet"})
_MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
_DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]
_FIELDS: tuple[tuple[int, int, list[str]], ...] = (
    (0, 59, []),
    (0, 23, []),
    (1, 31, []),
    (1, 12, _MONTHS),
    (0, 6, _DAYS),
)
_DESCRIPTORS = frozenset(
    {"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"}
)
_DURATION = re.compile(r"([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+")
_BAD_PATH_PARTS = ("//", "/./", "/../", "%2f", "%2F")


def _items(value: Any) -> Iterator[tuple[int, dict[str, Any]]]:
    if isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, dict):
                yield index, item


def forbidden_restart_policy(resource: Resource, _: UnitContext, __: Params) -> Iterator[Violation]:
    """ValidatePodTemplateSpecForReplicaSet & co. (Always only); ValidateJobSpec (not Always)."""
    pod = pod_view(resource)
    if pod is None:
        return
    policy = pod.spec.get("restartPolicy")
    if policy is None:
        return
    path = (*pod.path, "restartPolicy")
    controller = resource.kind in _ALWAYS_ONLY and resource.group in ("apps", "extensions")
    if (controller or resource.kind == "ReplicationController") and policy != "Always":
        yield Violation(
            path,
            f'{resource.kind} pod templates must use restartPolicy "Always", not "{policy}".',
        )
    if resource.kind in ("Job", "CronJob") and resource.group == "batch" and policy == "Always":
        yield Violation(
            path, f'{resource.kind} pod templates must use restartPolicy "OnFailure" or "Never".'
        )


def invalid_rolling_update(resource: Resource, _: UnitContext, __: Params) -> Iterator[Violation]:
    """ValidateRollingUpdateDeployment: maxSurge and maxUnavailable not both 0, valid values."""
    if resource.kind != "Deployment" or resource.group != "apps":
        return
    update = resource.get("spec", "strategy", "rollingUpdate")
    path = ("spec", "strategy", "rollingUpdate")
    if update is not None and resource.get("spec", "strategy", "type") == "Recreate":
        yield Violation(
            path,
            "rollingUpdate may not be set when strategy type is Recreate "
            "(ValidateDeploymentStrategy); remove it.",
        )
        return
    if not isinstance(update, dict):
        return
    values = {}
    for key in ("maxSurge", "maxUnavailable"):
        if key not in update:
            continue
        value, problem = _int_or_percent(update[key])
        if problem:
            yield Violation((*path, key), f"{key} {update[key]!r} {problem}.")
        elif key == "maxUnavailable" and isinstance(update[key], str) and value > 100:
            yield Violation((*path, key), f"maxUnavailable {update[key]} must not exceed 100%.")
        else:
            values[key] = value
    if values.get("maxSurge") == 0 and values.get("maxUnavailable") == 0:
        yield Violation(
            (*path, "maxUnavailable"),
            "maxUnavailable may not be 0 when maxSurge is 0: the rollout could never progress.",
        )


def _int_or_percent(value: Any) -> tuple[int, str]:
    if isinstance(value, bool):
        return 0, "must be an integer or percentage (e.g. '5%')"
    if isinstance(value, int):
        return value, "must be greater than or equal to 0" if value < 0 else ""
    if isinstance(value, str) and re.fullmatch(r"[0-9]+%", value):
        return int(value[:-1]), ""
    return 0, "must be an integer or percentage (e.g. '5%')"


def invalid_cron_schedule(resource: Resource, _: UnitContext, __: Params) -> Iterator[Violation]:
    """validateScheduleFormat (batch): a standard 5-field cron schedule, no TZ in it."""
    if resource.kind != "CronJob" or resource.group != "batch":
        return
    schedule = resource.get("spec", "schedule")
    if not isinstance(schedule, str):
        return
    problem = cron_problem(schedule)
    if problem:
        yield Violation(("spec", "schedule"), f'schedule "{schedule}" {problem}.')


def cron_problem(schedule: str) -> str:
    """Why a schedule does not parse as robfig/cron's standard parser reads it."""
    text = schedule.strip()
    if re.match(r"(CRON_)?TZ=", text):
        return "sets a time zone; use spec.timeZone instead"
    if text.startswith("@"):
        if text in _DESCRIPTORS:
            return ""
        if text.startswith("@every ") and _DURATION.fullmatch(text[7:].strip()):
            return ""
        return "is not a known descriptor (@yearly, @monthly, @weekly, @daily, @hourly, @every)"
    fields = text.split()
    if len(fields) != 5:
        return f"must have 5 fields (minute hour day-of-month month day-of-week), not {len(fields)}"
    for field, (low, high, names) in zip(fields, _FIELDS, strict=True):
        for part in field.split(","):
            if not _cron_part(part, low, high, names):
                return f'has an invalid field "{field}"'
    return ""


def _cron_part(part: str, low: int, high: int, names: list[str]) -> bool:
    base, slash, step = part.partition("/")
    if slash and not (step.isdigit() and int(step) > 0):
        return False
    if base in ("*", "?"):
        return True
    start, dash, end = base.partition("-")
    numbers = [_cron_value(start, low, names), _cron_value(end, low, names) if dash else None]
    if numbers[0] is None or (dash and numbers[1] is None):
        return False
    first, last = numbers[0], numbers[1] if dash else numbers[0]
    assert last is not None
    return low <= first <= high and low <= last <= high and first <= last


def _cron_value(text: str, low: int, names: list[str]) -> int | None:
    if text.isdigit():
        return int(text)
    if text.lower() in names:
        return names.index(text.lower()) + low
    return None


def invalid_rbac_rule(resource: Resource, _: UnitContext, __: Params) -> Iterator[Violation]:
    """ValidatePolicyRule and ValidateRoleBinding (rbac): verbs, groups, URLs, roleRef."""
    if resource.group != "rbac.authorization.k8s.io":
        return
    if resource.kind in ("Role", "ClusterRole"):
        for index, rule in _items(resource.get("rules")):
            yield from _policy_rule(rule, ("rules", index), resource.kind == "Role")
    elif resource.kind in ("RoleBinding", "ClusterRoleBinding"):
        group = resource.get("roleRef", "apiGroup")
        if isinstance(group, str) and group not in ("", RBAC_GROUP):  # "": defaulted
            yield Violation(
                ("roleRef", "apiGroup"),
                f'{resource.kind} roleRef.apiGroup must be "{RBAC_GROUP}", not "{group}".',
            )
        kind = resource.get("roleRef", "kind")
        allowed = (
            ("ClusterRole",) if resource.kind == "ClusterRoleBinding" else ("Role", "ClusterRole")
        )
        if kind is not None and kind not in allowed:
            yield Violation(
                ("roleRef", "kind"),
                f'{resource.kind} roleRef.kind must be {" or ".join(allowed)}, not "{kind}".',
            )
        for index, subject in _items(resource.get("subjects")):
            cluster = resource.kind == "ClusterRoleBinding"
            if cluster and subject.get("kind") == "ServiceAccount" and not subject.get("namespace"):
                yield Violation(
                    ("subjects", index),
                    "a ServiceAccount subject of a ClusterRoleBinding needs a namespace.",
                )
            name = subject.get("name")
            if subject.get("kind") == "ServiceAccount" and isinstance(name, str):
                problem = dns1123_subdomain(name) if name else "must not be empty"
                if problem:
                    yield Violation(
                        ("subjects", index, "name"),
                        f'ServiceAccount subject name "{name}": {problem}.',
                    )


def _policy_rule(
    rule: dict[str, Any], path: tuple[str | int, ...], namespaced: bool
) -> Iterator[Violation]:
    if not rule.get("verbs"):
        yield Violation(path, "the rule has no verbs; verbs must contain at least one value.")
    urls, resources = rule.get("nonResourceURLs"), rule.get("resources")
    if urls and namespaced:
        yield Violation(
            (*path, "nonResourceURLs"), "a namespaced Role may not have nonResourceURLs."
        )
    if urls and resources:
        yield Violation(
            (*path, "nonResourceURLs"),
            "a rule may not apply to both resources and nonResourceURLs.",
        )
    if urls:
        return
    if not rule.get("apiGroups"):
        yield Violation(
            path,
            'resource rules must supply at least one api group (apiGroups); use [""] for '
            "the core group.",
        )
    if not resources:
        yield Violation(
            path,
            "resource rules must supply at least one resource (or set nonResourceURLs).",
        )


def invalid_ingress_path(resource: Resource, _: UnitContext, __: Params) -> Iterator[Violation]:
    """validateHTTPIngressRuleValue (networking/v1): absolute, normalised paths."""
    if resource.kind != "Ingress" or resource.group != "networking.k8s.io":
        return
    yield from _ingress_hosts(resource)
    for index, rule in _items(resource.get("spec", "rules")):
        http = rule.get("http")
        paths = http.get("paths") if isinstance(http, dict) else None
        for number, item in _items(paths):
            path, kind = item.get("path"), item.get("pathType")
            where = ("spec", "rules", index, "http", "paths", number, "path")
            if kind == "ImplementationSpecific" and isinstance(path, str) and path:
                if not path.startswith("/"):
                    yield Violation(
                        where, f'path "{path}" must be an absolute path (start with "/").'
                    )
                continue
            if not isinstance(path, str) or kind not in ("Exact", "Prefix"):
                continue
            if not path.startswith("/"):
                yield Violation(where, f'path "{path}" must be an absolute path (start with "/").')
            elif any(bad in path for bad in _BAD_PATH_PARTS) or path.endswith(("/..", "/.")):
                yield Violation(
                    where, f'{kind} path "{path}" must not contain "//", "/./", "/../" or "%2f".'
                )


def _ingress_hosts(resource: Resource) -> Iterator[Violation]:
    """ValidateIngressSpec: rule and TLS hosts are DNS names, a wildcard only as ``*.``."""
    places: list[tuple[tuple[str | int, ...], Any]] = []
    for index, rule in _items(resource.get("spec", "rules")):
        places.append((("spec", "rules", index, "host"), rule.get("host")))
    for index, tls in _items(resource.get("spec", "tls")):
        hosts = tls.get("hosts")
        for number, host in enumerate(hosts if isinstance(hosts, list) else []):
            places.append((("spec", "tls", index, "hosts", number), host))
    for where, host in places:
        if not isinstance(host, str) or not host:
            continue
        if _is_ip(host):
            yield Violation(where, f'host "{host}" must be a DNS name, not an IP address.')
        elif wildcard_host(host):
            yield Violation(where, f'host "{host}": {wildcard_host(host)}.')


def _is_ip(text: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def invalid_network_policy_port(
    resource: Resource, _: UnitContext, __: Params
) -> Iterator[Violation]:
    """ValidateNetworkPolicyPort: port range, endPort only with a numeric port at or above it."""
    if resource.kind != "NetworkPolicy" or resource.group != "networking.k8s.io":
        return
    for direction in ("ingress", "egress"):
        for index, rule in _items(resource.get("spec", direction)):
            for number, port in _items(rule.get("ports")):
                path = ("spec", direction, index, "ports", number)
                value, end = port.get("port"), port.get("endPort")
                if isinstance(value, int) and not 1 <= value <= 65535:
                    yield Violation((*path, "port"), f"port {value} must be between 1 and 65535.")
                elif isinstance(value, str) and not value.isdigit() and port_name(value):
                    yield Violation((*path, "port"), f'port name "{value}" {port_name(value)}.')
                if end is None:
                    continue
                if isinstance(end, int) and not isinstance(end, bool) and port_number(end):
                    yield Violation((*path, "endPort"), f"endPort {end} {port_number(end)}.")
                if not isinstance(value, int) or isinstance(value, bool):
                    yield Violation(
                        (*path, "endPort"), "endPort requires a numeric port (not a port name)."
                    )
                elif isinstance(end, int) and end < value:
                    yield Violation(
                        (*path, "endPort"),
                        f"endPort {end} must be greater than or equal to port {value}.",
                    )


CHECKS = (
    Check(
        "api-forbidden-restart-policy",
        forbidden_restart_policy,
        forbidden_restart_policy.__doc__ or "",
    ),
    Check(
        "api-invalid-rolling-update", invalid_rolling_update, invalid_rolling_update.__doc__ or ""
    ),
    Check("api-invalid-cron-schedule", invalid_cron_schedule, invalid_cron_schedule.__doc__ or ""),
    Check("api-invalid-rbac-rule", invalid_rbac_rule, invalid_rbac_rule.__doc__ or ""),
    Check("api-invalid-ingress-path", invalid_ingress_path, invalid_ingress_path.__doc__ or ""),
    Check(
        "api-invalid-network-policy-port",
        invalid_network_policy_port,
        invalid_network_policy_port.__doc__ or "",
    ),
)

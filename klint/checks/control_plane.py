"""Flags of the cluster's own components (API server, controller manager, scheduler, etcd,
kubelet), judged on their effective value whatever file sets them.

One generic check, ``component-flag``, reads a component's setting through
:mod:`klint.model.control_plane` (static Pods, kubeadm, Cluster API, kind,
KubeletConfiguration) and applies one test from its params; each CIS item is a rule file.
``removed-component-flag`` reports flags and admission plugins the target version removed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from klint.checks.base import Check, Params, UnitContext, Violation
from klint.model.control_plane import ComponentConfig, Origin, component_configs
from klint.model.resource import Resource


def configs_of(resource: Resource, context: UnitContext) -> list[ComponentConfig]:
    """The object's component configurations, computed once per object and unit."""
    cache: dict[int, list[ComponentConfig]] = context.derived("control-plane", lambda _: {})
    key = id(resource)
    found = cache.get(key)
    if found is None:
        found = cache[key] = component_configs(resource)
    return found


def version(text: str) -> tuple[int, int]:
    """``"1.24"`` → (1, 24)."""
    major, _, minor = str(text).partition(".")
    return int(major), int(minor or 0)


def component_flag(resource: Resource, context: UnitContext, params: Params) -> Iterator[Violation]:
    """A component flag whose effective value fails the rule's test."""
    configs = configs_of(resource, context)
    if not configs:
        return
    for config in configs:
        if config.component == params["component"] and _applies(config, context, params):
            names = params["flag"]
            for name in [names] if isinstance(names, str) else names:
                violation = _judge(config, name, context, params)
                if violation is not None:
                    yield violation


def _applies(config: ComponentConfig, context: UnitContext, params: Params) -> bool:
    before = params.get("applies_before")
    if before is not None and context.kube_version >= version(before):
        return False
    return not any(
        config.get(other) is not None or config.implicit(other) is not None
        for other in params.get("unless_set", ())
    )


def _default(config: ComponentConfig, context: UnitContext, params: Params) -> str | None:
    """What the component uses when no source sets the flag (for the target version)."""
    if config.origin is Origin.CONFIG and "config_default" in params:
        return _str(params["config_default"])
    for until, value in sorted((params.get("default_before") or {}).items()):
        if context.kube_version < version(until):
            return _str(value)
    return _str(params.get("default"))


def _judge(
    config: ComponentConfig, name: str, context: UnitContext, params: Params
) -> Violation | None:
    setting = config.get(name)
    explicit = setting is not None
    if not explicit and config.patch:
        return None  # a patch leaves the rest to the tool's defaults, not in the file
    value = setting.value if setting is not None else config.implicit(name)
    if setting is None and value is None:
        value = _default(config, context, params)
        if params.get("absent"):
            return None
    problem = _problem(value, explicit, params)
    if problem is None:
        return None
    shown = setting.shown if setting is not None else f"--{name}"
    who = f"{config.component} ({config.source})"
    if explicit:
        text = "" if value is None else f' to "{value}"'
        message = f"{who} sets {shown}{text}: {problem}."
        return Violation(setting.path if setting else config.anchor, message)
    if config.implicit(name) is not None:
        message = f'{who} leaves {shown} at kubeadm\'s "{value}": {problem}.'
    elif value is not None:
        message = f'{who} does not set {shown} (default "{value}"): {problem}.'
    else:
        message = f"{who} does not set {shown}: {problem}."
    return Violation(config.anchor, message)


def _problem(value: str | None, explicit: bool, params: Params) -> str | None:
    """The rule's problem text when ``value`` fails its test, else None."""
    problem = str(params["problem"])
    if params.get("absent"):
        return problem if explicit else None
    if params.get("present"):
        return problem if not (value or "").strip() else None
    if value is None:
        return problem if params.get("required") else None
    lowered = value.strip().lower()
    if "equals" in params and lowered not in {str(v).lower() for v in params["equals"]}:
        return problem
    if "forbid" in params and lowered in {str(v).lower() for v in params["forbid"]}:
        return problem
    items = [item.strip() for item in value.split(",") if item.strip()]
    if "contains" in params and str(params["contains"]) not in items:
        return problem
    if "excludes" in params and set(items) & {str(v) for v in params["excludes"]}:
        return problem
    if "allowed" in params and set(items) - {str(v) for v in params["allowed"]}:
        return problem
    if "pattern" in params and not re.fullmatch(str(params["pattern"]), value.strip()):
        return problem
    if "min" in params:
        try:
            return problem if int(value.strip()) < int(params["min"]) else None
        except ValueError:
            return f"{problem} (not a number)"
    return None


def _str(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# (component, flag, admission plugin or "", removed in, what to do instead)
REMOVED: tuple[tuple[str, str, str, tuple[int, int], str], ...] = (
    ("kube-apiserver", "insecure-port", "", (1, 24), "the insecure port is gone; remove it"),
    (
        "kube-apiserver",
        "insecure-bind-address",
        "",
        (1, 24),
        "the insecure port is gone; remove it",
    ),
    (
        "kube-apiserver",
        "basic-auth-file",
        "",
        (1, 19),
        "use client certificates, OIDC or webhook token authentication",
    ),
    (
        "kube-apiserver",
        "enable-admission-plugins",
        "PodSecurityPolicy",
        (1, 25),
        "enforce Pod Security Standards with the PodSecurity admission plugin",
    ),
    (
        "kube-apiserver",
        "enable-admission-plugins",
        "SecurityContextDeny",
        (1, 30),
        "enforce Pod Security Standards with the PodSecurity admission plugin",
    ),
)


def removed_component_flag(
    resource: Resource, context: UnitContext, _: Params
) -> Iterator[Violation]:
    """Flags and admission plugins the target Kubernetes version no longer has."""
    configs = configs_of(resource, context)
    if not configs:
        return
    for config in configs:
        for component, name, plugin, removed, instead in REMOVED:
            setting = config.get(name)
            if component != config.component or setting is None or context.kube_version < removed:
                continue
            gone = f"removed in Kubernetes {removed[0]}.{removed[1]}"
            if plugin:
                plugins = [p.strip() for p in (setting.value or "").split(",")]
                if plugin in plugins:
                    yield Violation(
                        setting.path,
                        f"{component} ({config.source}) enables admission plugin {plugin}, "
                        f"{gone}: the API server refuses to start; {instead}.",
                    )
            else:
                yield Violation(
                    setting.path,
                    f"{component} ({config.source}) sets {setting.shown}, {gone}: the API "
                    f"server refuses to start; {instead}.",
                )


_LIST = {"type": "array", "items": {"type": ["string", "number", "boolean"]}, "minItems": 1}
_SCALAR = {"type": ["string", "number", "boolean"]}
FLAG_PARAMS = {
    "type": "object",
    "additionalProperties": False,
    "required": ["component", "flag", "problem"],
    "properties": {
        "component": {
            "enum": [
                "kube-apiserver",
                "kube-controller-manager",
                "kube-scheduler",
                "etcd",
                "kubelet",
            ]
        },
        "flag": {
            "oneOf": [
                {"type": "string"},
                {"type": "array", "items": {"type": "string"}, "minItems": 1},
            ]
        },
        "problem": {"type": "string", "minLength": 1},
        "equals": _LIST,
        "forbid": _LIST,
        "contains": {"type": "string"},
        "excludes": _LIST,
        "allowed": _LIST,
        "pattern": {"type": "string"},
        "min": {"type": "integer"},
        "absent": {"type": "boolean"},
        "present": {"type": "boolean"},
        "required": {"type": "boolean"},
        "default": _SCALAR,
        "config_default": _SCALAR,
        "default_before": {"type": "object", "additionalProperties": _SCALAR},
        "applies_before": {"type": "string", "pattern": "^1\\.[0-9]+$"},
        "unless_set": {"type": "array", "items": {"type": "string"}},
        "fix_value": _SCALAR,
    },
}

CHECKS = (
    Check(
        "component-flag",
        component_flag,
        "A cluster component's flag (any source) whose effective value fails a test.",
        FLAG_PARAMS,
    ),
    Check(
        "removed-component-flag",
        removed_component_flag,
        "Component flags and admission plugins removed in the target Kubernetes version.",
    ),
)

"""The registry of checks: each area module lists its checks in a ``CHECKS`` tuple."""

from __future__ import annotations

from klint.checks import (
    admission,
    api_validation_kinds,
    api_validation_meta,
    api_validation_pod,
    api_validation_selectors,
    cel_checks,
    cluster_configs,
    control_plane,
    deprecated,
    generic,
    hardening,
    images,
    metadata,
    network,
    other_kinds,
    pod_security,
    pss_restricted,
    rbac,
    reliability,
    resources,
    schema,
    secrets,
    service_accounts,
)
from klint.checks.api_placeholders import placeholder_aware
from klint.checks.base import Check, UnitContext, Violation

_MODULES = (
    pod_security,
    pss_restricted,
    images,
    resources,
    generic,
    rbac,
    service_accounts,
    secrets,
    admission,
    cel_checks,
    api_validation_pod,
    api_validation_meta,
    api_validation_kinds,
    api_validation_selectors,
    schema,
    hardening,
    network,
    reliability,
    metadata,
    deprecated,
    other_kinds,
    control_plane,
    cluster_configs,
)

# the API server's syntax checks: a value holding a placeholder is a note (api_placeholders)
_API_VALIDATION = (
    api_validation_pod,
    api_validation_meta,
    api_validation_kinds,
    api_validation_selectors,
)

REGISTRY: dict[str, Check] = {
    check.name: placeholder_aware(check) if module in _API_VALIDATION else check
    for module in _MODULES
    for check in module.CHECKS
}

__all__ = ["REGISTRY", "Check", "UnitContext", "Violation"]

"""The registry of checks: each area module lists its checks in a ``CHECKS`` tuple."""

from __future__ import annotations

from klint.checks import (
    admission,
    api_validation_kinds,
    api_validation_meta,
    api_validation_pod,
    api_validation_selectors,
    cel_checks,
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
)

REGISTRY: dict[str, Check] = {check.name: check for module in _MODULES for check in module.CHECKS}

__all__ = ["REGISTRY", "Check", "UnitContext", "Violation"]

"""The registry of checks: each area module lists its checks in a ``CHECKS`` tuple."""

from __future__ import annotations

from klint.checks import admission, rbac, secrets, service_accounts
from klint.checks import generic, images, pod_security, resources, schema
from klint.checks import deprecated, hardening, metadata, network, other_kinds, reliability
from klint.checks.base import Check, UnitContext, Violation

_MODULES = (
    pod_security, images, resources, generic, rbac, service_accounts, secrets, admission, schema,
    hardening, network, reliability, metadata, deprecated, other_kinds,
)

REGISTRY: dict[str, Check] = {check.name: check for module in _MODULES for check in module.CHECKS}

__all__ = ["REGISTRY", "Check", "UnitContext", "Violation"]

"""The registry of checks: each area module lists its checks in a ``CHECKS`` tuple."""

from __future__ import annotations

from klint.checks import admission, rbac, secrets, service_accounts
from klint.checks import generic, images, pod_security, resources, schema
from klint.checks.base import Check, UnitContext, Violation

_MODULES = (
    pod_security, images, resources, generic, rbac, service_accounts, secrets, admission, schema
)

REGISTRY: dict[str, Check] = {check.name: check for module in _MODULES for check in module.CHECKS}

__all__ = ["REGISTRY", "Check", "UnitContext", "Violation"]

"""Deprecated and removed apiVersions, judged against the target Kubernetes version."""

from __future__ import annotations

from collections.abc import Iterator

from klint.checks.base import Check, Params, UnitContext, Violation
from klint.deprecations import lookup, version_text
from klint.model.resource import Resource


def deprecated_api(resource: Resource, context: UnitContext, params: Params) -> Iterator[Violation]:
    """``status: removed`` → APIs removed at or before the target version; ``deprecated`` →
    APIs deprecated at or before it but still served."""
    entry = lookup(resource.api_version, resource.kind)
    if entry is None:
        return
    target = context.kube_version
    removed = entry.removed is not None and entry.removed <= target
    what = f"{resource.kind} {resource.api_version}"
    if entry.api_version != resource.api_version:  # a kind removed in every version
        what = f"{resource.kind} (any apiVersion)"
    if params["status"] == "removed" and removed and entry.removed is not None:
        yield Violation(
            ("apiVersion",),
            f"{what} was removed in {version_text(entry.removed)}; use {entry.replacement}.",
        )
    elif params["status"] == "deprecated" and not removed and entry.deprecated <= target:
        until = f", removed in {version_text(entry.removed)}" if entry.removed is not None else ""
        yield Violation(
            ("apiVersion",),
            f"{what} is deprecated since {version_text(entry.deprecated)}{until}; "
            f"use {entry.replacement}.",
        )


CHECKS = (
    Check(
        "deprecated-api",
        deprecated_api,
        "apiVersions removed in, or deprecated by, the target Kubernetes version.",
        {
            "type": "object",
            "additionalProperties": False,
            "required": ["status"],
            "properties": {"status": {"enum": ["removed", "deprecated"]}},
        },
    ),
)

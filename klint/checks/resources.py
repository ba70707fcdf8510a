"""Resource requests and limits."""

from __future__ import annotations

from collections.abc import Iterator

from klint.checks.base import Check, Params, UnitContext, Violation
from klint.model import containers, pod_view
from klint.model.resource import Resource


def missing_limits(resource: Resource, _: UnitContext, params: Params) -> Iterator[Violation]:
    """Containers without the configured ``resources.limits`` (cpu and memory by default)."""
    pod = pod_view(resource)
    if pod is None:
        return
    wanted = [str(name) for name in params["resources"]]
    for container in containers(pod, ("initContainers", "containers")):
        limits = container.get("resources", "limits")
        present = limits if isinstance(limits, dict) else {}
        missing = [name for name in wanted if present.get(name) in (None, "")]
        if missing:
            path = (*container.path, "resources", "limits")
            yield Violation(
                path,
                f"{container.label} has no {' or '.join(missing)} limit in resources.limits.",
            )


CHECKS = (
    Check(
        "missing-limits",
        missing_limits,
        "Containers without resource limits.",
        {"type": "object", "additionalProperties": False,
         "properties": {"resources": {"type": "array", "items": {"type": "string"},
                                      "minItems": 1}}},
        {"resources": ["cpu", "memory"]},
    ),
)

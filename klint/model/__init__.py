"""Typed views over Kubernetes objects: resources, pod templates and containers."""

from klint.model.resource import Resource, resources_from_document
from klint.model.workload import (
    CONTAINER_LISTS,
    ContainerView,
    PodView,
    containers,
    effective,
    pod_view,
)

__all__ = [
    "CONTAINER_LISTS",
    "ContainerView",
    "PodView",
    "Resource",
    "containers",
    "effective",
    "pod_view",
    "resources_from_document",
]

"""Images the project's build sets at deploy time (a Makefile's ``kustomize edit set
image``): the tag committed to git is a placeholder, so mutable-tag findings on them are
notes that say which Makefile line sets the image."""

from __future__ import annotations

from collections.abc import Mapping

from klint.model.component import TAG_PREFIX, Expectation
from klint.model.resource import Resource
from klint.model.workload import containers, pod_view

DEPLOY_TIME = "deploy-time-image"


def deploy_time(
    resource: Resource,
    field_path: tuple[str | int, ...],
    tags: tuple[str, ...],
    images: Mapping[str, str],
) -> Expectation | None:
    """The context of a finding on the image of the container at the start of
    ``field_path`` when the rule expects it (``expected-for:deploy-time-image``) and the
    image's name is one the build sets at deploy time (``images``: name → where)."""
    if not images or f"{TAG_PREFIX}{DEPLOY_TIME}" not in tags:
        return None
    pod = pod_view(resource)
    if pod is None:
        return None
    for container in containers(pod):
        if tuple(field_path[: len(container.path)]) == tuple(container.path):
            image = container.data.get("image")
            where = images.get(image_name(image)) if isinstance(image, str) else None
            if where is None:
                return None
            return Expectation(
                DEPLOY_TIME,
                f"the image is set at deploy time by {where} (`kustomize edit set image`): "
                "the tag in git is a placeholder",
                from_path=True,
            )
    return None


def image_name(reference: str) -> str:
    """An image reference without its tag and digest (``example.com:5000/op``)."""
    rest = reference.strip().partition("@")[0]
    slash, colon = rest.rfind("/"), rest.rfind(":")
    return rest[:colon] if colon > slash else rest

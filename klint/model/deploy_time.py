"""Images the project's build sets at deploy time (a Makefile's ``kustomize edit set
image``): the tag committed to git is a placeholder, so mutable-tag findings on them are
notes that say which Makefile line sets the image."""

from __future__ import annotations

from collections.abc import Mapping

from klint.model.component import TAG_PREFIX, Expectation
from klint.model.resource import Resource
from klint.model.workload import container_at

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
    container = container_at(resource, field_path)
    image = container.get("image") if container is not None else None
    where = images.get(image_name(image)) if isinstance(image, str) else None
    if where is None:
        return None
    return Expectation(
        DEPLOY_TIME,
        f"the image is set at deploy time by {where} (`kustomize edit set image`): the tag "
        "in git is a placeholder",
        from_path=True,
    )


def image_name(reference: str) -> str:
    """An image reference without its tag and digest (``example.com:5000/op``)."""
    rest = reference.strip().partition("@")[0]
    slash, colon = rest.rfind("/"), rest.rfind(":")
    return rest[:colon] if colon > slash else rest

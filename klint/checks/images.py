"""Container image references: mutable tags, missing digests, untrusted registries."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from klint.checks.base import Check, Params, UnitContext, Violation
from klint.model import containers, pod_view
from klint.model.resource import Resource


@dataclass(frozen=True)
class ImageRef:
    """The parts of an image reference: ``registry/repository:tag@digest``."""

    registry: str
    repository: str
    tag: str
    digest: str


def parse_image(reference: str) -> ImageRef:
    """Split an image reference the way container runtimes do (docker.io by default)."""
    rest, _, digest = reference.partition("@")
    name, tag = rest, ""
    slash = rest.rfind("/")
    colon = rest.rfind(":")
    if colon > slash:
        name, tag = rest[:colon], rest[colon + 1 :]
    first, sep, remainder = name.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        return ImageRef(first, remainder, tag, digest)
    return ImageRef("docker.io", name, tag, digest)


def mutable_image_tag(resource: Resource, _: UnitContext, __: Params) -> Iterator[Violation]:
    """Images with no tag or the ``latest`` tag and no digest."""
    pod = pod_view(resource)
    if pod is None:
        return
    for container in containers(pod):
        image = container.data.get("image")
        if not isinstance(image, str) or not image.strip():
            continue
        ref = parse_image(image.strip())
        if ref.digest:
            continue
        if not ref.tag:
            yield Violation(
                (*container.path, "image"),
                f'{container.label} uses image "{image}" without a tag (implicitly latest).',
            )
        elif ref.tag == "latest":
            yield Violation(
                (*container.path, "image"),
                f'{container.label} uses image "{image}" with the mutable tag latest.',
            )


CHECKS = (
    Check("mutable-image-tag", mutable_image_tag, "Images without a tag or with latest."),
)

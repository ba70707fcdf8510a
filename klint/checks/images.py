"""Container image references: mutable tags, missing digests, untrusted registries."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from klint.checks.base import Check, Params, UnitContext, Violation
from klint.model import ContainerView, containers, pod_view
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


def _images(resource: Resource) -> Iterator[tuple[ContainerView, str, ImageRef]]:
    """Each container with a non-empty image reference, parsed."""
    pod = pod_view(resource)
    if pod is None:
        return
    for container in containers(pod):
        image = container.data.get("image")
        if isinstance(image, str) and image.strip():
            yield container, image, parse_image(image.strip())


def _mutable(ref: ImageRef) -> bool:
    return not ref.digest and ref.tag in ("", "latest")


def image_without_digest(resource: Resource, _: UnitContext, __: Params) -> Iterator[Violation]:
    """Images referenced by tag only, without ``@sha256:...``."""
    for container, image, ref in _images(resource):
        if not ref.digest:
            yield Violation(
                (*container.path, "image"),
                f'{container.label} uses image "{image}" without a digest.',
            )


def pull_policy_with_mutable_tag(
    resource: Resource, _: UnitContext, __: Params
) -> Iterator[Violation]:
    """A mutable tag with ``imagePullPolicy`` other than Always: nodes keep stale images."""
    for container, image, ref in _images(resource):
        policy = container.data.get("imagePullPolicy")
        if _mutable(ref) and isinstance(policy, str) and policy != "Always":
            yield Violation(
                (*container.path, "imagePullPolicy"),
                f'{container.label} uses the mutable image "{image}" with imagePullPolicy '
                f"{policy}: nodes may run different cached versions.",
            )


def _registry_matches(ref: ImageRef, entries: list[str]) -> str | None:
    """The first entry that is the image's registry, or a prefix of registry/repository."""
    full = f"{ref.registry}/{ref.repository}"
    for entry in entries:
        entry = entry.rstrip("/")
        if ref.registry == entry or full == entry or full.startswith(entry + "/"):
            return entry
    return None


def image_registry(resource: Resource, _: UnitContext, params: Params) -> Iterator[Violation]:
    """Images from a ``blocked`` registry, or (when ``registries`` is set) from any other."""
    allowed = [str(r) for r in params["registries"]]
    blocked = [str(r) for r in params["blocked"]]
    for container, image, ref in _images(resource):
        entry = _registry_matches(ref, blocked)
        if entry is not None:
            yield Violation(
                (*container.path, "image"),
                f'{container.label} uses image "{image}" from the blocked registry {entry}.',
            )
        elif allowed and _registry_matches(ref, allowed) is None:
            yield Violation(
                (*container.path, "image"),
                f'{container.label} uses image "{image}" from registry {ref.registry}, '
                "which is not in the allowed list.",
            )


_REGISTRY_LIST = {"type": "array", "items": {"type": "string", "minLength": 1}}

CHECKS = (
    Check("mutable-image-tag", mutable_image_tag, "Images without a tag or with latest."),
    Check("image-without-digest", image_without_digest, "Images not pinned to a digest."),
    Check(
        "pull-policy-with-mutable-tag",
        pull_policy_with_mutable_tag,
        "Mutable image tags that are not always pulled.",
    ),
    Check(
        "image-registry",
        image_registry,
        "Images from blocked or not-allowed registries.",
        {
            "type": "object",
            "additionalProperties": False,
            "properties": {"registries": _REGISTRY_LIST, "blocked": _REGISTRY_LIST},
        },
        {"registries": [], "blocked": []},
    ),
)

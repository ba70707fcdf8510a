"""Container image references: mutable tags, missing digests, untrusted registries."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from klint.checks.base import Check, Params, UnitContext, Violation
from klint.findings import Severity
from klint.model import ContainerView, containers, pod_view
from klint.model.resource import Resource

# The OCI digest grammar with the registered algorithms (go-digest, which containerd and
# the kubelet use to parse references): lowercase hex of the algorithm's exact length.
_DIGEST = re.compile(r"sha256:[a-f0-9]{64}|sha384:[a-f0-9]{96}|sha512:[a-f0-9]{128}")


@dataclass(frozen=True)
class ImageRef:
    """The parts of an image reference: ``registry/repository:tag@digest``."""

    registry: str
    repository: str
    tag: str
    digest: str

    @property
    def pinned(self) -> bool:
        """The digest is well-formed (a short, uppercase or unknown one pins nothing: the
        runtime refuses the reference)."""
        return bool(_DIGEST.fullmatch(self.digest))


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
    """Images with no tag or the ``latest`` tag and no (well-formed) digest."""
    pod = pod_view(resource)
    if pod is None:
        return
    for container in containers(pod):
        image = container.data.get("image")
        if not isinstance(image, str) or not image.strip():
            continue
        ref = parse_image(image.strip())
        if ref.pinned:
            continue
        if image.strip().startswith(KO_PREFIX):
            yield Violation(
                (*container.path, "image"),
                f'{container.label} uses image "{image}", a ko build reference that `ko '
                "resolve` replaces with a digest-pinned image when the release is built.",
                severity=Severity.NOTE,
            )
        elif image.strip() == INJECTED_IMAGE:
            yield Violation(
                (*container.path, "image"),
                f'{container.label} uses image "auto", the placeholder that Istio\'s sidecar '
                "injector replaces with its proxy image at admission.",
                severity=Severity.NOTE,
            )
        elif ref.digest:
            yield Violation(
                (*container.path, "image"),
                f'{container.label} uses image "{image}", whose digest is malformed: it pins '
                "nothing, and the runtime refuses the reference.",
            )
        elif _mutable(ref) and _local_registry(ref):
            yield Violation(
                (*container.path, "image"),
                f'{container.label} uses image "{image}" '
                f"{'with the mutable tag latest' if ref.tag else 'without a tag'} from the "
                f"local registry {ref.registry}: a developer build no cluster pulls as it is; "
                "pin a published release where you deploy it.",
                severity=Severity.NOTE,
            )
        elif not ref.tag:
            yield Violation(
                (*container.path, "image"),
                f'{container.label} uses image "{image}" without a tag (implicitly latest).',
            )
        elif ref.tag == "latest" and _development_repository(ref):
            yield Violation(
                (*container.path, "image"),
                f'{container.label} uses image "{image}" with the mutable tag latest from a '
                "development repository: a placeholder that releases replace; pin a release "
                "tag where you deploy it.",
                severity=Severity.NOTE,
            )
        elif ref.tag == "latest":
            yield Violation(
                (*container.path, "image"),
                f'{container.label} uses image "{image}" with the mutable tag latest.',
            )


# Image references ko (ko-build/ko, used by Knative and others) builds and replaces with a
# digest-pinned image at release: ``ko://<Go import path>``.
KO_PREFIX = "ko://"
# The image Istio gateway and sidecar templates name for the injector to replace.
INJECTED_IMAGE = "auto"
# Repository path segments of development builds (e.g. Istio's registry.istio.io/testing).
DEVELOPMENT_SEGMENTS = frozenset({"testing", "nightly", "snapshot", "snapshots"})


def _development_repository(ref: ImageRef) -> bool:
    """The repository path names a development channel (``…/testing/pilot``)."""
    return any(part in DEVELOPMENT_SEGMENTS for part in ref.repository.split("/")[:-1])


# Registry hosts of a developer's own machine or kind cluster (``localhost:5000``, the kind
# and k3d local registries): images pushed there are developer builds.
LOCAL_REGISTRY_HOSTS = frozenset(
    {"localhost", "127.0.0.1", "kind-registry", "registry.local", "host.docker.internal"}
)


def _local_registry(ref: ImageRef) -> bool:
    """The image's registry is a local one (any port; ``*.localhost`` names loopback)."""
    host = ref.registry.lower().partition(":")[0]
    return host in LOCAL_REGISTRY_HOSTS or host.endswith(".localhost")


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
    return not ref.pinned and ref.tag in ("", "latest")


def image_without_digest(resource: Resource, _: UnitContext, __: Params) -> Iterator[Violation]:
    """Images referenced by tag only, without ``@sha256:...``, or with a malformed digest."""
    for container, image, ref in _images(resource):
        if ref.digest and not ref.pinned:
            yield Violation(
                (*container.path, "image"),
                f'{container.label} uses image "{image}" with a malformed digest: a digest is '
                "sha256: and 64 (sha512: and 128) lowercase hex digits; the runtime refuses "
                "this reference.",
            )
        elif not ref.digest:
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
        if (
            not _mutable(ref)
            or image.strip().startswith(KO_PREFIX)
            or not isinstance(policy, str)
            or policy == "Always"
        ):
            continue
        if _local_registry(ref):
            yield Violation(
                (*container.path, "imagePullPolicy"),
                f'{container.label} uses the mutable image "{image}" with imagePullPolicy '
                f"{policy} from the local registry {ref.registry}: a developer build, loaded "
                "or pushed locally on purpose; pin a published release where you deploy it.",
                severity=Severity.NOTE,
            )
        else:
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

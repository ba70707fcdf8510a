"""Development copies of install manifests: a repository that keeps ``deploy/x.yaml`` (or
``charts/latest/<chart>/``) at a mutable tag beside release copies of it that pin the same
image (``deploy/v1.2.0/x.yaml``, ``charts/v1.2.0/<chart>-v1.2.0.tgz``). The mutable tag is
the development branch's, bumped at release: mutable-tag findings on that image are notes
that name the release copy (the pins are found once per run: klint/release_copies.py)."""

from __future__ import annotations

from klint.model.component import TAG_PREFIX, Expectation
from klint.model.deploy_time import image_name
from klint.model.resource import Resource
from klint.model.workload import container_at

DEVELOPMENT_COPY = "development-copy"

# (development copy: a file or a chart folder, as displayed; pinned image; the release copy
# that pins it). A pinned image starting with "/" is a chart values ``repository``: it
# names every image whose name ends with it (``mcr.microsoft.com/k8s/csi/x`` for
# ``/k8s/csi/x``); any other is an image name, matched exactly.
ReleasePin = tuple[str, str, str]


def development_copy(
    resource: Resource,
    field_path: tuple[str | int, ...],
    tags: tuple[str, ...],
    path: str,
    pins: tuple[ReleasePin, ...],
) -> Expectation | None:
    """The context of a finding in file ``path`` on the image of the container at the start
    of ``field_path`` when the rule expects it (``expected-for:development-copy``) and a
    release copy of the file (or of its chart) pins that image."""
    if not pins or f"{TAG_PREFIX}{DEVELOPMENT_COPY}" not in tags:
        return None
    container = container_at(resource, field_path)
    image = container.get("image") if container is not None else None
    if not isinstance(image, str) or not image.strip():
        return None
    name = image_name(image)
    for copy, pinned, where in pins:
        if (path == copy or path.startswith(f"{copy}/")) and names_image(pinned, name):
            return Expectation(
                DEVELOPMENT_COPY,
                f"a release copy ({where}, the newest that names this image) pins it: this "
                "is the development copy, whose tag is bumped at release",
                from_path=True,
            )
    return None


def names_image(pinned: str, name: str) -> bool:
    """Whether a pinned image (or a chart's ``/repository``) names the image ``name``."""
    if pinned.startswith("/"):
        return name == pinned[1:] or name.endswith(pinned)
    return name == pinned

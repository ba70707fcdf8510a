"""The Kubernetes pause image: a container that runs only ``/pause`` (it sleeps until it is
stopped) and exists to reserve capacity (JupyterHub's user placeholders, overprovisioning
Deployments) or to keep a pod alive after its init containers did the work (image pullers).
It opens no file, listens on nothing and uses no memory to speak of: a limit, a probe or a
read-only root filesystem on it changes nothing."""

from __future__ import annotations

from klint.model.resource import Resource
from klint.model.workload import container_at

# Repositories of the pause image (any tag or digest): the Kubernetes registries and the
# mirrors cloud distributions publish it under.
PAUSE_REPOSITORIES = frozenset(
    {
        "registry.k8s.io/pause",
        "k8s.gcr.io/pause",
        "gcr.io/google_containers/pause",
        "gcr.io/google-containers/pause",
        "public.ecr.aws/eks-distro/kubernetes/pause",
        "mcr.microsoft.com/oss/kubernetes/pause",
    }
)
_ARCH_SUFFIXES = ("-amd64", "-arm64", "-arm", "-ppc64le", "-s390x")


def is_pause_image(image: object) -> bool:
    """``image`` names the Kubernetes pause image (``registry.k8s.io/pause:3.9``,
    ``k8s.gcr.io/pause-amd64@sha256:…``)."""
    if not isinstance(image, str):
        return False
    name = image.strip().lower().partition("@")[0]
    folder, _, last = name.rpartition("/")
    last = last.partition(":")[0]
    for suffix in _ARCH_SUFFIXES:
        last = last.removesuffix(suffix)
    return f"{folder}/{last}" in PAUSE_REPOSITORIES


def pause_container_image(resource: Resource, field_path: tuple[str | int, ...]) -> str:
    """The image of the container at the start of ``field_path`` when it is the pause
    image, else ""."""
    container = container_at(resource, field_path)
    image = container.get("image") if container is not None else None
    return str(image) if is_pause_image(image) else ""

"""The API server's defaults for built-in kinds, applied before admission policies run.

Admission sees the object after defaulting: a Deployment without ``replicas`` has
``replicas: 1`` there, a pod spec has ``securityContext: {}`` and ``restartPolicy:
Always``. A policy reading such a field would fail offline where the cluster passes, so
the common defaults of ``pkg/apis/*/v1/defaults.go`` are filled in (on a copy).
"""

from __future__ import annotations

import copy
from typing import Any

from klint.model.resource import Resource
from klint.model.workload import workload_paths

_REPLICATED = frozenset({"Deployment", "ReplicaSet", "StatefulSet", "ReplicationController"})
_POD = {
    "restartPolicy": "Always",
    "dnsPolicy": "ClusterFirst",
    "schedulerName": "default-scheduler",
    "terminationGracePeriodSeconds": 30,
    "securityContext": {},
}
_CONTAINER = {
    "terminationMessagePath": "/dev/termination-log",
    "terminationMessagePolicy": "File",
    "resources": {},
}


def with_defaults(resource: Resource) -> dict[str, Any]:
    """A copy of the object with the defaults the API server would add on CREATE."""
    result = copy.deepcopy(resource.data)
    spec = result.get("spec")
    kind, group = resource.kind, resource.group
    if kind in _REPLICATED and isinstance(spec, dict):
        spec.setdefault("replicas", 1)
    if kind == "Service" and group == "" and isinstance(spec, dict):
        spec.setdefault("type", "ClusterIP")
        spec.setdefault("sessionAffinity", "None")
        for port in spec.get("ports") or ():
            if isinstance(port, dict):
                port.setdefault("protocol", "TCP")
                if "port" in port:
                    port.setdefault("targetPort", port["port"])
    paths = workload_paths(resource)
    pod = _dig(result, paths[0]) if paths else None
    if isinstance(pod, dict):
        _pod_defaults(pod, kind)
    return result


def _pod_defaults(pod: dict[str, Any], kind: str) -> None:
    for key, value in _POD.items():
        if key == "restartPolicy" and kind in ("Job", "CronJob"):
            continue  # a Job must set it; no default
        pod.setdefault(key, copy.deepcopy(value))
    for key in ("initContainers", "containers", "ephemeralContainers"):
        for container in pod.get(key) or ():
            if not isinstance(container, dict):
                continue
            for name, value in _CONTAINER.items():
                container.setdefault(name, copy.deepcopy(value))
            image = str(container.get("image") or "")
            tag = image.rsplit("/", 1)[-1]
            latest = "@" not in image and (":" not in tag or tag.endswith(":latest"))
            container.setdefault("imagePullPolicy", "Always" if latest else "IfNotPresent")
            for port in container.get("ports") or ():
                if isinstance(port, dict):
                    port.setdefault("protocol", "TCP")


def _dig(value: Any, path: tuple[str | int, ...]) -> Any:
    for part in path:
        if isinstance(part, str) and isinstance(value, dict):
            value = value.get(part)
        else:
            return None
    return value

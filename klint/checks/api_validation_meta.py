"""Name and metadata validation of the API server (``ValidateObjectMeta`` and friends).

Object names follow the rule of their kind (``ValidateObjectMeta`` with the kind's name
function: RFC 1123 subdomains for most kinds, labels for Namespaces, RFC 1035 labels for
Services, path segments for RBAC objects); container, volume and ConfigMap/Secret key
names their own (``validateContainers``, ``ValidateVolumes``, ``IsConfigMapKey``); label
and annotation keys are qualified names (``ValidateLabels``, ``ValidateAnnotations``).
Only built-in API groups are checked: a custom resource's name rules are its CRD's.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from klint.checks.api_names import (
    dns1035_label,
    dns1123_label,
    dns1123_subdomain,
    path_segment,
    qualified_name,
)
from klint.checks.base import Check, Params, UnitContext, Violation
from klint.findings import FieldPath
from klint.model import containers, pod_view
from klint.model.resource import Resource

BUILTIN_GROUPS = frozenset(
    {
        "",
        "apps",
        "batch",
        "autoscaling",
        "policy",
        "networking.k8s.io",
        "rbac.authorization.k8s.io",
        "storage.k8s.io",
        "scheduling.k8s.io",
        "admissionregistration.k8s.io",
        "apiextensions.k8s.io",
        "coordination.k8s.io",
        "discovery.k8s.io",
        "node.k8s.io",
        "certificates.k8s.io",
        "events.k8s.io",
        "flowcontrol.apiserver.k8s.io",
        "apiregistration.k8s.io",
    }
)
_NAME_RULES: dict[str, Callable[[str], str]] = {
    "Namespace": dns1123_label,
    "Service": dns1035_label,
    "Role": path_segment,
    "ClusterRole": path_segment,
    "RoleBinding": path_segment,
    "ClusterRoleBinding": path_segment,
}
_CONFIG_KEY = re.compile(r"[-._a-zA-Z0-9]+")
MAX_ANNOTATIONS_BYTES = 256 * 1024
MAX_CRONJOB_NAME = 52


def invalid_name(resource: Resource, _: UnitContext, __: Params) -> Iterator[Violation]:
    """Object, container, volume and ConfigMap/Secret key names the API server rejects."""
    if resource.group not in BUILTIN_GROUPS or not resource.kind:
        return
    yield from _object_name(resource)
    pod = pod_view(resource)
    if pod is not None:
        for container in containers(pod):
            name = container.data.get("name")
            if isinstance(name, str) and dns1123_label(name):
                yield Violation(
                    (*container.path, "name"),
                    f'container name "{name}": {dns1123_label(name)}.',
                )
        for volume, path in pod.volumes():
            name = volume.get("name")
            if isinstance(name, str) and dns1123_label(name):
                yield Violation((*path, "name"), f'volume name "{name}": {dns1123_label(name)}.')
    if resource.kind in ("ConfigMap", "Secret") and resource.group == "":
        for key in ("data", "binaryData", "stringData"):
            values = resource.get(key)
            for name in values if isinstance(values, dict) else ():
                text = str(name)
                if len(text) > 253 or not _CONFIG_KEY.fullmatch(text):
                    yield Violation(
                        (key, text),
                        f'{resource.kind} key "{text}" must consist of alphanumeric characters, '
                        "'-', '_' or '.' (at most 253).",
                    )


def _object_name(resource: Resource) -> Iterator[Violation]:
    metadata = resource.metadata
    name, generate = metadata.get("name"), metadata.get("generateName")
    check = _NAME_RULES.get(resource.kind, dns1123_subdomain)
    if name is None and generate is None:
        yield Violation(("metadata",), f"{resource.kind} needs metadata.name or generateName.")
        return
    if isinstance(name, str):
        problem = check(name) if name else "must not be empty"
        if problem:
            yield Violation(("metadata", "name"), f'{resource.kind} name "{name}": {problem}.')
        elif resource.kind == "CronJob" and len(name) > MAX_CRONJOB_NAME:
            yield Violation(
                ("metadata", "name"),
                f'CronJob name "{name}" must be no more than {MAX_CRONJOB_NAME} characters '
                "(its Jobs append a suffix).",
            )
        elif resource.kind == "CustomResourceDefinition":
            yield from _crd_name(resource, name)
    if isinstance(generate, str) and generate and check(generate.rstrip("-") or "a"):
        yield Violation(
            ("metadata", "generateName"),
            f'{resource.kind} generateName "{generate}": {check(generate.rstrip("-"))}.',
        )


def _crd_name(resource: Resource, name: str) -> Iterator[Violation]:
    plural, group = resource.get("spec", "names", "plural"), resource.get("spec", "group")
    if isinstance(plural, str) and isinstance(group, str) and name != f"{plural}.{group}":
        yield Violation(
            ("metadata", "name"),
            f'CustomResourceDefinition name "{name}" must be spec.names.plural + "." + '
            f'spec.group ("{plural}.{group}").',
        )


def invalid_metadata_key(resource: Resource, _: UnitContext, __: Params) -> Iterator[Violation]:
    """Label and annotation keys that are not qualified names; annotations over 256 KiB."""
    places: list[tuple[Any, FieldPath]] = [(resource.metadata, ("metadata",))]
    pod = pod_view(resource)
    if pod is not None:
        places.append((pod.metadata, pod.metadata_path))
    for metadata, path in places:
        if not isinstance(metadata, dict):
            continue
        for field, lower in (("labels", False), ("annotations", True)):
            values = metadata.get(field)
            if not isinstance(values, dict):
                continue
            for key in values:
                text = str(key)
                problem = qualified_name(text.lower() if lower else text)
                if problem:
                    what = field[:-1]
                    yield Violation((*path, field, text), f'{what} key "{text}": {problem}.')
            size = sum(len(str(k)) + len(str(v)) for k, v in values.items())
            if lower and size > MAX_ANNOTATIONS_BYTES:
                yield Violation(
                    (*path, field),
                    f"annotations total {size} bytes; the API server allows at most "
                    f"{MAX_ANNOTATIONS_BYTES} (256 KiB).",
                )


CHECKS = (
    Check("api-invalid-name", invalid_name, invalid_name.__doc__ or ""),
    Check("api-invalid-metadata-key", invalid_metadata_key, invalid_metadata_key.__doc__ or ""),
)

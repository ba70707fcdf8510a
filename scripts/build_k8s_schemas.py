#!/usr/bin/env python3
"""Regenerate ``schemas/kubernetes/`` from the JSON Schemas of ``kubernetes-validate``.

Source: the PyPI package ``kubernetes-validate`` (Apache-2.0, Will Thames), which ships
the Kubernetes OpenAPI definitions converted to JSON Schema per minor release
(``kubernetes-json-schema/v1.NN.0-local-strict/_definitions.json``). It is read here, at
build time only; klint does not depend on it at run time.

Usage::

    python scripts/build_k8s_schemas.py                 # pip-downloads the pinned wheel
    python scripts/build_k8s_schemas.py --source DIR    # an unpacked kubernetes_validate/

The bundle is deterministic (sorted keys, gzip mtime 0): running the script twice gives
byte-identical files. Layout:

* ``definitions.json.gz``: ``{content-hash: compact JSON text of one definition}`` shared by
  every version (a definition unchanged between releases is stored once);
* ``v1.NN.json.gz``: ``{"definitions": {name: hash}, "kinds": {apiVersion: {kind: name}}}``.

Each definition is reduced to what validation needs: descriptions, ``format`` and the
``x-kubernetes-*`` merge hints are dropped; ``IntOrString`` and ``Quantity`` become plain
type lists; enum values that the upstream conversion lost are restored from ``ENUMS``.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import re
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

PACKAGE = "kubernetes-validate"
PINNED = "1.37.0"
VERSIONS = tuple(f"1.{minor}" for minor in range(25, 38))
OUT = Path(__file__).resolve().parent.parent / "schemas" / "kubernetes"

_CORE = "io.k8s.api.core.v1."
_PROTOCOLS = ["TCP", "UDP", "SCTP"]
_EFFECTS = ["NoSchedule", "PreferNoSchedule", "NoExecute"]
_PROFILE_TYPES = ["Unconfined", "RuntimeDefault", "Localhost"]
_UPDATE = ["RollingUpdate", "OnDelete"]

# Enum values of ``+enum`` string types (k8s.io/api), which the OpenAPI v2 → JSON Schema
# conversion does not carry. The empty string is always accepted as well: the API server
# treats it as unset and applies the default.
# fmt: off
ENUMS: dict[tuple[str, str], list[str]] = {
    (_CORE + "Container", "imagePullPolicy"): ["Always", "Never", "IfNotPresent"],
    (_CORE + "EphemeralContainer", "imagePullPolicy"): ["Always", "Never", "IfNotPresent"],
    (_CORE + "Container", "terminationMessagePolicy"): ["File", "FallbackToLogsOnError"],
    (_CORE + "ContainerPort", "protocol"): _PROTOCOLS,
    (_CORE + "ServicePort", "protocol"): _PROTOCOLS,
    ("io.k8s.api.networking.v1.NetworkPolicyPort", "protocol"): _PROTOCOLS,
    (_CORE + "PodSpec", "restartPolicy"): ["Always", "OnFailure", "Never"],
    (_CORE + "PodSpec", "dnsPolicy"): [
        "ClusterFirstWithHostNet", "ClusterFirst", "Default", "None",
    ],
    (_CORE + "PodSpec", "preemptionPolicy"): ["PreemptLowerPriority", "Never"],
    (_CORE + "SeccompProfile", "type"): _PROFILE_TYPES,
    (_CORE + "AppArmorProfile", "type"): _PROFILE_TYPES,
    (_CORE + "SecurityContext", "procMount"): ["Default", "Unmasked"],
    (_CORE + "PodSecurityContext", "fsGroupChangePolicy"): ["OnRootMismatch", "Always"],
    (_CORE + "PodOS", "name"): ["linux", "windows"],
    (_CORE + "VolumeMount", "mountPropagation"): ["None", "HostToContainer", "Bidirectional"],
    (_CORE + "HTTPGetAction", "scheme"): ["HTTP", "HTTPS"],
    (_CORE + "HostPathVolumeSource", "type"): [
        "DirectoryOrCreate", "Directory", "FileOrCreate", "File", "Socket", "CharDevice",
        "BlockDevice",
    ],
    (_CORE + "Toleration", "operator"): ["Exists", "Equal"],
    (_CORE + "Toleration", "effect"): _EFFECTS,
    (_CORE + "Taint", "effect"): _EFFECTS,
    (_CORE + "NodeSelectorRequirement", "operator"): [
        "In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt",
    ],
    ("io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelectorRequirement", "operator"): [
        "In", "NotIn", "Exists", "DoesNotExist",
    ],
    (_CORE + "TopologySpreadConstraint", "whenUnsatisfiable"): ["DoNotSchedule", "ScheduleAnyway"],
    (_CORE + "ServiceSpec", "type"): ["ClusterIP", "NodePort", "LoadBalancer", "ExternalName"],
    (_CORE + "ServiceSpec", "externalTrafficPolicy"): ["Cluster", "Local"],
    (_CORE + "ServiceSpec", "internalTrafficPolicy"): ["Cluster", "Local"],
    (_CORE + "ServiceSpec", "sessionAffinity"): ["ClientIP", "None"],
    (_CORE + "ServiceSpec", "ipFamilyPolicy"): [
        "SingleStack", "PreferDualStack", "RequireDualStack",
    ],
    (_CORE + "PersistentVolumeClaimSpec", "volumeMode"): ["Block", "Filesystem"],
    (_CORE + "PersistentVolumeSpec", "volumeMode"): ["Block", "Filesystem"],
    (_CORE + "PersistentVolumeSpec", "persistentVolumeReclaimPolicy"): [
        "Recycle", "Delete", "Retain",
    ],
    ("io.k8s.api.apps.v1.DeploymentStrategy", "type"): ["Recreate", "RollingUpdate"],
    ("io.k8s.api.apps.v1.DaemonSetUpdateStrategy", "type"): _UPDATE,
    ("io.k8s.api.apps.v1.StatefulSetUpdateStrategy", "type"): _UPDATE,
    ("io.k8s.api.apps.v1.StatefulSetSpec", "podManagementPolicy"): ["OrderedReady", "Parallel"],
    ("io.k8s.api.networking.v1.HTTPIngressPath", "pathType"): [
        "Exact", "Prefix", "ImplementationSpecific",
    ],
    ("io.k8s.api.batch.v1.JobSpec", "completionMode"): ["NonIndexed", "Indexed"],
    ("io.k8s.api.batch.v1.CronJobSpec", "concurrencyPolicy"): ["Allow", "Forbid", "Replace"],
    ("io.k8s.api.policy.v1.PodDisruptionBudgetSpec", "unhealthyPodEvictionPolicy"): [
        "IfHealthyBudget", "AlwaysAllow",
    ],
}
# Enums of string list items.
ITEM_ENUMS: dict[tuple[str, str], list[str]] = {
    (_CORE + "PersistentVolumeClaimSpec", "accessModes"): [
        "ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany", "ReadWriteOncePod",
    ],
    ("io.k8s.api.networking.v1.NetworkPolicySpec", "policyTypes"): ["Ingress", "Egress"],
    (_CORE + "ServiceSpec", "ipFamilies"): ["IPv4", "IPv6"],
}

# fmt: on

_KEEP = {"type", "properties", "additionalProperties", "items", "required", "enum", "$ref"}
_VERSION_DIR = re.compile(r"^v(\d+)\.(\d+)\.0-local-strict$")


def fetch_source(workdir: Path) -> Path:
    """Download the pinned wheel with pip and unpack its schema folder."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--only-binary=:all:",
            "-d",
            str(workdir),
            f"{PACKAGE}=={PINNED}",
        ],
        check=True,
    )
    wheel = next(workdir.glob("kubernetes_validate-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(workdir / "unpacked")
    return workdir / "unpacked" / "kubernetes_validate"


def reduce(node: Any) -> Any:
    """Keep only the keywords klint validates; IntOrString-style ``oneOf`` → a type list."""
    if isinstance(node, list):
        return [reduce(item) for item in node]
    if not isinstance(node, dict):
        return node
    one_of = node.get("oneOf")
    if isinstance(one_of, list) and all(set(b) == {"type"} for b in one_of):
        types: list[str] = []
        for branch in one_of:
            branch_types = branch["type"]
            for name in branch_types if isinstance(branch_types, list) else [branch_types]:
                if name not in types:
                    types.append(name)
        return {"type": types}
    result: dict[str, Any] = {}
    for key, value in node.items():
        if key not in _KEEP:
            continue
        if key == "properties":
            result[key] = {name: reduce(sub) for name, sub in value.items()}
        elif key == "$ref":
            result[key] = value.rsplit("/", 1)[-1]  # a definition name
        else:
            result[key] = reduce(value)
    return result


def add_enums(name: str, definition: dict[str, Any], version: str) -> None:
    """Restore the enum values of ``ENUMS``/``ITEM_ENUMS`` into one definition."""
    properties = definition.get("properties", {})
    for (def_name, prop), values in ENUMS.items():
        if def_name == name:
            if prop not in properties:
                print(f"warning: {version}: {name}.{prop} not found", file=sys.stderr)
                continue
            properties[prop]["enum"] = [*values, ""]
    for (def_name, prop), values in ITEM_ENUMS.items():
        if def_name == name:
            items = properties.get(prop, {}).get("items")
            if not isinstance(items, dict):
                print(f"warning: {version}: {name}.{prop}[] not found", file=sys.stderr)
                continue
            items["enum"] = [*values, ""]


def api_version(gvk: dict[str, str]) -> str:
    group, version = gvk.get("group", ""), gvk["version"]
    return f"{group}/{version}" if group else version


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def write_gzip(path: Path, value: Any) -> int:
    data = canonical(value).encode()
    with (
        path.open("wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=9, mtime=0) as handle,
    ):
        handle.write(data)
    return path.stat().st_size


def build(source: Path, out: Path, versions: tuple[str, ...]) -> None:
    schema_root = source / "kubernetes-json-schema"
    available = {
        f"{m.group(1)}.{m.group(2)}": child
        for child in schema_root.iterdir()
        if (m := _VERSION_DIR.match(child.name))
    }
    missing = [v for v in versions if v not in available]
    if missing:
        raise SystemExit(f"versions not in {source}: {missing}; available: {sorted(available)}")
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.json.gz"):
        old.unlink()
    shared: dict[str, str] = {}
    total = 0
    for version in versions:
        raw = json.loads((available[version] / "_definitions.json").read_text())["$defs"]
        names: dict[str, str] = {}
        kinds: dict[str, dict[str, str]] = {}
        for name in sorted(raw):
            definition = raw[name]
            for gvk in definition.get("x-kubernetes-group-version-kind", []):
                kinds.setdefault(api_version(gvk), {})[gvk["kind"]] = name
            reduced = reduce(definition)
            add_enums(name, reduced, version)
            text = canonical(reduced)
            digest = hashlib.sha256(text.encode()).hexdigest()[:16]
            shared[digest] = text
            names[name] = digest
        size = write_gzip(out / f"v{version}.json.gz", {"definitions": names, "kinds": kinds})
        total += size
        print(
            f"v{version}: {len(names)} definitions, {sum(map(len, kinds.values()))} kinds, "
            f"index {size:,} bytes"
        )
    size = write_gzip(out / "definitions.json.gz", shared)
    total += size
    print(f"definitions.json.gz: {len(shared)} unique definitions, {size:,} bytes")
    print(f"bundle total: {total:,} bytes")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, help="an unpacked kubernetes_validate/ folder")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--versions", default=",".join(VERSIONS))
    args = parser.parse_args()
    versions = tuple(v.strip() for v in args.versions.split(",") if v.strip())
    if args.source is not None:
        build(args.source, args.out, versions)
        return
    with tempfile.TemporaryDirectory() as tmp:
        build(fetch_source(Path(tmp)), args.out, versions)


if __name__ == "__main__":
    main()

"""``.Capabilities.APIVersions`` entries of the target cluster that Helm leaves out offline.

A cluster's discovery answers ``Has`` in two forms: ``group/version`` and
``group/version/Kind`` (Helm's ``action.GetVersionSet`` adds ``path.Join(groupVersion,
kind)`` for every resource it lists). ``helm template`` has no cluster: it uses
``chartutil.DefaultVersionSet``, which holds only ``group/version`` entries, so a chart that
asks ``Has "policy/v1/PodDisruptionBudget"`` falls back to an older apiVersion that no
supported cluster gets. Rendering therefore passes, as ``--api-versions``, the
``group/version/Kind`` of every built-in kind the target Kubernetes version serves, read from
the bundled API schemas (:mod:`klint.k8s_schemas`).

Served means served by default. Alpha versions are always off by default, and since
Kubernetes 1.24 (KEP-3136, "Beta APIs Off by Default"; ``DefaultAPIResourceConfigSource`` in
``pkg/controlplane/apiserver/options``) so is every beta version except the legacy betas
enabled before it, all of them deprecated with a removal release: a beta kind counts only
while :mod:`klint.deprecations` lists it as not yet removed (``policy/v1beta1`` at 1.24, not
at 1.25). Meta and list kinds (``Status``, ``*List``, ...) are not resources. Custom
resources are left out, a chart's own CRDs included: ``helm template`` only knows them from
a cluster.
"""

from __future__ import annotations

import re
from functools import cache

from klint.deprecations import Deprecation, lookup
from klint.k8s_schemas import builtin_schemas, pick_version, schemas_cover

_VERSION = re.compile(r"v?(\d+)\.(\d+)(?:\.\d+)?(?:[-+].*)?")
_PRERELEASE = re.compile(r"v\d+(alpha|beta)\d+")
_NOT_RESOURCES = frozenset({"APIGroup", "APIVersions", "DeleteOptions", "Status", "WatchEvent"})


def served_kinds(kube_version: str | None) -> tuple[str, ...]:
    """``group/version/Kind`` of the built-in kinds served at ``kube_version`` (sorted);
    none when the version is not given, not a version, or older than the bundled schemas
    (Helm then keeps its own defaults)."""
    if kube_version is None:
        return ()
    match = _VERSION.fullmatch(kube_version.strip())
    if match is None:
        return ()  # Helm reports the bad version itself
    return _served_at((int(match[1]), int(match[2])))


@cache
def _served_at(version: tuple[int, int]) -> tuple[str, ...]:
    if not schemas_cover(version):
        return ()
    kinds = builtin_schemas(pick_version(version)).kinds
    return tuple(
        sorted(
            f"{api_version}/{kind}"
            for api_version, by_kind in kinds.items()
            for kind in by_kind
            if kind not in _NOT_RESOURCES
            and not kind.endswith("List")
            and _on_by_default(api_version, kind, version)
        )
    )


def _on_by_default(api_version: str, kind: str, version: tuple[int, int]) -> bool:
    """GA kinds, and legacy beta kinds not yet removed at ``version``."""
    stage = _PRERELEASE.fullmatch(api_version.rpartition("/")[2])
    if stage is None:
        return True
    if stage[1] == "alpha":
        return False
    entry = lookup(api_version, kind)
    return entry is not None and entry.api_version == api_version and _served(entry, version)


def _served(entry: Deprecation, version: tuple[int, int]) -> bool:
    return entry.removed is None or version < entry.removed

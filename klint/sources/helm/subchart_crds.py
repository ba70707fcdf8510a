"""The ``crds/`` files of a chart's enabled subcharts: Helm installs them with the chart.

``helm install`` installs the CRDs of the chart and of every dependency, recursively
(``Chart.CRDObjects``), unless ``--skip-crds``. Since Helm 3.8.0 it first drops the
dependencies that ``condition``/``tags`` disable (``ProcessDependencies`` runs before
``CRDObjects``; helm/helm#9915), so a disabled dependency's CRDs are not installed. The
same is done here: each dependency's ``condition`` and ``tags`` are evaluated against the
chart's merged values, with the subchart's own values.yaml under its key (as Helm's
coalesced values have them) and ``tags`` always from the top chart.

Subcharts are folders (``charts/dep/``, nested ones too) or archives (``charts/dep.tgz``,
their ``<top>/crds/`` members; charts nested inside an archive are not opened). A vendored
chart that no dependency entry names is enabled, as Helm keeps it. Nothing here reads a
file: it only says which files are CRDs to load.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from klint.sources.confine import is_inside
from klint.sources.helm.archived import (
    archive_chart,
    crd_members,
    is_manifest_name,
    read_member,
)
from klint.sources.helm.backends import merge_values
from klint.sources.helm.chart_files import dependency_entries, is_chart_dir, read_yaml_mapping
from klint.sources.helm.dependencies import dependency_enabled

_MAX_DEPTH = 8  # charts nested deeper than this are not walked


@dataclass(frozen=True)
class SubchartCrd:
    """A CRD file of an enabled subchart: a file on disk, or a member of an archive."""

    path: Path  # the file, or the archive that holds it
    member: str | None = None  # its path inside the archive, as ``tar`` lists it
    size: int = 0  # the member's size (files are sized when read)


@dataclass(frozen=True)
class _Vendored:
    name: str  # the chart's own name (its Chart.yaml)
    path: Path  # the folder, or the archive
    top: str | None  # an archive's top folder; None for a folder


def subchart_crds(
    chart: Path, root: Path, values: Callable[[], Mapping[str, Any]]
) -> list[SubchartCrd]:
    """The CRD files of ``chart``'s enabled subcharts, in a stable order: each subchart's,
    depth first, subcharts sorted by their place under ``charts/``. ``values`` (the chart's
    merged values) is only asked for when some subchart has CRDs: most have none, and
    parsing a large values.yaml costs more than the rest."""
    if not any(_has_crds(sub, root, 0) for sub in _vendored(chart, root)):
        return []
    merged = values()
    tags = merged.get("tags")
    top_tags = dict(tags) if isinstance(tags, Mapping) else {}
    return list(_walk(chart, root, dict(merged), top_tags, 0))


def _has_crds(sub: _Vendored, root: Path, depth: int) -> bool:
    """Whether a vendored chart, or one vendored in it, holds CRD files."""
    if sub.top is not None:
        return bool(crd_members(sub.path, sub.top))
    if crd_paths(sub.path, root):
        return True
    return depth + 1 < _MAX_DEPTH and any(
        _has_crds(inner, root, depth + 1) for inner in _vendored(sub.path, root)
    )


def _walk(
    chart: Path, root: Path, scope: dict[str, Any], tags: dict[str, Any], depth: int
) -> Iterator[SubchartCrd]:
    if depth >= _MAX_DEPTH:
        return
    vendored = _vendored(chart, root)
    entries = dependency_entries(chart)
    for sub in vendored:
        if not _has_crds(sub, root, depth):
            continue
        declared = [e for e in entries if str(e.get("name")) == sub.name]
        keys = [str(e.get("alias") or sub.name) for e in declared] or [sub.name]
        own = _own_values(sub)
        enabled_keys = []
        for key, entry in zip(keys, declared or [{}], strict=True):
            conditions = dict(scope)
            conditions[key] = merge_values(own, _mapping(scope, key))
            conditions["tags"] = tags  # Helm reads tags from the top chart's values only
            if dependency_enabled(entry, conditions)[0]:
                enabled_keys.append(key)
        if not enabled_keys:
            continue
        if sub.top is not None:
            for member, size in crd_members(sub.path, sub.top):
                yield SubchartCrd(sub.path, member, size)
            continue
        for file in crd_paths(sub.path, root):
            yield SubchartCrd(file)
        # a subchart's own dependencies, under the first enabled key's values
        inner = merge_values(own, _mapping(scope, enabled_keys[0]))
        yield from _walk(sub.path, root, inner, tags, depth + 1)


def _vendored(chart: Path, root: Path) -> list[_Vendored]:
    """Charts under ``charts/`` (folders and archives inside ``root``, no links), sorted."""
    folder = chart / "charts"
    if not folder.is_dir() or folder.is_symlink() or not is_inside(folder, root):
        return []
    found: list[_Vendored] = []
    for entry in sorted(folder.iterdir()):
        if entry.is_symlink() or not is_inside(entry, root):
            continue
        if is_chart_dir(entry):
            name = read_yaml_mapping(entry / "Chart.yaml").get("name") or entry.name
            found.append(_Vendored(str(name), entry, None))
        elif entry.is_file() and entry.name.endswith((".tgz", ".tar.gz")):
            named = archive_chart(entry)
            if named is not None:
                found.append(_Vendored(named[1], entry, named[0]))
    return found


def _own_values(sub: _Vendored) -> dict[str, Any]:
    """A subchart's own values.yaml (inside its archive for a packaged one)."""
    if sub.top is None:
        return read_yaml_mapping(sub.path / "values.yaml")
    import yaml

    text = read_member(sub.path, f"{sub.top}/values.yaml")
    try:
        data = yaml.safe_load(text) if text else None
    except yaml.YAMLError:
        return {}
    return data if isinstance(data, dict) else {}


def crd_paths(chart: Path, root: Path) -> list[Path]:
    """The files under a chart directory's ``crds/`` that Helm installs (``.yaml``, ``.yml``,
    ``.json``; nested folders too), sorted; links and files outside ``root`` are left out."""
    folder = chart / "crds"
    if not chart.is_dir() or not folder.is_dir() or folder.is_symlink():
        return []
    found: list[Path] = []
    for directory, folders, names in os.walk(folder):
        base = Path(directory)
        folders[:] = sorted(f for f in folders if not (base / f).is_symlink())
        for name in names:
            path = base / name
            if is_manifest_name(name) and not path.is_symlink() and is_inside(path, root):
                found.append(path)
    return sorted(found)


def _mapping(values: Mapping[str, Any], key: str) -> dict[str, Any]:
    found = values.get(key)
    return dict(found) if isinstance(found, Mapping) else {}

"""Chart dependencies kept in the same repository (``repository: file://../lib``), vendored
into klint's copy of the chart as ``helm dependency build`` would, offline.

Chart repositories often share a library chart by path (every chart of spiffe's
helm-charts-hardened depends on ``file://../spire-lib``), or publish it and depend on the
release (every VictoriaMetrics chart names ``victoria-metrics-common`` from their OCI
registry, and the chart is ``charts/victoria-metrics-common`` of the same tree). Resolving
such a dependency fetches nothing: its folder is copied into the ``charts/`` folder of
klint's copy of the chart that declares it, when the path stays inside the repository and
holds a chart of the declared name (for a published one: beside the chart, with a version
the entry's constraint allows: ``chart_files.published_here``); a path out of the
repository, or to anything else, stays a missing dependency. Their
own ``file://`` dependencies are resolved the same way, up to :data:`MAX_DEPTH` levels.
Findings in a dependency's templates point at its own files, and its files are inputs of
the chart's unit (the result cache follows them).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from klint.sources.confine import CopyLimits, copy_confined
from klint.sources.helm.chart_files import (
    dependency_entries,
    is_chart_dir,
    local_target,
    read_text,
    vendored_charts,
)
from klint.sources.helm.output import HelmRenderError

MAX_DEPTH = 8


@dataclass(frozen=True)
class LocalDependency:
    """A ``file://`` dependency ``name`` that the chart folder ``declared_in`` (a chart, one
    of its subchart folders, or another local dependency) declares, found at ``target``."""

    declared_in: Path
    name: str
    target: Path


def local_dependencies(chart_dir: Path, root: Path) -> list[LocalDependency]:
    """Every ``file://`` dependency that is not vendored and resolves inside ``root``: of the
    chart, of its subchart folders and of the dependencies found, parents first."""
    found: list[LocalDependency] = []
    seen: set[str] = set()
    queue = [(chart_dir, 0)]
    while queue:
        directory, depth = queue.pop(0)
        real = os.path.realpath(directory)
        if real in seen or depth > MAX_DEPTH:
            continue
        seen.add(real)
        if _declares_dependencies(directory):  # parsed only then: most charts have none
            names = {name for name, _ in vendored_charts(directory)}
            for entry in dependency_entries(directory):
                name = entry.get("name")
                declared = any(d.declared_in == directory and d.name == name for d in found)
                if name in names or declared:
                    continue
                target = local_target(directory, entry, root)
                if target is not None:
                    found.append(LocalDependency(directory, str(name), target))
                    queue.append((target, depth + 1))
        queue.extend((sub, depth + 1) for sub in _subchart_folders(directory))
    return found


def _declares_dependencies(directory: Path) -> bool:
    """Whether the chart's metadata may name a dependency kept in the repository (a
    ``file://`` one, or one published from the same tree): whether it has dependencies."""
    for name in ("Chart.yaml", "requirements.yaml"):
        text = read_text(directory / name)
        if text is not None and "dependencies" in text:
            return True
    return False


def _subchart_folders(directory: Path) -> list[Path]:
    """The chart folders in ``charts/`` (archives hold their dependencies packed)."""
    charts = directory / "charts"
    try:
        entries = sorted(charts.iterdir()) if charts.is_dir() else []
    except OSError:
        return []
    return [entry for entry in entries if is_chart_dir(entry)]


def vendor_local_dependencies(
    chart: Path, copy: Path, root: Path, limits: CopyLimits
) -> dict[Path, Path]:
    """Copy each local dependency of ``chart`` into the ``charts/`` folder of the copy of the
    chart folder that declares it; returns each copied folder → the dependency's own."""
    places: dict[Path, Path] = {chart: copy}  # a chart folder → its copy
    copied: dict[Path, Path] = {}
    for dependency in local_dependencies(chart, root):
        parent = moved(dependency.declared_in, places)
        if parent is None:
            continue
        destination = parent / "charts" / dependency.name
        if destination.exists():
            continue
        refused = copy_confined(dependency.target, destination, root, limits)
        if refused:
            link = os.path.relpath(refused[0].path, root)
            raise HelmRenderError(f"{link}: {refused[0].reason}", values_can_fix=False)
        places[dependency.target] = destination
        copied[destination] = dependency.target
    return copied


def moved(path: Path, places: Mapping[Path, Path]) -> Path | None:
    """``path`` under the deepest folder of ``places`` that holds it (or is it), moved to
    where that folder maps: an original chart folder to its copy, or back."""
    for folder in sorted(places, key=lambda p: len(p.parts), reverse=True):
        if path == folder or folder in path.parents:
            return places[folder] / path.relative_to(folder)
    return None

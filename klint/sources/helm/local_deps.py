"""Chart dependencies kept in the same repository (``repository: file://../lib``), vendored
into klint's copy of the chart as ``helm dependency build`` would, offline.

Chart repositories often share a library chart by path (every chart of spiffe's
helm-charts-hardened depends on ``file://../spire-lib``). Resolving such a dependency fetches
nothing: its folder is copied into the ``charts/`` folder of klint's copy of the chart that
declares it, when the path stays inside the repository and holds a chart of the declared
name; a path out of the repository, or to anything else, stays a missing dependency. Their
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
from klint.sources.helm.chart_files import dependency_entries, local_target, vendored_charts
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
        vendored = vendored_charts(directory)
        names = {name for name, _ in vendored}
        for entry in dependency_entries(directory):
            name = entry.get("name")
            if name in names or any(d.declared_in == directory and d.name == name for d in found):
                continue
            target = local_target(directory, entry, root)
            if target is not None:
                found.append(LocalDependency(directory, str(name), target))
                queue.append((target, depth + 1))
        queue.extend((location, depth + 1) for _, location in vendored if location is not None)
    return found


def vendor_local_dependencies(
    chart: Path, copy: Path, root: Path, limits: CopyLimits
) -> dict[Path, Path]:
    """Copy each local dependency of ``chart`` into the ``charts/`` folder of the copy of the
    chart folder that declares it; returns each copied folder → the dependency's own."""
    places: dict[Path, Path] = {chart: copy}  # a chart folder → its copy
    copied: dict[Path, Path] = {}
    for dependency in local_dependencies(chart, root):
        parent = _copy_of(dependency.declared_in, places)
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


def _copy_of(folder: Path, places: Mapping[Path, Path]) -> Path | None:
    """Where ``folder`` (an original chart folder) is in the copy: a copied folder, or
    inside one (a subchart folder of it)."""
    for original in sorted(places, key=lambda p: len(p.parts), reverse=True):
        if folder == original or original in folder.parents:
            return places[original] / folder.relative_to(original)
    return None

"""A chart on disk: its subcharts, declared and vendored dependencies, and template files."""

from __future__ import annotations

import os
import tarfile
import zlib
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from klint.sources.confine import is_inside
from klint.sources.helm.versions import satisfies
from klint.sources.names import find_chart_root as find_owning_chart

_FILE_SCHEME = "file://"


def is_chart_dir(path: Path) -> bool:
    """Whether ``path`` is a directory holding a ``Chart.yaml``."""
    return path.is_dir() and (path / "Chart.yaml").is_file()


def helm_repository_release(archive: Path) -> bool:
    """A packaged chart beside a Helm repository's ``index.yaml`` that is not a dependency
    in a chart's own ``charts/`` folder: a published release, never the line anyone edits."""
    folder = archive.parent
    if not archive.name.endswith((".tgz", ".tar.gz")) or not archive.is_file():
        return False
    if not (folder / "index.yaml").is_file():
        return False
    return not (folder.name == "charts" and (folder.parent / "Chart.yaml").is_file())


def find_chart_root(path: Path) -> Path | None:
    """The chart that owns ``path`` (a file or directory), as an absolute path.

    That is the nearest enclosing directory with a ``Chart.yaml``, except that a chart that
    sits in another chart's ``charts/`` belongs to that parent (recursively).
    """
    start = Path(os.path.abspath(path))
    return find_owning_chart(start if start.is_dir() else start.parent)


def missing_dependencies(chart_dir: Path, root: Path | None = None) -> list[str]:
    """Declared dependencies with no matching chart under ``charts/`` (dir or archive).

    Reads ``Chart.yaml`` (or ``requirements.yaml`` for ``apiVersion: v1``) and matches by
    chart name, as ``helm template`` does, whatever the ``condition``. Directory subcharts are
    checked too (named ``sub/dep``); for them a chart vendored by an enclosing chart counts,
    since templates of all charts share one namespace. With ``root``, a ``file://``
    dependency inside it (:func:`local_target`) is not missing: klint vendors it.
    """
    return _missing(chart_dir, frozenset(), "", root)


def _missing(
    chart_dir: Path, inherited: frozenset[str], prefix: str, root: Path | None
) -> list[str]:
    metadata = read_yaml_mapping(chart_dir / "Chart.yaml")
    vendored = vendored_charts(chart_dir)
    available = inherited | {name for name, _ in vendored}
    missing = [
        prefix + str(entry["name"])
        for entry in _dependency_entries(chart_dir, metadata)
        if entry.get("name")
        and str(entry["name"]) not in available
        and (root is None or local_target(chart_dir, entry, root) is None)
    ]
    for name, location in vendored:
        if location is not None:
            missing.extend(_missing(location, available, f"{prefix}{name}/", root))
    return missing


def local_target(chart_dir: Path, entry: Mapping[str, Any], root: Path) -> Path | None:
    """The folder a ``file://`` dependency entry of ``chart_dir`` names (what ``helm
    dependency build`` copies, offline), when it lies inside ``root`` and holds a chart of
    the entry's name; for another repository, the chart of that name published from the
    same tree (:func:`published_here`); else None."""
    repository, name = entry.get("repository"), entry.get("name")
    if not isinstance(name, str) or not name or "\x00" in name:
        return None
    if not isinstance(repository, str) or not repository.startswith(_FILE_SCHEME):
        return published_here(chart_dir, entry, root)
    if "\x00" in repository:
        return None
    target = Path(os.path.normpath(chart_dir / repository[len(_FILE_SCHEME) :]))
    if not is_inside(target, root) or not is_chart_dir(target):
        return None
    return target if read_yaml_mapping(target / "Chart.yaml").get("name") == name else None


def published_here(chart_dir: Path, entry: Mapping[str, Any], root: Path) -> Path | None:
    """For a dependency fetched from a chart repository or registry: the chart of that name
    beside ``chart_dir`` in ``root`` (``charts/<name>``: chart repositories publish their
    shared charts from the same tree), when its version meets the entry's constraint (or
    the entry sets none), else None. ``helm dependency build`` would download a release of
    that folder; offline, the folder is the best copy of it."""
    name, wanted = entry.get("name"), entry.get("version")
    if not isinstance(name, str) or name in (".", "..") or "/" in name or "\\" in name:
        return None
    target = chart_dir.parent / name
    if target == chart_dir or not is_inside(target, root) or not is_chart_dir(target):
        return None
    metadata = read_yaml_mapping(target / "Chart.yaml")
    if metadata.get("name") != name:
        return None
    constrained = wanted is not None and str(wanted).strip()
    if constrained and satisfies(str(metadata.get("version", "")), str(wanted)) is not True:
        return None
    return target


def template_files(chart_dir: Path) -> dict[str, Path | None]:
    """Helm chart paths (``web``, ``web/charts/db``) → chart directory, None for archives."""
    metadata = read_yaml_mapping(chart_dir / "Chart.yaml")
    name = str(metadata.get("name") or chart_dir.name)
    charts: dict[str, Path | None] = {}
    _collect_charts(chart_dir, name, metadata, charts)
    return charts


def _collect_charts(
    chart_dir: Path, prefix: str, metadata: Mapping[str, Any], charts: dict[str, Path | None]
) -> None:
    charts[prefix] = chart_dir
    aliases: dict[str, list[str]] = {}
    for dependency in _dependency_entries(chart_dir, metadata):
        if dependency.get("alias"):
            aliases.setdefault(str(dependency.get("name")), []).append(str(dependency["alias"]))
    for name, location in vendored_charts(chart_dir):
        for shown in (name, *aliases.get(name, ())):
            full = f"{prefix}/charts/{shown}"
            if location is None:
                charts[full] = None
            else:
                _collect_charts(location, full, read_yaml_mapping(location / "Chart.yaml"), charts)


def resolve_source(source: str, chart_dir: Path, charts: Mapping[str, Path | None]) -> Path | None:
    """The file on disk for a Helm template path, or None when it is not on disk."""
    best = max((p for p in charts if source.startswith(p + "/")), key=len, default=None)
    if best is None:
        # Unknown chart name: strip it, as kube-linter does.
        _, _, rest = source.partition("/")
        candidate = chart_dir / rest
        return candidate if rest and os.path.isfile(candidate) else None
    location = charts[best]
    if location is None:
        return None
    candidate = location / source[len(best) + 1 :]
    return candidate if os.path.isfile(candidate) else None


def vendored_charts(chart_dir: Path) -> list[tuple[str, Path | None]]:
    """Charts under ``charts/``: (chart name, directory), directory None for archives."""
    found: list[tuple[str, Path | None]] = []
    charts = chart_dir / "charts"
    if not charts.is_dir():
        return found
    for entry in sorted(charts.iterdir()):
        if is_chart_dir(entry):
            name = read_yaml_mapping(entry / "Chart.yaml").get("name") or entry.name
            found.append((str(name), entry))
        elif entry.is_file() and entry.name.endswith((".tgz", ".tar.gz")):
            name = _archive_chart_name(entry)
            if name is not None:
                found.append((name, None))
    return found


def _archive_chart_name(archive: Path) -> str | None:
    """The ``name`` in a chart archive's top-level ``<dir>/Chart.yaml``."""
    try:
        with tarfile.open(archive, "r:*") as tar:
            for member in tar:
                parts = PurePosixPath(member.name).parts
                if len(parts) == 2 and parts[1] == "Chart.yaml" and member.isfile():
                    handle = tar.extractfile(member)
                    if handle is None or member.size > 1024 * 1024:
                        return None
                    data = yaml.safe_load(handle.read().decode("utf-8", "replace"))
                    name = data.get("name") if isinstance(data, dict) else None
                    return str(name) if name else None
    except (tarfile.TarError, OSError, EOFError, zlib.error, yaml.YAMLError):
        return None  # a truncated or corrupt archive: refused later, by the schema check
    return None


def dependency_entries(chart_dir: Path) -> list[dict[str, Any]]:
    """The ``dependencies`` entries of a chart directory (``requirements.yaml`` for v1)."""
    return _dependency_entries(chart_dir, read_yaml_mapping(chart_dir / "Chart.yaml"))


def _dependency_entries(chart_dir: Path, metadata: Mapping[str, Any]) -> list[dict[str, Any]]:
    entries: Any = metadata.get("dependencies")
    if not entries and str(metadata.get("apiVersion", "")) == "v1":
        entries = read_yaml_mapping(chart_dir / "requirements.yaml").get("dependencies")
    if not isinstance(entries, list):
        return []
    return [entry for entry in entries if isinstance(entry, dict)]


def read_yaml_mapping(path: Path) -> dict[str, Any]:
    """A small YAML file (Chart.yaml, requirements.yaml) as a mapping; {} when unreadable."""
    text = read_text(path)
    if text is None:
        return {}
    try:  # libyaml's safe loader when present: the same mapping, several times faster
        data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError:
        return {}
    return data if isinstance(data, dict) else {}


def read_text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None

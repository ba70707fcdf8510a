"""File names that make a manifest, a chart or an overlay, and the roots they belong to."""

from __future__ import annotations

from pathlib import Path

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
CHART_ARCHIVES = (".tgz", ".tar.gz")
CHART_FILE = "Chart.yaml"
KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")


def find_chart_root(directory: Path) -> Path | None:
    """The outermost chart that owns ``directory`` (a subchart belongs to its parent)."""
    found: Path | None = None
    for candidate in [directory, *directory.parents]:
        if (candidate / CHART_FILE).is_file():
            if found is not None and found.parent.parent != candidate:
                break
            found = candidate
        elif found is not None and not (candidate.name == "charts" and candidate == found.parent):
            break
    return found


def find_kustomization_root(directory: Path) -> Path | None:
    """The nearest directory (this one or above) holding a kustomization file."""
    for candidate in [directory, *directory.parents]:
        if any((candidate / name).is_file() for name in KUSTOMIZATION_FILES):
            return candidate
    return None


def kustomization_file(directory: Path) -> Path | None:
    """The kustomization file in ``directory``, if any (first of :data:`KUSTOMIZATION_FILES`)."""
    for name in KUSTOMIZATION_FILES:
        candidate = directory / name
        if candidate.is_file():
            return candidate
    return None

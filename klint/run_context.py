"""What the whole run knows that decides a finding's context (:mod:`klint.model.declared`):
the charts it lints (a manifest generated from one is a copy fixed there) and the READMEs
that declare a repository or folder a demo or a test driver.

Both go into :class:`~klint.sources.base.LoadSettings`, whose ``repr`` is part of the result
cache's run key: a unit's cached result changes when the set of linted charts or what a
README declares changes (a README's bytes that change nothing it declares change no key).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path

from klint.model.declared import declared_reason, self_declaration
from klint.sources.base import LintUnit, display_path
from klint.sources.confine import read_inside, unit_root
from klint.sources.manifests import STDIN_DISPLAY, StdinBuffer

# A README larger than this is not read; of one read, only the start is decoded (its opening
# is in its first lines).
README_MAX_BYTES = 1024 * 1024
README_OPENING_BYTES = 16 * 1024
README_NAMES = ("README.md", "readme.md", "Readme.md", "README", "README.rst", "README.txt")
MAX_FOLDERS = 20_000  # folders whose README is looked at, at most, per run


def linted_charts(units: Iterable[LintUnit], cwd: Path) -> tuple[tuple[str, str], ...]:
    """``(name, folder)`` of every chart folder the run lints, by the name in its Chart.yaml
    and by the folder's own name (older output, renamed charts), sorted by folder depth."""
    charts = [unit for unit in units if _chart_folder(unit)]
    if not charts:
        return ()  # Helm's modules are imported only when a run has a chart
    from klint.sources.helm.chart import HelmChart
    from klint.sources.helm.chart_files import read_yaml_mapping

    found = set()
    for unit in charts:
        if isinstance(unit, HelmChart):
            name = read_yaml_mapping(unit.path / "Chart.yaml").get("name")
            shown = display_path(unit.path, cwd)
            if isinstance(name, str) and name and "/" not in name:
                found.add((name, shown))
            # Helm 2 and renamed charts: output names the chart's folder (``provisioner``)
            found.add((unit.path.resolve().name, shown))
    return tuple(sorted(found, key=lambda pair: (pair[1].count("/"), pair[1], pair[0])))


def _chart_folder(unit: LintUnit) -> bool:
    """A chart folder unit (told by its type's name: no Helm module imported to ask)."""
    path = getattr(unit, "path", None)
    chart = type(unit).__name__ == "HelmChart" and type(unit).__module__.endswith(".helm.chart")
    return chart and isinstance(path, Path) and path.is_dir()


def run_folders(units: Iterable[LintUnit], cwd: Path) -> list[tuple[Path, Path, frozenset[str]]]:
    """``(folder, root, names in it)`` of each folder from the units' own up to their
    repository's root, once (at most :data:`MAX_FOLDERS`): where READMEs and Makefiles that
    decide a context are found."""
    found: list[tuple[Path, Path, frozenset[str]]] = []
    looked: set[Path] = set()
    for start in _unit_folders(units):
        folder = start.resolve()
        root = unit_root(start, cwd)  # the folders' git roots are found once (confine)
        while folder.is_relative_to(root) and folder not in looked:
            looked.add(folder)
            if len(looked) > MAX_FOLDERS:
                return found
            try:
                names = frozenset(os.listdir(folder))  # one listing per folder
            except OSError:
                names = frozenset()
            found.append((folder, root, names))
            if folder == root:
                break
            folder = folder.parent
    return found


def declared_folders(
    units: Iterable[LintUnit], cwd: Path, folders: Sequence[tuple[Path, Path, frozenset[str]]] = ()
) -> tuple[tuple[str, str], ...]:
    """``(folder, reason)`` of every folder, from each unit's own up to its repository's
    root, whose README's opening declares it a demo or a test driver; folders as displays
    ("" for the working directory or one above it) and as absolute paths (an editor's
    buffer is named by one), longest first."""
    declared: dict[str, str] = {}
    here = cwd.resolve()
    for folder, root, names in folders or run_folders(units, cwd):
        reason = _readme_declaration(folder, root, cwd, names)
        if reason is not None:
            shown = "" if here.is_relative_to(folder) else display_path(folder, cwd)
            declared.setdefault(shown, reason)
            declared.setdefault(folder.as_posix(), reason)  # editors name files so
    return tuple(sorted(declared.items(), key=lambda pair: (-len(pair[0]), pair[0])))


def built_copies(
    units: Iterable[LintUnit], cwd: Path, folders: Sequence[tuple[Path, Path, frozenset[str]]] = ()
) -> tuple[tuple[str, str], ...]:
    """``(file, reason)`` of every file a Makefile on the units' way to their repository root
    writes from a kustomize build of a kustomization the run lints (an overlay it builds, or
    one such a build reads: committed_builds.py): a copy fixed in that kustomization."""
    overlays = [unit for unit in units if type(unit).__name__ == "KustomizeOverlay"]
    if not overlays:
        return ()
    from klint.sources.kustomize.build import lexical_root
    from klint.sources.kustomize.committed_builds import build_output
    from klint.sources.kustomize.makefiles import MAKEFILE_NAMES, read_makefile
    from klint.sources.kustomize.tree import Tree

    built: set[Path] = set()  # every kustomization the run's builds read (scanned once)
    for unit in overlays:
        path = getattr(unit, "path", None)
        if isinstance(path, Path):
            build_dir = Path(os.path.normpath(path.absolute()))
            top = lexical_root(build_dir, unit_root(path, cwd))
            built.update(Path(folder) for folder in Tree.scan(build_dir, top).kustomizations)

    found: dict[str, str] = {}
    for folder, root, names in folders or run_folders(units, cwd):
        for name in sorted(names.intersection(MAKEFILE_NAMES)):
            text = read_makefile(str(folder / name)) or ""  # folder: resolved, in the root
            for number, line in enumerate(text.splitlines(), 1):
                pair = build_output(line) if "kustomize" in line.lower() else None
                if pair is None or Path(os.path.normpath(folder / pair[0])) not in built:
                    continue
                output = Path(os.path.normpath(folder / pair[1]))
                if output.is_relative_to(root):
                    source = display_path(folder / pair[0], cwd).rstrip("/")
                    where = f"{display_path(folder / name, cwd)}:{number}"
                    found.setdefault(display_path(output, cwd), f"built from {source} by {where}")
    return tuple(sorted(found.items()))


def outside_roots(units: Iterable[LintUnit], cwd: Path) -> tuple[str, ...]:
    """The repositories of the inputs shown by an absolute path (outside the working
    directory, or an editor buffer named so): a path's folder context is read below its
    repository, never from the machine's folders above it (``/tmp/test_x/deploy.yaml`` is
    no test input)."""
    found = set()
    for unit in units:
        files = getattr(unit, "files", None)
        for item in files if isinstance(files, tuple) else (unit,):
            shown = getattr(item, "display", "")
            if not shown.startswith("/"):
                continue
            folder = Path(shown).parent
            root = unit_root(folder, cwd).as_posix()
            if root != "/" and shown.startswith(root + "/"):
                found.add(root)
    return tuple(sorted(found))


def _unit_folders(units: Iterable[LintUnit]) -> list[Path]:
    """The folders of the units' inputs (a manifest's folder, a chart's or overlay's own)."""
    folders: dict[str, Path] = {}
    for unit in units:
        paths: Sequence[object] = [getattr(unit, "path", None)]
        files = getattr(unit, "files", None)
        if isinstance(files, tuple):
            paths = [getattr(f, "path", None) for f in files]
        elif (
            isinstance(unit, StdinBuffer) and unit.cwd is not None and unit.display != STDIN_DISPLAY
        ):
            paths = [unit.cwd / unit.display]  # an editor buffer: where its file is
        for path in paths:
            if isinstance(path, Path):
                folder = path if path.is_dir() else path.parent
                folders.setdefault(str(folder), folder)
    return [folders[key] for key in sorted(folders)]


def _readme_declaration(folder: Path, root: Path, cwd: Path, names: frozenset[str]) -> str | None:
    for name in README_NAMES:
        if name not in names:
            continue
        raw = read_inside(folder / name, root, README_MAX_BYTES)
        if raw is None:
            continue
        found = self_declaration(raw[:README_OPENING_BYTES].decode("utf-8", errors="replace"))
        if found is None:
            return None
        return declared_reason(display_path(folder / name, cwd), *found)
    return None

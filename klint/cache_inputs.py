"""What a lint unit reads, found before linting it: the files whose bytes key its cache entry.

Only units whose inputs klint can name exactly are cached: a manifest file or folder (and,
for committed ``helm template`` output, every file of the chart it maps into), an editor
buffer, a Helm chart (every file below it plus the values files given: klint renders from a
copy of the chart folder, dependencies only from its ``charts/``), a Kustomize overlay (the
files its build reads, as :class:`~klint.sources.kustomize.tree.Tree` finds them, the
siblings the confined copy takes, and what is at each place its kustomizations name). A
file skipped as part of another unit reads no file: it is keyed by what it says. Standard
input is known but always linted; for anything else ``unit_inputs`` returns None: it is
always linted, and so is every unit whose suppressions it could touch
(:meth:`klint.result_cache.ResultCache.prepare`).
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from klint.documents import decode
from klint.policy import ChartUnit
from klint.sources.base import LintUnit
from klint.sources.confine import read_limited, unit_root
from klint.sources.manifests import (
    STDIN_DISPLAY,
    ManifestFile,
    ManifestFolder,
    SkippedBuffer,
    StdinBuffer,
)
from klint.sources.scans import once

if TYPE_CHECKING:
    from klint.sources.kustomize.files import Kustomization
    from klint.sources.kustomize.overlay import KustomizeOverlay

MAX_INPUT_FILES = 20_000
MAX_READ_BYTES = 256 * 1024 * 1024
_SIBLING_BYTES = 8 * 1024 * 1024  # what Tree.copy_to takes beside a kustomization


@dataclass(frozen=True)
class UnitInputs:
    """A unit's identity (kind, display, options) and the absolute paths of what it reads."""

    identity: str
    files: tuple[str, ...]
    buffer: bytes | None = None  # an editor buffer's text (read from stdin, not a file)
    # The unit's suppressions can depend on other units through files they share (a
    # directive used by one unit is not "unused" in the next): such units are cached only
    # when no shared file mentions klint; charts are always treated as mentioning it.
    mentions_klint: bool = False
    cacheable: bool = True  # False: always linted, but what it reads is known
    reads_nothing: bool = False  # True: its identity alone decides its results


def unit_inputs(unit: LintUnit, cwd: Path, helm_values: tuple[str, ...]) -> UnitInputs | None:
    """The inputs of ``unit``, or None when it must always be linted."""
    options = ""
    if isinstance(unit, ChartUnit):
        options = repr(unit.options)
        helm_values = (*unit.options.values, *helm_values)
        unit = unit.unit
    kind = type(unit).__name__
    if isinstance(unit, SkippedBuffer):  # says why it is not linted alone: reads no file
        return UnitInputs(f"{kind}|{unit.display}|{unit.reason}", (), reads_nothing=True)
    if isinstance(unit, StdinBuffer):
        if unit.display == STDIN_DISPLAY:
            return UnitInputs(kind, (), unit.data, cacheable=False)  # reads no file
        return UnitInputs(f"{kind}|{unit.display}", (), unit.data)
    if isinstance(unit, (ManifestFile, ManifestFolder)):
        files = [unit] if isinstance(unit, ManifestFile) else list(unit.files)
        manifests = [f for f in files if isinstance(f, ManifestFile)]
        if len(manifests) != len(files):
            return None  # an editor buffer stands in for one of the files
        shown = "|".join(
            f"{f.display}={f.path}={f.cwd}" + ("" if f.only is None else f"={f.only}")
            for f in manifests
        )
        # a file whose objects are picked: the kustomizations that decided which
        paths = [p for f in manifests for p in (str(f.path), *f.decided_by)]
        for manifest in manifests:
            charts = _rendered_charts(manifest)
            if charts is None:
                return None
            for found in charts:
                shown += f"|chart={found}"  # where `# Source:` lines lead (or None)
                chart_files = _chart_files(found) if found is not None else ()
                if chart_files is None:
                    return None
                paths += chart_files
        report_only = sorted(unit.report_only) if isinstance(unit, ManifestFolder) else []
        return UnitInputs(f"{kind}|{shown}|{report_only}", tuple(paths))
    # Charts and overlays: their modules are imported only when a run has one.
    if kind == "HelmChart" and type(unit).__module__ == "klint.sources.helm.chart":
        from klint.sources.helm.chart import HelmChart

        assert isinstance(unit, HelmChart)
        chart = _chart_files(unit.path)
        if chart is None:
            return None
        if unit.path.is_dir():  # the file:// dependencies it vendors from the repository
            from klint.sources.helm.local_deps import local_dependencies

            for dependency in local_dependencies(unit.path, unit_root(unit.path, unit.cwd)):
                shared = _chart_files(dependency.target)
                if shared is None:
                    return None
                chart = (*chart, *shared)
        values = tuple(str(v if Path(v).is_absolute() else cwd / v) for v in helm_values)
        context = unit.context()  # decided by files beside the chart too (index.yaml)
        identity = f"{kind}|{unit.display}|{unit.path}|{unit.cwd}|{options}|{context}"
        return UnitInputs(identity, (*chart, *values), mentions_klint=True)
    if kind == "KustomizeOverlay" and type(unit).__module__ == "klint.sources.kustomize.overlay":
        from klint.sources.kustomize.overlay import KustomizeOverlay

        assert isinstance(unit, KustomizeOverlay)
        identity = f"{kind}|{unit.display}|{unit.path}|{unit.cwd}|{unit.elsewhere}"
        if unit.foreign:  # objects of its files linted from the file (deleted by it)
            identity += f"|{unit.foreign}"
        return _overlay_inputs(unit, identity)
    return None


# Every token after ``Source:``, each occurrence on its own (a token never hides the next).
_SOURCE = re.compile(r"Source:(?=\s*(\S+))")


def _rendered_charts(manifest: ManifestFile) -> list[Path | None] | None:
    """The charts ``helm template`` output in ``manifest`` maps back to (None: not found), as
    its locator finds them; None when the file cannot be read here."""
    if manifest.rendered is None or manifest.cwd is None:
        return []
    try:
        with open(manifest.path, "rb") as handle:
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_READ_BYTES:
                return None
            data = read_limited(handle, info.st_size, MAX_READ_BYTES)
    except OSError:
        return []  # missing: the unit reports it
    names = source_charts(data)
    if not names:
        return []
    from klint.sources.helm.rendered_output import find_chart

    origin, cwd = manifest.path.parent, manifest.cwd
    root = unit_root(origin, cwd)
    return [
        # the rendered files of a folder name the same charts: each found once per run
        once(
            "chart",
            f"{name}\0{origin}\0{cwd}\0{root}",
            partial(find_chart, name, origin, cwd, root),
        )
        for name in names
    ]


def source_charts(data: bytes) -> list[str]:
    """The chart names the ``# Source:`` lines of a file may name, read as the loader reads
    them (its text decoding, every line break ``str.splitlines`` knows, Unicode spaces):
    every token after a ``Source:`` that holds a slash, a superset of the lines the
    locator uses (more charts in a key only re-lint more often)."""
    if b"Source:" not in data and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return []  # not UTF-16 and no ``Source:`` in UTF-8 either
    text, _ = decode(data, "")
    if text is None or "# Source:" not in text:
        return []  # the loader maps nothing back (manifests.load_bytes)
    names = set()
    for match in _SOURCE.finditer(text):
        chart, slash, _ = match.group(1).partition("/")
        if slash and chart:
            names.add(chart)
    return sorted(names)


def _chart_files(path: Path) -> tuple[str, ...] | None:
    """Every file of a chart (or the archive); None when there are too many to key it (the
    files of a chart many rendered files map into are listed once per run)."""
    return once("chart-files", str(path), partial(_list_chart_files, path))


def _list_chart_files(path: Path) -> tuple[str, ...] | None:
    if path.is_file():
        return (str(path),)
    files: list[str] = []
    for directory, _, names in os.walk(path):
        for name in names:
            files.append(os.path.join(directory, name))
            if len(files) > MAX_INPUT_FILES:
                return None
    return tuple(sorted(files))


def _overlay_inputs(unit: KustomizeOverlay, identity: str) -> UnitInputs | None:
    from klint.sources.kustomize.build import lexical_root
    from klint.sources.kustomize.deploy_images import makefile_candidates
    from klint.sources.kustomize.tree import Tree

    # the scan the build makes (and discovery made: shared within a run)
    build_dir = Path(os.path.normpath(unit.path.absolute()))
    top = lexical_root(build_dir, unit_root(unit.path, unit.cwd))
    tree = Tree.scan(build_dir, top)
    wanted = set(tree.files)
    # the Makefiles that may set the build's images at deploy time (deploy_images.py)
    candidates: set[str] = set()
    for directory in tree.kustomizations:  # bases are shared by overlays: once per run
        key = f"{directory}\0{top}"
        candidates.update(
            once("makefile-candidates", key, partial(makefile_candidates, [directory], top))
        )
    makefiles = {m: once("path-kind", m, partial(_what, m)) for m in sorted(candidates)}
    wanted.update(m for m, what in makefiles.items() if what == "file")
    for directory in tree.kustomizations:
        # a base's folder is shared by overlays: listed once per run
        siblings = once("siblings", directory, partial(_siblings, directory))
        if siblings is None:
            return None
        wanted.update(siblings)
    if len(wanted) > MAX_INPUT_FILES:
        return None
    # A refused or remote reference, or a missing resource, fails the build until a file or
    # folder appears where an entry points: what is there is part of the key.
    places = {f"{makefile}>{what}" for makefile, what in makefiles.items()}
    for kustomization in tree.kustomizations.values():
        # bases are shared by overlays: looked at once per run (scans_shared)
        found = once("places", kustomization.directory, partial(_places, kustomization))
        if found is None or len(places) > _MAX_ENTRIES:
            return None
        places.update(found)
    return UnitInputs(f"{identity}|{';'.join(sorted(places))}", tuple(sorted(wanted)))


def _siblings(directory: str) -> frozenset[str] | None:
    """The regular files beside a kustomization that the confined copy takes."""
    wanted: set[str] = set()
    try:
        for entry in os.scandir(directory):
            if entry.is_file() and entry.stat().st_size <= _SIBLING_BYTES:
                wanted.add(os.path.normpath(entry.path))
    except OSError:
        return None
    return frozenset(wanted)


_MAX_ENTRIES = 20_000


def _places(kustomization: Kustomization) -> frozenset[str] | None:
    """What is at every place a kustomization's strings could name (a file, a folder, a
    link and where it leads, or nothing); None when there are too many to look at."""
    from klint.sources.kustomize.files import join_entry

    targets: set[str] = set()
    for text in _strings(kustomization.data):
        if "\n" in text or len(text) > 1024:
            continue  # an inline patch or resource, not a path
        for entry in {text.strip(), text.split("=", 1)[-1].strip()}:
            if entry:
                targets.add(join_entry(kustomization.directory, entry))
        if len(targets) > _MAX_ENTRIES:
            return None
    return frozenset(f"{target}>{_what(target)}" for target in targets)


def _strings(value: object, depth: int = 0) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif depth < 32 and isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(key, depth + 1)
            yield from _strings(item, depth + 1)
    elif depth < 32 and isinstance(value, list):
        for item in value:
            yield from _strings(item, depth + 1)


def _what(path: str) -> str:
    try:
        info = os.lstat(path)
    except (OSError, ValueError):
        return "-"
    if stat.S_ISLNK(info.st_mode):
        try:
            return f"link:{os.readlink(path)}"
        except OSError:
            return "link"
    return "dir" if stat.S_ISDIR(info.st_mode) else "file" if stat.S_ISREG(info.st_mode) else "?"

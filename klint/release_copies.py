"""Release copies that pin what a development copy leaves mutable (found once per run).

Repositories such as the Azure CSI drivers keep the development copy of their install
manifests at ``:latest`` (``deploy/x.yaml``, ``charts/latest/<chart>/``) and one pinned copy
per release beside it: ``deploy/v1.2.0/x.yaml`` (the same path below a folder named as a
version), ``charts/v1.2.0/<chart>/`` or ``charts/v1.2.0/<chart>-v1.2.0.tgz``. For each file
and chart the run lints, the images its release copies pin are read (plain files inside the
repository, never through a link, bounded; a packaged chart's values.yaml with the chart
archive reader) and become ``(copy, image, release copy)`` entries of
:class:`~klint.sources.base.LoadSettings`, whose ``repr`` is part of the result cache's run
key: a release copy that changes what is pinned changes the key
(:mod:`klint.model.release_copy` turns the findings into notes).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import yaml

from klint.checks.images import parse_image
from klint.model.deploy_time import image_name
from klint.model.release_copy import ReleasePin
from klint.sources.base import LintUnit, display_path
from klint.sources.confine import is_inside, read_regular, unit_root

VERSION_FOLDER = re.compile(r"v?\d+\.\d+(?:\.\d+)?")
DEVELOPMENT_CHART_FOLDER = "latest"  # charts/latest/<chart>/ beside charts/<version>/
MAX_LEVELS = 3  # folders above a file where version folders are looked for
MAX_RELEASE_COPIES = 4096  # release copies read per run, at most
RELEASE_COPY_MAX_BYTES = 1024 * 1024
MAX_RELEASE_BYTES = 64 * 1024 * 1024  # bytes of release copies read per run, at most
_MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
_IMAGE_LINE = re.compile(r"""^[ \t]*(?:-[ \t]+)?image:[ \t]*["']?([^\s"'#]+)""", re.MULTILINE)


def release_pins(units: Iterable[LintUnit], cwd: Path) -> tuple[ReleasePin, ...]:
    """``(copy, image, release copy)`` of every image a release copy of a file or chart the
    run lints pins (the newest such copy), sorted."""
    reader = _Reader(cwd)
    pins: set[ReleasePin] = set()
    paths: dict[str, bool] = {}
    for unit in units:
        paths.update(_linted_paths(unit, cwd))
    for path, chart in sorted(paths.items()):
        found = reader.chart(Path(path)) if chart else reader.file(path)
        if found:
            shown = display_path(Path(path), cwd)
            pins.update((shown, image, where) for image, (_, where) in found.items())
    return tuple(sorted(pins))


def _linted_paths(unit: LintUnit, cwd: Path) -> Iterator[tuple[str, bool]]:
    """The manifest files (those an overlay's build reads too) and chart folders of a unit,
    absolute and normalised (``True``: a chart folder)."""
    kind = type(unit).__name__
    path = getattr(unit, "path", None)
    if kind == "HelmChart" and isinstance(path, Path) and path.is_dir():
        yield os.path.abspath(path), True
        return
    found: list[object] = []
    if kind == "KustomizeOverlay" and isinstance(path, Path):
        from klint.sources.kustomize.build import lexical_root
        from klint.sources.kustomize.tree import Tree

        build_dir = Path(os.path.normpath(path.absolute()))
        top = lexical_root(build_dir, unit_root(path, cwd))
        found.extend(Tree.scan(build_dir, top).files)
    else:
        files = getattr(unit, "files", None)
        items = files if isinstance(files, tuple) else (unit,)
        found.extend(getattr(item, "path", None) for item in items)
    for file in found:
        if isinstance(file, str | Path) and str(file).lower().endswith(_MANIFEST_SUFFIXES):
            yield os.path.abspath(file), False


class _Reader:
    """Folder listings and release copies, each read once per run (bounded)."""

    def __init__(self, cwd: Path) -> None:
        self.cwd = cwd
        self.reads = 0
        self.read_bytes = 0
        self.listings: dict[Path, list[str]] = {}
        self.folders: dict[str, tuple[Path, int, bool] | None] = {}

    def file(self, path: str) -> dict[str, tuple[tuple[int, ...], str]]:
        """Image name → (version, release copy) of the newest release copy of ``path``
        (``deploy/<version>/<same path below deploy>``) that pins it."""
        folder, name = os.path.split(path)
        placed = self._placed(folder)
        if placed is None or not placed[2] or VERSION_FOLDER.fullmatch(name):
            return {}  # no version folder near the file's: nothing to read
        root, depth, _ = placed
        lexical = Path(path)
        found: dict[str, tuple[tuple[int, ...], str]] = {}
        for level in range(min(MAX_LEVELS, depth + 1)):  # the file's folder, up to the root
            above = lexical.parents[level]
            rest = lexical.parts[len(lexical.parts) - level - 1 :]
            for version in self._versions(above):
                copy = above.joinpath(version, *rest)
                text = self._read(copy, root)
                if text is not None:
                    self._note(found, _pinned_in_manifest(text), version, copy)
        return found

    def chart(self, chart: Path) -> dict[str, tuple[tuple[int, ...], str]]:
        """Image name (a values ``/repository``) → (version, release copy) of the newest
        release of a ``charts/latest/<chart>`` that pins it: ``charts/<version>/<chart>/``
        values.yaml, else the packaged ``<chart>-<version>.tgz`` beside it."""
        placed = self._placed(str(chart.parent))
        if chart.parent.name != DEVELOPMENT_CHART_FOLDER or placed is None or placed[1] < 1:
            return {}
        root = placed[0]
        found: dict[str, tuple[tuple[int, ...], str]] = {}
        for version in self._versions(chart.parent.parent):
            release = chart.parent.parent / version
            copy = release / chart.name / "values.yaml"
            text = self._read(copy, root)
            if text is None:
                copy, text = self._packaged(release, chart.name, version, root)
            if text is not None:
                self._note(found, _pinned_in_values(text), version, copy)
        return found

    def _placed(self, folder: str) -> tuple[Path, int, bool] | None:
        """The repository root of a folder (absolute, normalised), how many folders below
        the root it is, and whether a version folder is in it or in one of the
        :data:`MAX_LEVELS` above it (inside the root); None outside the root or below a
        version folder (a release copy is no development copy). Once per folder."""
        if folder not in self.folders:
            self.folders[folder] = self._place(Path(folder))
        return self.folders[folder]

    def _place(self, folder: Path) -> tuple[Path, int, bool] | None:
        root = unit_root(folder, self.cwd)
        try:
            parts = folder.resolve().relative_to(root).parts
        except (OSError, ValueError):
            return None
        if any(VERSION_FOLDER.fullmatch(part) for part in parts):
            return None
        levels = min(MAX_LEVELS, len(parts) + 1)
        return (
            root,
            len(parts),
            any(self._versions(folder.parents[n - 1] if n else folder) for n in range(levels)),
        )

    def _note(
        self,
        found: dict[str, tuple[tuple[int, ...], str]],
        images: Iterable[str],
        version: str,
        copy: Path,
    ) -> None:
        key = tuple(int(part) for part in re.findall(r"\d+", version))
        for image in images:
            if image not in found or key > found[image][0]:
                found[image] = (key, display_path(copy, self.cwd))

    def _versions(self, folder: Path) -> list[str]:
        """The version-named real folders (no links) in ``folder``, listed once per run."""
        if folder not in self.listings:
            names: list[str] = []
            try:
                with os.scandir(folder) as entries:
                    for entry in entries:
                        if VERSION_FOLDER.fullmatch(entry.name) and entry.is_dir(
                            follow_symlinks=False
                        ):
                            names.append(entry.name)
            except OSError:
                pass
            self.listings[folder] = sorted(names)
        return self.listings[folder]

    def _read(self, path: Path, root: Path) -> str | None:
        """The text of a regular file inside ``root``, not a link, bounded; None else."""
        if not self._may_read() or not _plain_file(path, root):
            return None
        self.reads += 1
        raw = read_regular(path, RELEASE_COPY_MAX_BYTES, follow_links=False)
        self.read_bytes += len(raw or b"")
        return None if raw is None else raw.decode("utf-8", "replace")

    def _may_read(self) -> bool:
        return self.reads < MAX_RELEASE_COPIES and self.read_bytes < MAX_RELEASE_BYTES

    def _packaged(
        self, release: Path, name: str, version: str, root: Path
    ) -> tuple[Path, str | None]:
        """The values.yaml of ``<name>-<version>.tgz`` (with or without the ``v``)."""
        for tag in dict.fromkeys((version, version.removeprefix("v"))):
            archive = release / f"{name}-{tag}.tgz"
            if self._may_read() and _plain_file(archive, root):
                self.reads += 1
                text = _archived_values(archive, name)
                self.read_bytes += len(text or "")
                return archive, text
        return release, None


def _archived_values(archive: Path, name: str) -> str | None:
    """The ``<name>/values.yaml`` of a chart archive, read as the chart loader reads one
    (at most its member count and unpacked size, the member at most 1 MiB); None else."""
    import tarfile  # imports shutil: only where a packaged chart release is read
    import zlib

    from klint.sources.helm.archive import MAX_ARCHIVE_BYTES, MAX_ARCHIVE_MEMBERS

    wanted, total = f"{name}/values.yaml", 0
    try:
        with tarfile.open(archive, "r:*") as tar:
            for count, member in enumerate(tar):
                total += max(member.size, 0)
                if count >= MAX_ARCHIVE_MEMBERS or total > MAX_ARCHIVE_BYTES:
                    return None
                if member.name.removeprefix("./") != wanted or not member.isfile():
                    continue
                if member.size > RELEASE_COPY_MAX_BYTES:
                    return None
                handle = tar.extractfile(member)
                if handle is None:
                    return None
                with handle:
                    return handle.read(RELEASE_COPY_MAX_BYTES).decode("utf-8", "replace")
    except (tarfile.TarError, OSError, EOFError, zlib.error):
        return None
    return None


def _plain_file(path: Path, root: Path) -> bool:
    """A regular file, not a link, whose real location is inside ``root``."""
    try:
        if not path.is_file() or path.is_symlink():
            return False
    except OSError:
        return False
    return is_inside(path, root)


def _pinned(reference: str) -> bool:
    """A tag other than latest, or a well-formed digest (no template expression)."""
    if "{{" in reference or "$" in reference:
        return False
    ref = parse_image(reference)
    return ref.pinned or (not ref.digest and ref.tag not in ("", "latest"))


def _pinned_in_manifest(text: str) -> set[str]:
    """The names of the images a manifest's ``image:`` lines pin."""
    return {image_name(ref) for ref in _IMAGE_LINE.findall(text) if _pinned(ref)}


def _pinned_in_values(text: str) -> set[str]:
    """The images a chart's values pin: a ``repository`` with a pinned ``tag`` or a
    ``digest`` (as ``/repository``: it names every image ending with it), or a whole
    pinned reference under ``image``."""
    try:
        data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError:
        return set()
    found: set[str] = set()
    stack: list[Any] = [data]
    seen: set[int] = set()  # aliases share nodes: each is walked once
    while stack and len(found) < 1000:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, list):
            stack.extend(node)
        if not isinstance(node, dict):
            continue
        repository, tag = node.get("repository"), node.get("tag")
        if isinstance(repository, str) and repository.strip("/"):
            tag = str(tag) if isinstance(tag, str | int | float) else ""
            digest = node.get("digest")
            reference = f"{repository.strip('/')}:{tag}" if tag else repository.strip("/")
            if isinstance(digest, str) and digest:
                reference = f"{reference}@{digest}"
            if _pinned(reference):
                found.add("/" + image_name(reference))
        image = node.get("image")
        if isinstance(image, str) and _pinned(image.strip()):
            found.add(image_name(image))
        stack.extend(node.values())
    return found

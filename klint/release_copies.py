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
_IMAGE_LINE = re.compile(r"""^[ \t]*(?:-[ \t]+)?image:[ \t]*["']?([^\s"'#]+)""", re.MULTILINE)


def release_pins(units: Iterable[LintUnit], cwd: Path) -> tuple[ReleasePin, ...]:
    """``(copy, image, release copy)`` of every image a release copy of a file or chart the
    run lints pins (the newest such copy), sorted."""
    reader = _Reader(cwd)
    pins: set[ReleasePin] = set()
    paths: dict[Path, bool] = {}
    for unit in units:
        paths.update(_linted_paths(unit, cwd))
    for path, chart in sorted(paths.items()):
        found = reader.chart(path) if chart else reader.file(path)
        shown = display_path(path, cwd)
        pins.update((shown, image, where) for image, (_, where) in found.items())
    return tuple(sorted(pins))


def _linted_paths(unit: LintUnit, cwd: Path) -> Iterator[tuple[Path, bool]]:
    """The manifest files (those an overlay's build reads too) and chart folders of a unit
    (``True``: a chart folder)."""
    kind = type(unit).__name__
    path = getattr(unit, "path", None)
    if kind == "HelmChart" and isinstance(path, Path) and path.is_dir():
        yield path, True
        return
    found: list[object] = []
    if kind == "KustomizeOverlay" and isinstance(path, Path):
        from klint.sources.kustomize.build import lexical_root
        from klint.sources.kustomize.tree import Tree

        build_dir = Path(os.path.normpath(path.absolute()))
        top = lexical_root(build_dir, unit_root(path, cwd))
        found.extend(Path(file) for file in sorted(Tree.scan(build_dir, top).files))
    else:
        files = getattr(unit, "files", None)
        items = files if isinstance(files, tuple) else (unit,)
        found.extend(getattr(item, "path", None) for item in items)
    for file in found:
        if isinstance(file, Path) and file.suffix.lower() in (".yaml", ".yml", ".json"):
            yield file, False


class _Reader:
    """Folder listings and release copies, each read once per run (bounded)."""

    def __init__(self, cwd: Path) -> None:
        self.cwd = cwd
        self.reads = 0
        self.listings: dict[Path, list[str]] = {}

    def file(self, path: Path) -> dict[str, tuple[tuple[int, ...], str]]:
        """Image name → (version, release copy) of the newest release copy of ``path``
        (``deploy/<version>/<same path below deploy>``) that pins it."""
        absolute = Path(os.path.normpath(path.absolute()))
        root = unit_root(absolute.parent, self.cwd)
        if not _development(absolute, root):
            return {}
        found: dict[str, tuple[tuple[int, ...], str]] = {}
        rest = [absolute.name]
        folder = absolute.parent
        for _ in range(MAX_LEVELS):
            for version in self._versions(folder):
                copy = folder.joinpath(version, *rest)
                text = self._read(copy, root)
                if text is not None:
                    self._note(found, _pinned_in_manifest(text), version, copy)
            if folder == root or not folder.is_relative_to(root):
                break
            rest.insert(0, folder.name)
            folder = folder.parent
        return found

    def chart(self, chart: Path) -> dict[str, tuple[tuple[int, ...], str]]:
        """Image name (a values ``/repository``) → (version, release copy) of the newest
        release of a ``charts/latest/<chart>`` that pins it: ``charts/<version>/<chart>/``
        values.yaml, else the packaged ``<chart>-<version>.tgz`` beside it."""
        absolute = Path(os.path.normpath(chart.absolute()))
        root = unit_root(absolute, self.cwd)
        if absolute.parent.name != DEVELOPMENT_CHART_FOLDER or not _development(absolute, root):
            return {}
        found: dict[str, tuple[tuple[int, ...], str]] = {}
        name = absolute.name
        for version in self._versions(absolute.parent.parent):
            release = absolute.parent.parent / version
            copy = release / name / "values.yaml"
            text = self._read(copy, root)
            if text is None:
                copy, text = self._packaged(release, name, version, root)
            if text is not None:
                self._note(found, _pinned_in_values(text), version, copy)
        return found

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
        if self.reads >= MAX_RELEASE_COPIES or not _plain_file(path, root):
            return None
        self.reads += 1
        raw = read_regular(path, RELEASE_COPY_MAX_BYTES, follow_links=False)
        return None if raw is None else raw.decode("utf-8", "replace")

    def _packaged(
        self, release: Path, name: str, version: str, root: Path
    ) -> tuple[Path, str | None]:
        """The values.yaml of ``<name>-<version>.tgz`` (with or without the ``v``)."""
        for tag in dict.fromkeys((version, version.removeprefix("v"))):
            archive = release / f"{name}-{tag}.tgz"
            if self.reads < MAX_RELEASE_COPIES and _plain_file(archive, root):
                from klint.sources.helm.archived import read_member

                self.reads += 1
                return archive, read_member(archive, f"{name}/values.yaml")
        return release, None


def _development(path: Path, root: Path) -> bool:
    """Inside its repository and below no version folder (a release copy is not one)."""
    if not path.is_relative_to(root):
        return False
    return not any(VERSION_FOLDER.fullmatch(part) for part in path.relative_to(root).parts)


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
    while stack and len(found) < 1000:
        node = stack.pop()
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

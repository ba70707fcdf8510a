"""Plain manifest files, folders of them and stdin buffers, read within the size limit.

A buffer that turns out to be ``helm template`` output is handed to the ``rendered`` mapper
the unit was given (``discover`` passes Helm's); without one, findings stay on the buffer.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, replace
from pathlib import Path

from klint.document_trees import release
from klint.documents import Document, decode, parse_stream
from klint.findings import FieldPath, Location, Notification, RelatedLocation, Severity, Span
from klint.model.resource import Resource
from klint.not_kubernetes import NOT_KUBERNETES, PART_OF_UNIT
from klint.sources.base import (
    DocumentLocator,
    LoadedUnit,
    LoadSettings,
    Locator,
    Picked,
    RenderedOutputMapper,
)
from klint.sources.confine import read_limited


@dataclass(frozen=True)
class ManifestFile:
    """A YAML or JSON file of Kubernetes objects (multi-document streams and Lists too)."""

    path: Path
    display: str
    cwd: Path | None = None
    rendered: RenderedOutputMapper | None = None
    # Only these objects are linted (None: all); the others are linted in other units. The
    # files that decided it are part of the unit's cache key.
    only: tuple[Picked, ...] | None = None
    decided_by: tuple[str, ...] = ()

    def load(self, settings: LoadSettings) -> LoadedUnit:
        data, problem = read_file(self.path, self.display, settings.limits.max_file_bytes)
        if problem is not None or data is None:
            return LoadedUnit([], [problem] if problem else [])
        unit = load_bytes(
            data, self.display, settings, self.path.parent, self.cwd, rendered=self.rendered
        )
        return unit if self.only is None else _picked(unit, self.only, self.display)


def _picked(unit: LoadedUnit, only: tuple[Picked, ...], display: str) -> LoadedUnit:
    """The unit with only the ``only`` objects of its file, each with its ``--verbose`` note;
    the file's problems are reported by the units that lint its other objects."""
    kept: list[Document] = []
    notes: list[Notification] = []
    for document in unit.documents:
        picked = next((p for p in only if p.matches(document.data)), None)
        if picked is not None:
            kept.append(document)
            where = Location(display, document.span_of(()))
            notes.append(Notification(PART_OF_UNIT, picked.note, where, Severity.NOTE))
    # its suppression comments outside the picked objects are the builds' to judge
    ranges, first = [], 1
    for start, end in sorted(p.lines for p in only):
        if start > first:
            ranges.append((first, start - 1))
        first = max(first, end + 1)
    ranges.append((first, _LAST_LINE))
    return replace(unit, documents=kept, problems=notes, unjudged={display: tuple(ranges)})


_LAST_LINE = 2**31


STDIN_DISPLAY = "<stdin>"


@dataclass(frozen=True)
class ManifestFolder:
    """The manifest files of one directory, linted together.

    Objects deployed together usually sit in one folder, one object per file; cross-object
    rules (NetworkPolicy coverage, dangling Services, bindings to missing roles) need to see
    them side by side. Each file keeps its own positions and problems.
    """

    files: tuple[ManifestFile | StdinBuffer, ...]  # a buffer stands in for its file
    report_only: frozenset[str] = frozenset()  # displays of the files named (empty: all)

    @property
    def display(self) -> str:
        return self.files[0].display.rpartition("/")[0] or "."

    def input_bytes(self) -> int:
        """The size of the unit's files (how much work it is, before reading them)."""
        total = 0
        for manifest in self.files:
            if isinstance(manifest, ManifestFile):
                try:
                    total += manifest.path.stat().st_size
                except OSError:
                    continue
        return total

    def load(self, settings: LoadSettings) -> LoadedUnit:
        unit = LoadedUnit([], [], files=0, report_only=self.report_only)
        counted: set[str] = set()
        for manifest in self.files:
            loaded = manifest.load(settings)
            unit.documents.extend(loaded.documents)
            unit.problems.extend(loaded.problems)
            unit.unjudged.update(loaded.unjudged)
            if not loaded.documents and not loaded.problems:  # empty: nothing was linted
                where = Location(manifest.display, Span.line(1))
                unit.problems.append(Notification(NOT_KUBERNETES, "empty", where, Severity.NOTE))
            if not self.report_only or manifest.display in self.report_only:
                unit.files += 1
                counted.add(manifest.display)
            if not isinstance(loaded.locator, DocumentLocator):
                # helm template output inside the folder: keep its own mapping
                unit.locator = _MixedLocator.merge(unit.locator, loaded)
        unit.file_paths = frozenset(counted)
        return unit


@dataclass
class _MixedLocator:
    """Per-document locators for a folder that mixes plain manifests and rendered output."""

    by_document: dict[int, Locator]

    @classmethod
    def merge(cls, current: Locator, loaded: LoadedUnit) -> _MixedLocator:
        mixed = current if isinstance(current, _MixedLocator) else cls({})
        for document in loaded.documents:
            mixed.by_document[id(document)] = loaded.locator
        return mixed

    def locate(
        self, resource: Resource, path: FieldPath
    ) -> tuple[Location, tuple[RelatedLocation, ...]]:
        locator = self.by_document.get(id(resource.document), DocumentLocator())
        return locator.locate(resource, path)


@dataclass(frozen=True)
class StdinBuffer:
    """Text read from standard input, reported under ``display`` (``--stdin-filename``)."""

    data: bytes
    display: str
    cwd: Path | None = None
    rendered: RenderedOutputMapper | None = None

    def load(self, settings: LoadSettings) -> LoadedUnit:
        if len(self.data) > settings.limits.max_file_bytes:
            return LoadedUnit([], [too_large(self.display, settings.limits.max_file_bytes)])
        if self.display != STDIN_DISPLAY:
            # An editor buffer (--stdin-filename): findings stay on that buffer.
            return load_bytes(self.data, self.display, settings)
        cwd = self.cwd or Path.cwd()
        return load_bytes(self.data, self.display, settings, cwd, cwd, rendered=self.rendered)


@dataclass(frozen=True)
class SkippedBuffer:
    """An editor buffer that is part of a unit it cannot be linted without.

    A chart template is not YAML until the chart renders it and an overlay's patch is a
    fragment of an object; linted alone they would get errors the chart or overlay run
    never reports. Such a buffer reports nothing (``--verbose`` says why).
    """

    display: str
    reason: str

    def load(self, settings: LoadSettings) -> LoadedUnit:
        where = Location(self.display, Span.line(1))
        note = Notification(PART_OF_UNIT, self.reason, where, Severity.NOTE)
        return LoadedUnit([], [note], files=0)


def load_bytes(
    data: bytes,
    display: str,
    settings: LoadSettings,
    directory: Path | None = None,
    cwd: Path | None = None,
    *,
    rendered: RenderedOutputMapper | None = None,
) -> LoadedUnit:
    """Decode and parse a buffer into a unit.

    ``helm template`` output (documents headed by ``# Source:``) is mapped back to the
    chart's templates by ``rendered`` when the chart is found near ``directory`` or under
    ``cwd``.
    """
    text, problem = decode(data, display)
    if text is None:
        return LoadedUnit([], [problem] if problem else [])
    parsed = parse_stream(text, display, settings.limits)
    unit = LoadedUnit(parsed.documents, parsed.problems)
    if rendered is not None and cwd is not None and "# Source:" in text:
        locator = rendered(parsed.documents, directory or cwd, cwd)
        if locator is not None:
            unit.locator = locator
            return unit
    release(parsed.documents, text)  # plain manifests: each tree composed again when needed
    return unit


def read_file(path: Path, display: str, max_bytes: int) -> tuple[bytes | None, Notification | None]:
    """Read a regular file within the size limit; other file types are refused unread."""
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):
            return None, _file_problem(display, "not-a-file", "not a regular file; skipped")
        if info.st_size > max_bytes:
            return None, too_large(display, max_bytes)
        with open(path, "rb") as handle:
            return read_limited(handle, info.st_size, max_bytes), None
    except OSError as error:
        problem = _file_problem(display, "unreadable", f"cannot read file: {error.strerror}")
        return None, replace(problem, repeatable=False)  # an I/O error: not the file's content


def too_large(display: str, max_bytes: int) -> Notification:
    """The notification for a file over ``--max-file-size``."""
    return _file_problem(
        display,
        "file-too-large",
        f"file is larger than the {max_bytes // (1024 * 1024)} MiB limit "
        "(--max-file-size); skipped",
    )


def _file_problem(display: str, code: str, message: str) -> Notification:
    return Notification(code, message, Location(display, Span.line(1)))

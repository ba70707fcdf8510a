"""The base every source shares: the lint unit and locator protocols, load settings, paths.

Sources (plain manifests, Helm, Kustomize) import only this module, :mod:`names` and
:mod:`confine` from outside their own package; :mod:`discover` sits on top and picks them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from klint.documents import Document, Limits
from klint.findings import FieldPath, Location, Notification, RelatedLocation
from klint.model.component import Expectation
from klint.model.resource import Resource
from klint.sources.budget import default_render_memory
from klint.sources.names import CHART_ARCHIVES


class Locator(Protocol):
    """Turns an object field into the file location a person edits."""

    def locate(
        self, resource: Resource, path: FieldPath
    ) -> tuple[Location, tuple[RelatedLocation, ...]]:
        """Primary location of ``path`` in ``resource``, plus related locations."""
        ...


class DocumentLocator:
    """Plain manifests: the field's own span in the file it was read from."""

    def locate(
        self, resource: Resource, path: FieldPath
    ) -> tuple[Location, tuple[RelatedLocation, ...]]:
        document = resource.document
        return Location(document.path, document.span_of((*resource.base, *path))), ()


class RenderedOutputMapper(Protocol):
    """Maps already-rendered output (``# Source:`` comments) back to the files it came from."""

    def __call__(self, documents: list[Document], origin_dir: Path, cwd: Path) -> Locator | None:
        """A locator for the documents, or None when they are not rendered output."""
        ...


@dataclass
class LoadedUnit:
    """The documents of one unit, the problems met loading it and how to locate fields."""

    documents: list[Document]
    problems: list[Notification] = field(default_factory=list)
    locator: Locator = field(default_factory=DocumentLocator)
    files: int = 1
    # The displays of the files counted in ``files`` where known (None: only the count), so a
    # base that several overlays use is one file of the run, not one per overlay.
    file_paths: frozenset[str] | None = None
    # Paths whose findings and problems are reported (empty: all). Files named one by one
    # are linted with their whole folder, so cross-object rules see what a folder run sees,
    # and only the named files are reported.
    report_only: frozenset[str] = frozenset()
    # The whole unit's context: a copy fixed elsewhere (a chart release a Helm repository
    # publishes: every finding is a note that says why), or a chart its maintainers deprecated
    # (Chart.yaml ``deprecated: true``: findings of rules not tagged never-downgraded).
    context: Expectation | None = None
    # Image names (without tag or digest) the project's build sets at deploy time, each with
    # the Makefile line that does it (``kustomize edit set image``): the tag in git is a
    # placeholder (sources/kustomize/deploy_images.py).
    deploy_images: dict[str, str] = field(default_factory=dict)
    # Values klint made up to render the unit (a chart's ``required`` messages, standing in for
    # values only the installer gives): a finding on a field that holds one is about klint's
    # stand-in, not the input, and is not reported.
    placeholders: frozenset[str] = frozenset()
    # Line ranges of files whose suppression comments this unit does not judge (unused or
    # not): another unit lints the objects written there (a Kustomize build and the objects
    # it deletes, linted from their file).
    unjudged: dict[str, tuple[tuple[int, int], ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class Picked:
    """An object of a file that a unit lints on its own while the file's other objects are
    linted elsewhere (one that every Kustomize build reading the file deletes), and the note
    ``--verbose`` gives about it (``namespace`` None: none given)."""

    kind: str
    name: str
    namespace: str | None
    note: str
    lines: tuple[int, int]  # its document's first and last line in the file

    def matches(self, data: object) -> bool:
        """Whether ``data``, a document's value, is this object."""
        if not isinstance(data, dict) or data.get("kind") != self.kind:
            return False
        metadata = data.get("metadata")
        if not isinstance(metadata, dict) or metadata.get("name") != self.name:
            return False
        return (metadata.get("namespace") or None) == self.namespace


@dataclass(frozen=True)
class LoadSettings:
    """Options that affect loading: YAML limits and rendering options."""

    limits: Limits = field(default_factory=Limits)
    helm_values: tuple[str, ...] = ()
    helm_set: tuple[str, ...] = ()
    helm_set_string: tuple[str, ...] = ()
    release_name: str = "release"
    namespace: str = ""  # Helm's own default (``default``) unless the user chose one
    kube_version: str | None = None
    crd_paths: tuple[str, ...] = ()  # --crd: files/folders of extra CustomResourceDefinitions
    render_timeout: float = 120.0  # seconds one chart render or kustomize build may take
    render_memory_bytes: int = field(default_factory=default_render_memory)
    # display paths of the folders named on the command line: a folder you name is what you
    # mean to lint, so its own name (``examples/``) does not make its files "not deployed";
    # with, from the run, the repositories of inputs outside the working directory
    named_folders: tuple[str, ...] = ()
    # What the whole run decides of a finding's context (klint.run_context): ``(name,
    # folder)`` of the charts it lints (their generated copies are fixed there) and
    # ``(folder, reason)`` of the folders a README declares a demo or test driver.
    linted_charts: tuple[tuple[str, str], ...] = ()
    declared_folders: tuple[tuple[str, str], ...] = ()
    # ``(file, reason)`` of the files a Makefile writes from a kustomize build of an overlay
    # the run lints: copies fixed in that overlay.
    built_copies: tuple[tuple[str, str], ...] = ()
    # ``(copy, image, release copy)`` of the images that release copies of a file or chart
    # the run lints pin (``deploy/v1.2.0/x.yaml`` for ``deploy/x.yaml``): klint.release_copies.
    release_pins: tuple[tuple[str, str, str], ...] = ()


class LintUnit(Protocol):
    """A manifest file, stdin buffer, Helm chart or Kustomize overlay: linted as one."""

    @property
    def display(self) -> str:
        """How the unit is named in messages."""
        ...

    def load(self, settings: LoadSettings) -> LoadedUnit:
        """Read (and render) the unit; never raises for bad input."""
        ...


def named_folders(paths: Sequence[str], cwd: Path) -> tuple[str, ...]:
    """Display paths of the folders among ``paths`` (longest first; ``.`` is no prefix), and
    of the chart archives among them as the folder their members are shown under
    (``op-1.0.tgz!``): what the user names is what they mean to lint."""
    found = set()
    for path in paths:
        if path == "-":
            continue
        try:
            is_folder = (cwd / path).is_dir()
            is_archive = not is_folder and path.endswith(CHART_ARCHIVES) and (cwd / path).is_file()
        except OSError:  # a name too long for the system is no folder
            is_folder = is_archive = False
        shown = display_path(Path(path), cwd) if is_folder or is_archive else ""
        if is_archive:
            shown += "!"
        if shown not in ("", "."):
            found.add(shown.rstrip("/"))
    return tuple(sorted(found, key=lambda f: (-len(f), f)))


def display_path(path: Path, cwd: Path) -> str:
    """The path as shown in reports: relative to the working directory when inside it."""
    absolute = path if path.is_absolute() else cwd / path
    try:
        return absolute.relative_to(cwd).as_posix()
    except ValueError:
        return absolute.as_posix()

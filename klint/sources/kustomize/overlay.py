"""A Kustomize overlay as a lint unit: built offline, findings mapped to origin and patch files.

The build runs on a temporary copy with origin annotations enabled (the user's files are
never modified); each object's fields map to the patch that set them or to the file that
declared them; generated objects map to their generator in the kustomization.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from klint.documents import Document, parse_stream
from klint.findings import FieldPath, Location, Notification, RelatedLocation, Severity, Span
from klint.model.resource import Resource
from klint.not_kubernetes import PART_OF_UNIT
from klint.sources.base import LoadedUnit, LoadSettings, display_path
from klint.sources.confine import unit_root
from klint.sources.kustomize.build import KustomizeBuild, build, lexical_root
from klint.sources.kustomize.build import prepare as prepare_build
from klint.sources.kustomize.deploy_images import deploy_time_images
from klint.sources.kustomize.graft import grafted
from klint.sources.kustomize.locate import locate_span
from klint.sources.kustomize.reach import local_resources
from klint.sources.kustomize.sandbox import KustomizeBuildError
from klint.sources.kustomize.tool import ToolBudget
from klint.sources.kustomize.trace import BuiltObject
from klint.sources.kustomize.tree import Tree
from klint.sources.names import kustomization_file


@dataclass
class OverlayLocator:
    """Maps built fields to the overlay, patch or base file a person edits."""

    cwd: Path
    fallback: str
    objects: dict[int, BuiltObject] = field(default_factory=dict)

    def locate(
        self, resource: Resource, path: FieldPath
    ) -> tuple[Location, tuple[RelatedLocation, ...]]:
        built = self.objects.get(id(resource.document))
        found = locate_span(built, (*resource.base, *path)) if built is not None else None
        if found is None:
            return Location(self.fallback, Span.line(1)), ()
        file, span = found
        return Location(display_path(file, self.cwd), span), ()

    def origin_document(self, resource: Resource) -> Document | None:
        """The document, in the file that declared it, of a built object (None: generated
        or not found): what a person wrote, with its comments."""
        built = self.objects.get(id(resource.document))
        found = built.trace.origin() if built is not None and built.trace is not None else None
        return found[0] if found is not None else None


def repository_relative(message: str, cwd: Path, root: Path) -> str:
    """No path of the machine in a message: paths under the working directory (else under
    the repository root) are shown relative to it."""
    for base in (cwd, root):
        for spelling in {str(base.absolute()), os.path.realpath(base)}:
            message = message.replace(spelling.rstrip("/") + "/", "")
    return message


MAX_READER_BUILDS = 3
"""Other overlays a failed build asks (built again) whether they lint its local files: a
pull request of many failing overlays over one base costs each failure at most this many
builds, all within one build's time, instead of one per reader."""

# Loads files as plain manifests (given by discovery: a source does not import another).
# The last argument: the displays of the files reported (empty: all).
OwnFilesLoader = Callable[[Sequence[Path], LoadSettings, Path, frozenset[str]], LoadedUnit]


@dataclass(frozen=True)
class KustomizeOverlay:
    """A directory with a kustomization file, built with kustomize or kubectl kustomize.

    When the build fails, ``own_files`` (if given) lints the overlay's local resource files
    on their own, so a failure does not hide them, except those in ``elsewhere`` (absolute
    file, the other overlays of the run whose builds read it) that one of those builds
    lints: they are read as context only.
    """

    path: Path
    display: str
    cwd: Path
    own_files: OwnFilesLoader | None = field(default=None, compare=False, repr=False)
    elsewhere: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # Files of the build with objects it deletes that are linted from the file (absolute
    # file, the lines of those objects): the suppression comments there are not judged here.
    foreign: tuple[tuple[str, tuple[tuple[int, int], ...]], ...] = ()

    def prepare(self, settings: LoadSettings) -> Callable[[], None] | None:
        """Start the builds of this overlay and of its shared CRD bases now, in the process
        that forks the workers; the returned wait must be called before the fork (best
        effort: :meth:`load` builds again and reports whatever went wrong)."""
        unit_seconds = settings.limits.unit_timeout  # a build may take what a unit may
        timeout = min(settings.render_timeout, unit_seconds or settings.render_timeout)
        try:
            wait = prepare_build(
                self.path,
                timeout=timeout,
                root=unit_root(self.path, self.cwd),
                budget=_budget(settings),
            )
        except Exception:  # an optimisation only: load() does it again and reports it
            return None
        if wait is None:
            return None

        def settled() -> None:
            try:
                wait()
            except Exception:  # as above
                return

        return settled

    def load(self, settings: LoadSettings) -> LoadedUnit:
        kustomization = kustomization_file(self.path) or self.path / "kustomization.yaml"
        fallback = display_path(kustomization, self.cwd)
        root = unit_root(self.path, self.cwd)
        try:
            built = _build(self.path, settings, root, settings.render_timeout)
        except KustomizeBuildError as error:
            message = repository_relative(error.message, self.cwd, root)
            local = local_resources(self.path, root) if self.own_files is not None else []
            through = self._linted_elsewhere(local, settings, root)
            files = [f for f in local if f not in through]
            notes = [self._through(f, through[f]) for f in local if f in through]
            problem = Notification(
                "kustomize-build",
                f"kustomization {self.display} failed to build: {message}"
                f"{_fallback_text(len(files), len(notes))}",
                Location(fallback, Span.line(1)),
                fatal=True,
                # what other builds do is no input of this unit's key: then never cached
                repeatable=error.repeatable and not self._consulted(local),
            )
            if not files or self.own_files is None:
                # each note's file counts once here: the engine takes skipped files back off
                return LoadedUnit([], [problem, *notes], files=len(notes))
            # all of them are read, so cross-object rules (a CRD's schema for a sample, the
            # bindings of a role) see what they saw before; only the files left here report
            reported = {display_path(f, self.cwd) for f in files} | {fallback} if notes else set()
            own = self.own_files(local, settings, self.cwd, frozenset(reported))
            own.problems[:0] = [problem, *notes]
            return own
        parsed = None
        if built.stub is not None:  # shared CRD schemas, parsed once (graft.py)
            parsed = grafted(
                built.text,
                built.stub,
                built.grafts,
                fallback,
                settings.limits,
                built.lines,
                built.node_bound,
            )
        if parsed is None:
            parsed = parse_stream(built.text, fallback, settings.limits)
        locator = OverlayLocator(self.cwd, fallback)
        for document in parsed.documents:
            document.rendered = True  # the build's output, not the kustomization's lines
            if 0 <= document.index < len(built.objects):
                locator.objects[id(document)] = built.objects[document.index]
        if built.unrestricted:
            parsed.problems.append(_unrestricted_note(self.display, fallback))
        origins = {o.origin_file for o in built.objects if o.origin_file is not None}
        read = origins.union(built.inputs)  # patches and generator inputs are linted too
        shown = frozenset(display_path(file, self.cwd) for file in read) or None
        return LoadedUnit(
            parsed.documents,
            parsed.problems,
            locator,
            files=max(1, len(read)),
            file_paths=shown,
            deploy_images=self._deploy_images(root),
            unjudged={display_path(Path(f), self.cwd): lines for f, lines in self.foreign},
        )

    def _deploy_images(self, root: Path) -> dict[str, str]:
        """The images of this build that a Makefile sets at deploy time (deploy_images.py)."""
        build_dir = Path(os.path.normpath(self.path.absolute()))
        top = lexical_root(build_dir, root)
        tree = Tree.scan(build_dir, top)
        found = ((d, k.data) for d, k in sorted(tree.kustomizations.items()))
        return deploy_time_images(found, top, lambda m: display_path(Path(m), self.cwd))

    def _linted_elsewhere(
        self, files: Sequence[Path], settings: LoadSettings, root: Path
    ) -> dict[Path, Path]:
        """Of ``files``, those that another overlay of the run reads and lints, each with the
        first such overlay that builds (built here again: the answer does not depend on
        which worker ran which unit first)."""
        readers = dict(self.elsewhere)
        works: dict[str, bool] = {}
        found: dict[Path, Path] = {}
        deadline = time.monotonic() + settings.render_timeout  # all of them: one build's time
        for file in files:
            for reader in readers.get(os.path.normpath(file), ()):
                if reader not in works:
                    left = deadline - time.monotonic()
                    if len(works) >= MAX_READER_BUILDS or left <= 0:
                        works[reader] = False  # not asked: the file is linted here
                    else:
                        works[reader] = _builds(Path(reader), settings, root, left)
                if works[reader]:
                    found[file] = Path(reader)
                    break
        return found

    def _consulted(self, files: Sequence[Path]) -> bool:
        """Whether other overlays were built to decide what became of ``files``."""
        readers = dict(self.elsewhere)
        return any(os.path.normpath(f) in readers for f in files)

    def _through(self, file: Path, reader: Path) -> Notification:
        """The ``--verbose`` note for a local file left to another build of the run."""
        return Notification(
            PART_OF_UNIT,
            f"linted through Kustomize overlay {display_path(reader, self.cwd)}, whose build "
            "reads it "
            f"(kustomization {self.display} failed to build)",
            Location(display_path(file, self.cwd), Span.line(1)),
            Severity.NOTE,
        )


def _builds(directory: Path, settings: LoadSettings, root: Path, timeout: float) -> bool:
    """Whether the overlay in ``directory`` builds within ``timeout`` seconds (and this
    unit's other limits)."""
    try:
        _build(directory, settings, root, timeout)
    except KustomizeBuildError:
        return False
    return True


def _build(directory: Path, settings: LoadSettings, root: Path, timeout: float) -> KustomizeBuild:
    """The build of ``directory`` a unit runs: ``timeout`` seconds, the unit's limits."""
    return build(
        directory,
        timeout=timeout,
        root=root,
        budget=_budget(settings),
        max_documents=settings.limits.max_documents,
    )


def _budget(settings: LoadSettings) -> ToolBudget:
    """The memory and output bounds of a unit's kustomize tool."""
    return ToolBudget(settings.render_memory_bytes, settings.limits.max_file_bytes)


def _fallback_text(own: int, through: int) -> str:
    """What became of the local resource files of an overlay that failed to build."""
    text = f"; its local resource files ({own}) were linted as plain manifests" if own else ""
    if through:
        text += (
            f"; {through} other local resource file{'s' if through > 1 else ''} "
            "linted through other builds that read them (-v lists them)"
        )
    return text


def _unrestricted_note(display: str, kustomization: str) -> Notification:
    """Said when the build reads a file outside its folder: kustomize refuses that unless
    run with ``--load-restrictor LoadRestrictionsNone``, as the repository's scripts must."""
    return Notification(
        "kustomize-build",
        f"kustomization {display} reads a file outside its folder, which `kustomize build` "
        "refuses unless run with `--load-restrictor LoadRestrictionsNone`; linted as built "
        "with it (only files of the repository are read)",
        Location(kustomization, Span.line(1)),
        level=Severity.NOTE,
    )

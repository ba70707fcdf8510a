"""Command-line paths → lint units: manifest files, Helm charts, Kustomize overlays, stdin.

A file inside a chart or a kustomization stands for that whole unit (pre-commit passes
single files), and every unit is linted once however many of its files are named.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from klint.documents import Document
from klint.findings import Location, Notification, Span
from klint.model.component import path_context
from klint.sources.base import LintUnit, LoadedUnit, LoadSettings, Locator, Picked, display_path
from klint.sources.confine import is_inside, real_path, unit_root
from klint.sources.manifests import ManifestFile, ManifestFolder, SkippedBuffer, StdinBuffer
from klint.sources.names import (
    CHART_ARCHIVES,
    CHART_FILE,
    KUSTOMIZATION_FILES,
    MANIFEST_SUFFIXES,
    find_chart_root,
    find_kustomization_root,
)

# Re-exported for callers that still import them from here; their home is base / names.
__all__ = [
    "CHART_ARCHIVES",
    "CHART_FILE",
    "FOLDER_UNIT_BYTES",
    "KUSTOMIZATION_FILES",
    "MANIFEST_SUFFIXES",
    "DiscoverOptions",
    "Discovery",
    "discover",
    "display_path",
    "find_chart_root",
    "find_kustomization_root",
    "missing_path_problem",
]
_SKIP_DIRS = frozenset(
    {".git", ".hg", ".svn", "node_modules", ".venv", "venv", "__pycache__", ".klint_cache"}
)


@dataclass
class Discovery:
    """Units to lint and problems with the paths themselves (missing paths are fatal)."""

    units: list[LintUnit] = field(default_factory=list)
    problems: list[Notification] = field(default_factory=list)


@dataclass(frozen=True)
class DiscoverOptions:
    """How paths are walked."""

    exclude: tuple[str, ...] = ()
    follow_symlinks: bool = False
    render_units: bool = True


def discover(
    paths: Sequence[str],
    *,
    cwd: Path,
    stdin: bytes | None = None,
    stdin_filename: str | None = None,
    options: DiscoverOptions | None = None,
) -> Discovery:
    """Resolve paths to units, deduplicated, in a deterministic order."""
    options = options or DiscoverOptions()
    result = Discovery()
    seen: set[tuple[str, str]] = set()

    def add(kind: str, target: Path, unit: LintUnit) -> None:
        key = (kind, str(target.resolve()) if kind != "stdin" else unit.display)
        if key not in seen:
            seen.add(key)
            result.units.append(unit)

    named: dict[Path, list[Path]] = {}  # plain files named one by one, by folder
    for raw in paths:
        if raw == "-":
            display = stdin_filename or "<stdin>"
            part = _part_of_unit(cwd / display, cwd, options) if stdin_filename else None
            buffer: LintUnit = (
                SkippedBuffer(display, part)
                if part
                else StdinBuffer(stdin or b"", display, cwd, _rendered_output)
            )
            if stdin_filename and isinstance(buffer, StdinBuffer):
                buffer = _buffer_with_folder(buffer, cwd / display, cwd, options) or buffer
            add("stdin", Path(display), buffer)
            continue
        path = Path(raw)
        absolute = path if path.is_absolute() else cwd / path
        if not absolute.exists() and not absolute.is_symlink():
            result.problems.append(
                Notification(
                    "path-not-found", f"{raw}: no such file or directory", None, fatal=True
                )
            )
            continue
        if _excluded(display_path(absolute, cwd), options.exclude):
            continue
        escape = _named_link_escape(absolute, cwd)
        if escape is not None:
            result.problems.append(
                Notification(
                    "outside-root",
                    f"{escape}: not read",
                    Location(display_path(absolute, cwd), Span.line(1)),
                )
            )
            continue
        if absolute.is_dir():
            folders: dict[Path, list[Path]] = {}
            overlays: list[Path] = []
            for kind, target in _walk(absolute, options):
                if _excluded(display_path(target, cwd), options.exclude):
                    continue
                if kind == "file":
                    folders.setdefault(target.parent, []).append(target)
                elif kind == "kustomize":
                    overlays.append(target)
                else:
                    add(kind, target, _make_unit(kind, target, cwd))
            picked: dict[str, tuple[tuple[Picked, ...], tuple[str, ...]]] = {}
            if overlays:
                walked = [f for files in folders.values() for f in files]
                covered, picked = _plan_overlays(overlays, cwd, add, walked)
                for folder, files in list(folders.items()):
                    for file in files:
                        reason = covered.get(os.path.normpath(file))
                        if reason:
                            shown = display_path(file, cwd)
                            add("file", file, SkippedBuffer(shown, reason))
                    folders[folder] = [
                        f
                        for f in files
                        if os.path.normpath(f) not in covered or os.path.normpath(f) in picked
                    ]
            for files in folders.values():
                # walked files are no links: their real paths, each folder resolved once
                keys = [("file", real_path(f.absolute())) for f in files]
                fresh = [f for f, key in zip(files, keys, strict=True) if key not in seen]
                seen.update(keys)
                for chunk in _chunks(fresh):
                    members = (_manifest(f, cwd, picked.get(os.path.normpath(f))) for f in chunk)
                    result.units.append(ManifestFolder(tuple(members)))
        else:
            kind, target = _unit_for_file(absolute, options, cwd)
            if kind == "file" and _folder_member(absolute):
                named.setdefault(absolute.parent, []).append(absolute)
            else:
                picked_here = _picked_named(absolute, target, cwd) if kind == "kustomize" else None
                foreign = ((os.path.normpath(absolute), picked_here[1]),) if picked_here else ()
                add(kind, target, _make_unit(kind, target, cwd, foreign=foreign))
                if picked_here is not None:  # the objects its build deletes, from the file
                    add("file", absolute, ManifestFolder((picked_here[0],)))
    for folder, files in named.items():
        result.units.extend(_named_in_folder(folder, files, cwd, options, seen))
    return result


def _buffer_with_folder(
    buffer: StdinBuffer, path: Path, cwd: Path, options: DiscoverOptions
) -> LintUnit | None:
    """An editor buffer linted with the manifests beside its file, the buffer in its place.

    The same unit ``klint check FOLDER`` forms, so cross-object rules answer alike in the
    editor; only the buffer is reported. None when the folder holds nothing else, or more
    than ``EDITOR_FOLDER_BYTES`` to read again after every pause in typing.
    """
    if not path.name.endswith(MANIFEST_SUFFIXES) or not path.parent.is_dir():
        return None
    own = str(path.resolve())
    members = [m for m in _folder_manifests(path.parent, cwd, options) if str(m.resolve()) != own]
    if not members:
        return None
    if sum(_size(m) for m in members) > EDITOR_FOLDER_BYTES:
        return None
    siblings = tuple(_manifest(m, cwd) for m in members)
    return ManifestFolder((*siblings, buffer), frozenset({buffer.display}))


def _folder_manifests(folder: Path, cwd: Path, options: DiscoverOptions) -> list[Path]:
    """The manifests a walk of ``folder`` lints (not its subfolders), sorted."""
    try:
        entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
    except OSError:
        return []
    return [
        Path(entry.path)
        for entry in entries
        if entry.name.endswith(MANIFEST_SUFFIXES)
        and entry.name not in KUSTOMIZATION_FILES
        and not entry.is_symlink()
        and entry.is_file()
        and not _excluded(display_path(Path(entry.path), cwd), options.exclude)
    ]


def _folder_member(path: Path) -> bool:
    """A named manifest that the walk of its folder would also pick up."""
    return path.name.endswith(MANIFEST_SUFFIXES) and not path.is_symlink() and path.is_file()


def _named_in_folder(
    folder: Path, files: list[Path], cwd: Path, options: DiscoverOptions, seen: set[tuple[str, str]]
) -> list[LintUnit]:
    """Files named in one folder: the folder's unit (as a walk cuts it), reporting them only.

    pre-commit passes changed files one by one; linting each alone would make cross-object
    rules (a NetworkPolicy in the next file, a Role beside its binding) answer differently
    from ``klint check FOLDER``.
    """
    wanted = {str(f.resolve()) for f in files} - {key for kind, key in seen if kind == "file"}
    if not wanted:
        return []
    members = [
        m
        for m in _folder_manifests(folder, cwd, DiscoverOptions())
        if (str(m.resolve()) in wanted or not _excluded(display_path(m, cwd), options.exclude))
        and ("file", str(m.resolve())) not in seen
    ]
    units: list[LintUnit] = []
    for chunk in _chunks(members):
        reported = frozenset(display_path(f, cwd) for f in chunk if str(f.resolve()) in wanted)
        if not reported:
            continue
        seen.update(("file", str(f.resolve())) for f in chunk if str(f.resolve()) in wanted)
        manifests = tuple(_manifest(f, cwd) for f in chunk)
        units.append(ManifestFolder(manifests, reported))
    return units


FOLDER_UNIT_BYTES = 2 * 1024 * 1024
EDITOR_FOLDER_BYTES = 512 * 1024  # siblings read again with each editor lint (tens of ms)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _chunks(files: list[Path]) -> Iterable[list[Path]]:
    """A folder's files in groups of at most ``FOLDER_UNIT_BYTES`` (at least one file each).

    Objects of one folder are linted together so cross-object rules see each other; a
    huge folder is cut so that memory stays bounded by the unit, not by the scan.
    """
    chunk: list[Path] = []
    size = 0
    for path in files:
        try:
            length = path.stat().st_size
        except OSError:
            length = 0
        if chunk and size + length > FOLDER_UNIT_BYTES:
            yield chunk
            chunk, size = [], 0
        chunk.append(path)
        size += length
    if chunk:
        yield chunk


def _excluded(display: str, patterns: Iterable[str]) -> bool:
    return any(
        fnmatch.fnmatch(display, pattern) or fnmatch.fnmatch(display, pattern.rstrip("/") + "/*")
        for pattern in patterns
    )


def _unit_for_file(path: Path, options: DiscoverOptions, cwd: Path) -> tuple[str, Path]:
    """A named file: its enclosing chart or kustomization, else the file itself."""
    if options.render_units and path.name.endswith(CHART_ARCHIVES):
        return "chart", path
    if options.render_units:
        chart = find_chart_root(path.parent)
        if chart is not None:
            return "chart", chart
        if find_kustomization_root(path.parent) is not None:
            from klint.sources.confine import repository_root
            from klint.sources.kustomize.reach import (
                is_component,
                is_kustomization_file,
                owning_overlay,
            )

            if is_kustomization_file(path) and is_component(path.parent):
                shown = display_path(path.parent, cwd)
                return f"skip:Kustomize Component {shown}: linted with the overlays using it", path
            if is_kustomization_file(path):
                return "kustomize", path.parent
            owner = owning_overlay(path, repository_root(cwd), cwd)
            if isinstance(owner, Path):
                return "kustomize", owner
            if isinstance(owner, str):
                return "skip:" + owner, path
        patched = _overlay_patching(path, cwd)
        if patched is not None:
            return "kustomize", patched
    return "file", path


def _overlay_patching(path: Path, cwd: Path) -> Path | None:
    """The overlay (in the repository) that applies ``path`` as a patch, if any."""
    if find_kustomization_root(Path(os.path.abspath(path)).parent) is None:
        return None  # no kustomization above the file: nothing to read (or import)
    from klint.sources.confine import repository_root
    from klint.sources.kustomize.files import overlay_patching

    return overlay_patching(path, repository_root(cwd))


def _part_of_unit(path: Path, cwd: Path, options: DiscoverOptions) -> str | None:
    """Why an editor buffer cannot be linted alone: a chart template or an overlay patch."""
    if not options.render_units:
        return None
    chart = find_chart_root(path.parent)
    if chart is not None and (
        "templates" in path.relative_to(chart).parts or path.name.endswith(".tpl")
    ):
        return (
            f"a template of Helm chart {display_path(chart, cwd)}: linted with its chart "
            f"(klint check {display_path(chart, cwd)})"
        )
    overlay = _overlay_patching(path, cwd)
    if overlay is not None:
        return (
            f"a patch of Kustomize overlay {display_path(overlay, cwd)}: linted with its "
            f"overlay (klint check {display_path(overlay, cwd)})"
        )
    return None


def _picked_named(
    path: Path, overlay: Path, cwd: Path
) -> tuple[ManifestFile, tuple[tuple[int, int], ...]] | None:
    """A named file linted through ``overlay``: the objects of it that the build deletes (a
    unit of their own) and their lines; None when it deletes none."""
    from klint.sources.confine import repository_root
    from klint.sources.kustomize.reach import picked_in

    if not path.name.endswith(MANIFEST_SUFFIXES) or path.name in KUSTOMIZATION_FILES:
        return None
    found = picked_in(path, overlay, repository_root(cwd), cwd)
    if found is None:
        return None
    return _manifest(path, cwd, found), tuple(p.lines for p in found[0])


def _plan_overlays(
    overlays: list[Path], cwd: Path, add: Callable[[str, Path, LintUnit], None], files: list[Path]
) -> tuple[dict[str, str], dict[str, tuple[tuple[Picked, ...], tuple[str, ...]]]]:
    """Add the overlays of a walk to build; the files their builds cover (reason "") or that
    are skipped (the reason), by normalised absolute path; and the files with objects every
    build reading them deletes (linted from the file: the objects, what decided it)."""
    from klint.sources.kustomize.reach import is_kustomization_file, plan_reach

    absolute = [Path(os.path.normpath(o.absolute())) for o in overlays]
    walked = [Path(os.path.normpath(f.absolute())) for f in files]
    plan = plan_reach(absolute, unit_root(absolute[0], cwd), cwd, walked)
    for overlay in plan.overlays:
        through = tuple(sorted(plan.elsewhere.get(os.path.normpath(overlay), {}).items()))
        foreign = plan.foreign.get(os.path.normpath(overlay), ())
        add("kustomize", overlay, _make_unit("kustomize", overlay, cwd, through, foreign))
    covered = dict.fromkeys(plan.reached, "")
    covered.update(plan.skipped)
    for overlay in absolute:
        for name in KUSTOMIZATION_FILES:
            if is_kustomization_file(overlay / name):
                covered[os.path.normpath(overlay / name)] = ""
    return covered, plan.picked


def _walk(root: Path, options: DiscoverOptions) -> Iterable[tuple[str, Path]]:
    """Units under a directory, sorted; charts are not descended into."""
    if options.render_units and (root / CHART_FILE).is_file():
        yield "chart", root
        return
    if options.render_units and any((root / name).is_file() for name in KUSTOMIZATION_FILES):
        yield "kustomize", root  # and its folder is walked on: files no build reads count
    try:
        entries = sorted(os.scandir(root), key=lambda entry: entry.name)
    except OSError:
        return
    for entry in entries:
        if entry.name in _SKIP_DIRS:
            continue
        if entry.is_symlink() and not options.follow_symlinks:
            continue
        if entry.is_dir(follow_symlinks=options.follow_symlinks):
            yield from _walk(Path(entry.path), options)
        elif entry.is_file(follow_symlinks=options.follow_symlinks):
            if entry.name.endswith(MANIFEST_SUFFIXES):
                yield "file", Path(entry.path)
            elif options.render_units and entry.name.endswith(CHART_ARCHIVES):
                yield _archive(Path(entry.path))


def _archive(path: Path) -> tuple[str, Path]:
    """A ``.tgz`` met in a walk: a chart, or skipped when it holds none (test data, an empty
    placeholder); one named on the command line is always rendered, and says why it fails."""
    from klint.sources.helm.archive import is_chart_archive

    if is_chart_archive(path):
        return "chart", path
    return "skip:not a Helm chart archive (no Chart.yaml in it)", path


def _make_unit(
    kind: str,
    target: Path,
    cwd: Path,
    elsewhere: tuple[tuple[str, tuple[str, ...]], ...] = (),
    foreign: tuple[tuple[str, tuple[tuple[int, int], ...]], ...] = (),
) -> LintUnit:
    display = display_path(target, cwd)
    if kind.startswith("skip:"):
        return SkippedBuffer(display, kind.removeprefix("skip:"))
    if kind == "chart":
        from klint.sources.helm.chart import HelmChart

        return HelmChart(target, display, cwd)
    if kind == "kustomize":
        from klint.sources.kustomize.overlay import KustomizeOverlay

        return KustomizeOverlay(target, display, cwd, _own_files, elsewhere, foreign)
    return _manifest(target, cwd)


def _own_files(
    files: Sequence[Path], settings: LoadSettings, cwd: Path, report_only: frozenset[str]
) -> LoadedUnit:
    """The resource files of an overlay that failed to build, linted on their own (only
    those in ``report_only`` reported, unless it is empty)."""
    return ManifestFolder(tuple(_manifest(f, cwd) for f in files), report_only).load(settings)


def _manifest(
    path: Path, cwd: Path, picked: tuple[tuple[Picked, ...], tuple[str, ...]] | None = None
) -> ManifestFile:
    """A plain manifest file of the walk, with Helm's mapping for committed output (only
    the ``picked`` objects, when given, with the files that decided them)."""
    if picked is not None:
        return ManifestFile(path, display_path(path, cwd), cwd, _rendered_output, *picked)
    return ManifestFile(path, display_path(path, cwd), cwd, _rendered_output)


def _rendered_output(documents: list[Document], origin_dir: Path, cwd: Path) -> Locator | None:
    """Helm's mapping for committed ``helm template`` output (loaded only when met); none
    for a copy fixed elsewhere (test data, a release copy, a vendored file): it may be the
    output of an older chart, so it is reported on its own lines, not on today's templates."""
    context = path_context(documents[0].path) if documents else None
    if context is not None and context.fixed_elsewhere:
        return None
    from klint.sources.helm.rendered_output import rendered_output_locator

    return rendered_output_locator(documents, origin_dir, cwd)


def missing_path_problem(raw: str) -> Notification:
    """The fatal notification for a path that does not exist."""
    return Notification(
        "path-not-found",
        f"{raw}: no such file or directory",
        Location(raw, Span.line(1)),
        fatal=True,
    )


def _named_link_escape(path: Path, cwd: Path) -> str | None:
    """Why a path named on the command line is not read: a link out of its repository.

    pre-commit and CI pass the names a pull request chose; ``x.yaml -> /etc/shadow`` must
    not be read (nor its contents echoed in a syntax error).
    """
    root = unit_root(Path(os.path.abspath(path)).parent, cwd)
    if is_inside(path, root):
        return None
    return "a symbolic link that leads outside the repository"  # no machine path in output

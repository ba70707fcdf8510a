"""Confinement: every path klint reads, copies or writes stays inside its root.

A pull request controls every file klint reads, so a symlink or a ``../`` in a config value
must never lead outside the repository (or the chart / overlay being linted). Each source
passes a path through :func:`confine` before touching it; a refusal is an input problem
(:class:`OutsideRoot`) naming the file and the reason, never the target's contents.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from klint.errors import KlintError


class OutsideRoot(KlintError):
    """A path (or a symlink on it) that resolves outside the allowed root."""

    def __init__(self, path: Path | str, root: Path, reason: str) -> None:
        self.path = str(path)
        self.root = root
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


def repository_root(start: Path) -> Path:
    """The git root at or above ``start`` (a file or folder), else the folder itself.

    Found along the path as written: the links on it decide nothing, so a file (or a folder)
    linked out of a checkout belongs to the checkout that holds the link, and
    :func:`confine` then refuses it. The root returned is resolved.
    """
    start = Path(os.path.abspath(start))
    directory = start if start.is_dir() and not start.is_symlink() else start.parent
    found = _git_root(directory)
    return found if found is not None else directory.resolve()


def _git_root(directory: Path) -> Path | None:
    """The resolved git root at or above ``directory`` (None: none). Within
    :func:`real_paths_remembered`, each folder on the way is looked at once: a run's units
    share their ancestors."""
    known: dict[Path, Path | None] = _git_roots if _git_roots is not None else {}
    passed: list[Path] = []
    current = directory
    while current not in known:
        passed.append(current)
        if (current / ".git").exists():
            known[current] = current.resolve()
            break
        if current.parent == current:
            known[current] = None
            break
        current = current.parent
    for folder in passed:
        known[folder] = known[current]
    return known[current]


def unit_root(unit: Path, cwd: Path | None = None) -> Path:
    """The root a lint unit (chart, overlay) must stay in: its repository.

    That is the git root at or above ``unit``; outside a git checkout, the working directory
    when the unit lies inside it (and it is not the file system root), else the unit's own
    folder. Strings inside the unit never widen it. Within :func:`real_paths_remembered`,
    found once per unit and working directory.
    """
    if _roots is None:
        return _unit_root(unit, cwd)
    key = (str(unit), str(cwd))
    if key not in _roots:
        _roots[key] = _unit_root(unit, cwd)
    return _roots[key]


def _unit_root(unit: Path, cwd: Path | None) -> Path:
    start = unit.resolve()
    folder = start if start.is_dir() else start.parent
    found = repository_root(folder)
    if (found / ".git").exists():
        return found
    if cwd is not None:
        here = cwd.resolve()
        if here.parent != here and folder.is_relative_to(here):
            return here
    return folder


# Within real_paths_remembered(): path → real path, (unit, cwd) → unit_root, and a folder →
# the git root at or above it.
_known: dict[str, str] | None = None
_roots: dict[tuple[str, str], Path] | None = None
_git_roots: dict[Path, Path | None] | None = None


@contextlib.contextmanager
def real_paths_remembered() -> Iterator[None]:
    """Within the block, :func:`real_path` finds each folder's real path once,
    :func:`unit_root` each unit's root once and :func:`repository_root` looks at each folder
    once (the repository does not change under one run's discovery and cache keying)."""
    global _known, _roots, _git_roots
    outer = _known, _roots, _git_roots
    _known = {} if outer[0] is None else outer[0]
    _roots = {} if outer[1] is None else outer[1]
    _git_roots = {} if outer[2] is None else outer[2]
    try:
        yield
    finally:
        _known, _roots, _git_roots = outer


def real_path(path: str | Path) -> str:
    """``os.path.realpath(path)``. Within :func:`real_paths_remembered`, an absolute
    normalised path is resolved from its folder's remembered real path: one ``lstat`` of its
    last component, and ``realpath`` in full only when that is a link (what ``realpath``
    does for each component, in the same order)."""
    name = os.fspath(path)
    known = _known
    if known is None or not os.path.isabs(name) or os.path.normpath(name) != name:
        return os.path.realpath(name)
    found = known.get(name)
    if found is not None:
        return found
    below: list[tuple[str, str]] = []  # (path, its last component), deepest first
    here = name
    while here not in known:
        parent, leaf = os.path.split(here)
        if not leaf or parent == here:  # the file system root ("/", "//")
            known[here] = os.path.realpath(here)
            break
        below.append((here, leaf))
        here = parent
    real = known[here]
    for here, leaf in reversed(below):
        joined = os.path.join(real, leaf)
        real = os.path.realpath(joined) if os.path.islink(joined) else joined
        known[here] = real
    return real


def is_inside(path: Path | str, root: Path | str) -> bool:
    """Whether ``path``'s real location (all symlinks followed) lies within ``root``."""
    try:
        real = real_path(path)
        top = real_path(root)
    except (OSError, ValueError):
        return False
    return real == top or real.startswith(top if top.endswith("/") else top + "/")


def confine(path: Path, root: Path) -> Path:
    """``path`` resolved, or :class:`OutsideRoot` when it or a link on it leaves ``root``.

    Relative paths are taken from ``root``. The returned path is the real one, so a caller
    that opens it cannot be redirected by a symlink swapped in between (within one run).
    """
    candidate = path if path.is_absolute() else root / path
    if "\x00" in str(candidate):
        raise OutsideRoot(path, root, "the path contains a NUL byte")
    if not is_inside(candidate, root):
        how = "is a symbolic link that leads" if _has_link(candidate, root) else "lies"
        raise OutsideRoot(path, root, f"{how} outside {_shown(root)}; klint reads only there")
    return Path(real_path(candidate))


def walk_confined(root: Path) -> Iterator[tuple[Path, OutsideRoot | None]]:
    """Every file below ``root`` (sorted), with the refusal for links that leave it.

    Symlinked folders are not descended into; a link to a file inside ``root`` is yielded
    with ``None``, one that leaves it with its :class:`OutsideRoot`.
    """
    for directory, folders, files in os.walk(root, followlinks=False):
        folders.sort()
        here = Path(directory)
        for name in [*sorted(files), *(f for f in folders if (here / f).is_symlink())]:
            entry = here / name
            if entry.is_symlink() and not is_inside(entry, root):
                yield entry, OutsideRoot(entry, root, "is a symbolic link that leads outside")
            elif entry.is_file() or not entry.is_symlink():
                yield entry, None
        folders[:] = [f for f in folders if not (here / f).is_symlink()]


def read_inside(path: Path, root: Path | None, max_bytes: int = 32 * 1024 * 1024) -> bytes | None:
    """The bytes of a regular file that lies inside ``root`` (None: no root check) and is at
    most ``max_bytes`` long; None for anything else (outside, a link out, a FIFO or device,
    too large, unreadable). For reads whose failure only costs a location."""
    if root is not None and not is_inside(path, root):
        return None
    return read_regular(path, max_bytes)


def read_regular(
    path: str | Path,
    max_bytes: int,
    *,
    follow_links: bool = True,
    accept: Callable[[os.stat_result], bool] | None = None,
) -> bytes | None:
    """The bytes of a regular file of at most ``max_bytes`` that ``accept`` (given its
    ``fstat``) takes; None for anything else: unreadable, a FIFO or device (opening one never
    waits for a writer), too large, or a link when ``follow_links`` is false."""
    # O_NONBLOCK: opening a FIFO must not wait for a writer
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)
    if not follow_links:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    try:
        descriptor = os.open(path, flags)
    except OSError:
        return None
    with os.fdopen(descriptor, "rb") as handle:
        try:
            info = os.fstat(descriptor)
            if not stat.S_ISREG(info.st_mode) or info.st_size > max_bytes:
                return None
            if accept is not None and not accept(info):
                return None
            return read_limited(handle, info.st_size, max_bytes)
        except OSError:
            return None


def read_limited(handle: BinaryIO, size: int, max_bytes: int) -> bytes:
    """What ``handle.read(max_bytes + 1)`` gives (one byte past the limit says the file is
    over it), asking first for the ``size`` the file had: a read of ``n`` bytes allocates
    ``n`` bytes before it reads, which for a 32 MiB limit costs more than a small file."""
    data = handle.read(min(size, max_bytes) + 1)
    if len(data) <= size or len(data) > max_bytes:
        return data  # the whole file, or already over the limit
    return data + handle.read(max_bytes + 1 - len(data))  # it grew since it was measured


class TreeTooLarge(KlintError):
    """A tree to copy holds more files or bytes than :class:`CopyLimits` allow."""


@dataclass(frozen=True)
class CopyLimits:
    """Bounds on a confined copy: per file, in total, and how many files."""

    max_file_bytes: int = 32 * 1024 * 1024
    max_total_bytes: int = 128 * 1024 * 1024
    max_files: int = 10_000


_VCS_FOLDERS = frozenset({".git", ".hg", ".svn"})


def copy_confined(
    source: Path, destination: Path, root: Path, limits: CopyLimits | None = None
) -> list[OutsideRoot]:
    """Copy the tree at ``source`` to ``destination`` with no links and no special files.

    A link whose target stays inside ``root`` is copied as what it points at (a folder is
    descended unless it is one of its own ancestors); a link that leaves ``root`` is left out
    and returned as a refusal; devices, sockets and FIFOs are left out; VCS folders are
    skipped. A tool that then reads ``destination`` cannot be led outside ``root``.
    Raises :class:`TreeTooLarge` when ``limits`` are exceeded.
    """
    import shutil  # only where a tree is copied (Kustomize, Helm), not for a plain file

    limits = limits or CopyLimits()
    refused: list[OutsideRoot] = []
    totals = [0, 0]  # files, bytes

    def copy_folder(folder: Path, target: Path, ancestors: frozenset[str]) -> None:
        target.mkdir(parents=True, exist_ok=True)
        try:
            entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
        except OSError:
            return
        for entry in entries:
            path = Path(entry.path)
            if entry.is_symlink() and not is_inside(path, root):
                reason = (
                    f"is a symbolic link that leads outside {_shown(root)}; klint reads only there"
                )
                refused.append(OutsideRoot(path, root, reason))
                continue
            try:
                info = os.stat(path)
            except OSError:
                continue  # a dangling link: nothing to copy
            if stat.S_ISDIR(info.st_mode):
                real = os.path.realpath(path)
                if entry.name not in _VCS_FOLDERS and real not in ancestors:
                    copy_folder(path, target / entry.name, ancestors | {real})
            elif stat.S_ISREG(info.st_mode):
                totals[0] += 1
                totals[1] += info.st_size
                if info.st_size > limits.max_file_bytes:
                    raise TreeTooLarge(
                        f"{path}: larger than the {limits.max_file_bytes // 2**20} MiB limit"
                    )
                if totals[0] > limits.max_files or totals[1] > limits.max_total_bytes:
                    raise TreeTooLarge(
                        f"{source}: more than {limits.max_files} files or "
                        f"{limits.max_total_bytes // 2**20} MiB"
                    )
                shutil.copyfile(path, target / entry.name)

    copy_folder(source, destination, frozenset({os.path.realpath(source)}))
    return refused


def _has_link(candidate: Path, root: Path) -> bool:
    """Whether any component of ``candidate`` below ``root`` is a symbolic link."""
    current = candidate
    while True:
        if current.is_symlink():
            return True
        if current.parent == current or current == root:
            return False
        current = current.parent


def _shown(root: Path) -> str:
    """The root as named in messages: relative to the working directory, never the
    machine's absolute path (messages reach reports and CI logs)."""
    try:
        relative = os.path.relpath(root, os.getcwd())
    except (OSError, ValueError):  # no working directory, another drive
        return "the root"
    if relative == ".":
        return "the root (the working directory)"
    return f"the root {Path(relative).as_posix()}"

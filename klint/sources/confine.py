"""Confinement: every path klint reads, copies or writes stays inside its root.

A pull request controls every file klint reads, so a symlink or a ``../`` in a config value
must never lead outside the repository (or the chart / overlay being linted). Each source
passes a path through :func:`confine` before touching it; a refusal is an input problem
(:class:`OutsideRoot`) naming the file and the reason, never the target's contents.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from klint.errors import KlintError


class OutsideRoot(KlintError):
    """A path (or a symlink on it) that resolves outside the allowed root."""

    def __init__(self, path: Path | str, root: Path, reason: str) -> None:
        self.path = str(path)
        self.root = root
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


def repository_root(start: Path) -> Path:
    """The git root at or above ``start`` (a file or folder), else the folder itself."""
    start = start.resolve()
    directory = start if start.is_dir() else start.parent
    for candidate in (directory, *directory.parents):
        if (candidate / ".git").exists():
            return candidate
    return directory


def unit_root(unit: Path, cwd: Path | None = None) -> Path:
    """The root a lint unit (chart, overlay) must stay in: its repository.

    That is the git root at or above ``unit``; outside a git checkout, the working directory
    when the unit lies inside it (and it is not the file system root), else the unit's own
    folder. Strings inside the unit never widen it.
    """
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


def is_inside(path: Path, root: Path) -> bool:
    """Whether ``path``'s real location (all symlinks followed) lies within ``root``."""
    try:
        real = Path(os.path.realpath(path))
    except (OSError, ValueError):
        return False
    return real.is_relative_to(Path(os.path.realpath(root)))


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
    return Path(os.path.realpath(candidate))


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
    """The root as named in messages."""
    return f"the root {root.as_posix()}"

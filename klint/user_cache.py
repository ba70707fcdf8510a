"""klint's per-user cache folder (``$XDG_CACHE_HOME/klint``, else ``~/.cache/klint``) and the
one way its files are read and written.

The catalogue index, the schema copies, the ``dataclasses`` code table, the kustomize
version of each tool binary and the result cache's key live there, outside any
repository. A file there is trusted only when klint
wrote it for this user: a regular file (never through a link), owned by the user and
readable by no one else (0600; a checked-out or copied file is not). A folder that is not
absolute (no home directory: it would be relative to the folder being linted) is no cache.

Files keyed by what they were made from (``catalog-<digest>.marshal``) are replaced, not
updated, when that changes (a new klint, an edited rule file): writing one removes all but
the newest :data:`KEEP` of its family (the name before ``-<digest>``), so the folder stays
small over upgrades while a few klint versions used side by side keep theirs.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Callable

from klint.sources.confine import read_regular

PRIVATE_MODE = 0o600
KEEP = 3  # files of one family kept (the newest)
_KEYED = re.compile(r"(.+)-[0-9a-f]{7,64}\.(?:marshal|pickle)")


def user_cache_folder() -> str | None:
    """The absolute cache folder, or None where none can be trusted."""
    if not hasattr(os, "getuid"):  # ownership cannot be checked
        return None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    if not os.path.isabs(base):
        return None
    return os.path.join(base, "klint")


def cache_file(name: str) -> str | None:
    """The path of ``name`` in the cache folder (None: no cache)."""
    folder = user_cache_folder()
    return None if folder is None else os.path.join(folder, name)


def read_private(path: str | None, max_bytes: int = 256 * 1024 * 1024) -> bytes | None:
    """The bytes of a cache file klint wrote for this user, else None."""
    if path is None:
        return None
    return read_regular(path, max_bytes, follow_links=False, accept=is_private)


def write_private(path: str | None, make: Callable[[], bytes]) -> None:
    """Write what ``make`` returns to a cache file atomically (0600, never through a link);
    failures (a value ``make`` cannot encode: ValueError) are ignored."""
    if path is None:
        return
    temporary = f"{path}.{os.getpid()}.tmp"
    try:
        data = make()
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
        with os.fdopen(os.open(temporary, flags, PRIVATE_MODE), "wb") as out:
            out.write(data)
        os.replace(temporary, path)
    except (OSError, ValueError):
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        return
    with contextlib.suppress(OSError):
        _prune(path)


def _prune(path: str) -> None:
    """Remove all but the newest :data:`KEEP` files of ``path``'s family (``path`` stays)."""
    own = _KEYED.fullmatch(os.path.basename(path))
    if own is None:
        return
    folder = os.path.dirname(path)
    family: list[tuple[int, str]] = []
    with os.scandir(folder) as entries:
        for entry in entries:
            match = _KEYED.fullmatch(entry.name)
            if match is None or match.group(1) != own.group(1) or entry.path == path:
                continue
            if entry.is_file(follow_symlinks=False):
                family.append((entry.stat(follow_symlinks=False).st_mtime_ns, entry.path))
    for _, stale in sorted(family, reverse=True)[KEEP - 1 :]:
        with contextlib.suppress(OSError):
            os.unlink(stale)


def is_private(info: os.stat_result) -> bool:
    """Owned by this user and readable by no one else."""
    return info.st_uid == os.getuid() and not info.st_mode & 0o077

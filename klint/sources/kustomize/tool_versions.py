"""The kustomize version of a tool binary, kept in the user cache while the binary is the same.

Asking ``kubectl version`` starts the whole kubectl binary (~50 ms, before any build can
start). The answer depends only on the binary, so it is kept per binary (its real path,
size, modification time and inode) in the per-user cache (:mod:`klint.user_cache`: a file
only klint writes for this user, never one from a repository); a binary replaced or
upgraded in place is asked again.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable

from klint.user_cache import cache_file, read_private, write_private

Version = tuple[int, int, int]

CACHE_NAME = "tool-versions.json"
_KEPT = 16  # binaries remembered (the newest)


def remembered_version(
    executable: str, kind: str, ask: Callable[[str], Version | None]
) -> Version | None:
    """``ask(executable)``, or what it answered before for this very binary."""
    try:
        real = os.path.realpath(executable)
        stat = os.stat(real)
    except OSError:
        return ask(executable)
    key = f"{kind}|{real}|{stat.st_size}|{stat.st_mtime_ns}|{stat.st_ino}"
    path = cache_file(CACHE_NAME)
    known = _read(path)
    entry = known.get(key)
    if isinstance(entry, list) and len(entry) == 3 and all(type(n) is int for n in entry):
        return entry[0], entry[1], entry[2]
    version = ask(executable)
    if version is not None:
        kept = dict(list(known.items())[-(_KEPT - 1) :])
        kept.pop(key, None)
        kept[key] = list(version)
        write_private(path, lambda: json.dumps(kept, sort_keys=False).encode())
    return version


def _read(path: str | None) -> dict[str, object]:
    raw = read_private(path, 64 * 1024)
    try:
        known = json.loads(raw) if raw else {}
    except ValueError:
        return {}
    return known if isinstance(known, dict) else {}

"""A repository's Makefiles, read as untrusted text: what its build does to kustomizations
(images set at deploy time: deploy_images.py; builds committed to files:
committed_builds.py). Never run; a regular file only (never through a link), bounded."""

from __future__ import annotations

import os
import stat

from klint.sources.confine import read_limited

MAKEFILE_NAMES = ("GNUmakefile", "makefile", "Makefile")
MAX_MAKEFILE_BYTES = 1024 * 1024


def read_makefile(path: str) -> str | None:
    """A Makefile's text: a regular file (not a link), within the size bound; else None."""
    try:
        info = os.lstat(path)
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_MAKEFILE_BYTES:
            return None
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        with os.fdopen(fd, "rb") as handle:
            data = read_limited(handle, info.st_size, MAX_MAKEFILE_BYTES)
    except OSError:
        return None
    if len(data) > MAX_MAKEFILE_BYTES:
        return None
    return data.decode("utf-8", errors="replace")

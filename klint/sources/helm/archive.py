"""Unpacking a packaged chart (``.tgz``) safely: no links, no escaping names, bounded size."""

from __future__ import annotations

import shutil
import tarfile
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

from klint.sources.helm.chart_files import (
    is_chart_dir,
)
from klint.sources.helm.output import (
    HelmRenderError,
)

MAX_ARCHIVE_BYTES = 64 * 1024 * 1024  # what a packed chart may unpack to
MAX_ARCHIVE_MEMBERS = 10_000


def extract_chart_archive(archive: Path, destination: Path) -> Path:
    """Unpack regular files of a chart archive safely; returns the chart directory.

    Absolute names, ``..`` components, links and special files are refused or skipped, and
    the unpacked size and member count are bounded.
    """
    total = 0
    try:
        with tarfile.open(archive, "r:*") as tar:
            for count, member in enumerate(tar):
                if count >= MAX_ARCHIVE_MEMBERS:
                    raise HelmRenderError(
                        f"{archive}: more than {MAX_ARCHIVE_MEMBERS} entries", values_can_fix=False
                    )
                parts = PurePosixPath(member.name.replace("\\", "/")).parts
                if not parts and member.isdir():
                    continue  # "./", as `tar -C dir .` writes it
                if not parts or member.name.startswith("/") or ".." in parts:
                    raise HelmRenderError(
                        f"{archive}: unsafe path in archive: {member.name!r}", values_can_fix=False
                    )
                if not member.isfile():
                    continue  # directories are implied; links and devices are never followed
                total += member.size
                if total > MAX_ARCHIVE_BYTES:
                    raise HelmRenderError(
                        f"{archive}: unpacks to more than 64 MiB", values_can_fix=False
                    )
                target = destination.joinpath(*parts)
                if not target.resolve().is_relative_to(destination.resolve()):
                    raise HelmRenderError(
                        f"{archive}: unsafe path in archive: {member.name!r}", values_can_fix=False
                    )
                handle = tar.extractfile(member)
                if handle is None:
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                with handle, target.open("wb") as out:
                    shutil.copyfileobj(handle, out)
    except (tarfile.TarError, OSError, EOFError) as error:
        raise HelmRenderError(
            f"{archive}: not a readable chart archive: {error}", values_can_fix=False
        ) from error
    if is_chart_dir(destination):
        return destination
    roots = [d for d in _children(destination) if is_chart_dir(d)]
    if len(roots) != 1:
        raise HelmRenderError(
            f"{archive}: expected one chart directory in the archive", values_can_fix=False
        )
    return roots[0]


def is_chart_archive(archive: Path) -> bool:
    """Whether a ``.tgz`` found in a tree may be a packaged chart: a tar archive with a
    ``Chart.yaml`` at its top or one folder down (test data, empty placeholders and other
    tarballs are not). Reads member names only, at most as many as an unpack would."""
    try:
        with tarfile.open(archive, "r:*") as tar:
            for count, member in enumerate(tar):
                if count >= MAX_ARCHIVE_MEMBERS:
                    return True  # the render says what is wrong with it
                parts = PurePosixPath(member.name.replace("\\", "/")).parts
                if parts and parts[-1] == "Chart.yaml" and len(parts) <= 2:
                    return True
    except (tarfile.TarError, OSError, EOFError):
        return False
    return False


def _children(directory: Path) -> Iterable[Path]:
    return sorted(p for p in directory.iterdir() if p.is_dir())

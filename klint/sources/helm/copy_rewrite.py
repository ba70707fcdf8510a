"""Rewriting klint's copy of a chart before Helm reads it, in one bounded walk.

The copy's values schemas are confined (schemas.py) and its templates made repeatable
(repeatable.py). Both reach every chart of the copy: the chart, its unpacked subcharts
(``charts/<dir>``, recursively) and its packed ones (``charts/*.tgz``, nested ones too).
A packed subchart is read within the bounds klint unpacks a chart with and repacked when a
member changed; one that is too large, too deep or unreadable refuses the chart.
"""

from __future__ import annotations

import io
import os
import tarfile
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from klint.sources.helm.archive import MAX_ARCHIVE_BYTES, MAX_ARCHIVE_MEMBERS
from klint.sources.helm.output import HelmRenderError

_MAX_NESTING = 8
_ARCHIVES = (".tgz", ".tar.gz")


@dataclass(frozen=True)
class FileRewrite:
    """Which files of a chart to rewrite (``wants`` their path relative to their own chart,
    ``templates/x.yaml``) and how (``rewrite`` their bytes, shown as a path in messages;
    None when unchanged)."""

    wants: Callable[[tuple[str, ...]], bool]
    rewrite: Callable[[bytes, str], bytes | None]


def rewrite_chart_copy(chart_dir: Path, rewrites: Sequence[FileRewrite]) -> None:
    """Apply ``rewrites`` (the first that wants a file) to every chart of the copy
    ``chart_dir`` in place; a rewrite may raise :class:`HelmRenderError` to refuse it."""
    for directory in _chart_dirs(chart_dir):
        for path in _own_files(directory):
            parts = path.relative_to(directory).parts
            if parts[:1] == ("charts",):
                if len(parts) == 2 and path.name.endswith(_ARCHIVES):
                    shown = os.path.relpath(path, chart_dir)
                    repacked = _repack(path.read_bytes(), shown, rewrites, 0)
                    if repacked is not None:
                        path.write_bytes(repacked)
                continue
            rewrite = next((r for r in rewrites if r.wants(parts)), None)
            if rewrite is not None:
                new = rewrite.rewrite(path.read_bytes(), os.path.relpath(path, chart_dir))
                if new is not None:
                    path.write_bytes(new)


def _chart_dirs(chart_dir: Path) -> Iterator[Path]:
    """The chart and its unpacked subcharts (``charts/<dir>``, recursively)."""
    yield chart_dir
    charts = chart_dir / "charts"
    if charts.is_dir() and not charts.is_symlink():
        for entry in sorted(charts.iterdir()):
            if entry.is_dir() and not entry.is_symlink():
                yield from _chart_dirs(entry)


def _own_files(directory: Path) -> Iterator[Path]:
    """The regular files of one chart folder, its ``charts/`` folder's own files included
    but not its subcharts' (no links: the copy holds none, and none is written through)."""
    for folder, folders, files in os.walk(directory):
        here = Path(folder)
        folders.sort()
        if here.name == "charts" and here.parent == directory:
            folders.clear()  # unpacked subcharts: charts of their own
        for name in sorted(files):
            path = here / name
            if path.is_file() and not path.is_symlink():
                yield path


def _repack(data: bytes, shown: str, rewrites: Sequence[FileRewrite], depth: int) -> bytes | None:
    """A packed chart with its wanted members (and nested packed charts) rewritten; None
    when nothing changes."""
    if depth > _MAX_NESTING:
        raise HelmRenderError(f"{shown}: packed subcharts nested more than {_MAX_NESTING} deep")
    members: list[tuple[tarfile.TarInfo, bytes | None]] = []
    changed = False
    total = 0
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as tar:
            for member in tar:
                total += max(member.size, 0) + 512
                if len(members) >= MAX_ARCHIVE_MEMBERS or total > MAX_ARCHIVE_BYTES:
                    raise HelmRenderError(
                        f"{shown}: unpacks to more than {MAX_ARCHIVE_MEMBERS} entries or 64 MiB"
                    )
                content = None
                if member.isfile():
                    handle = tar.extractfile(member)
                    content = handle.read() if handle is not None else b""
                    new = _rewrite_member(member.name, content, shown, rewrites, depth)
                    if new is not None:
                        content, changed = new, True
                members.append((member, content))
    except (tarfile.TarError, OSError, EOFError, zlib.error):
        raise HelmRenderError(f"{shown}: not a chart archive klint can check") from None
    if not changed:
        return None
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        for member, content in members:
            if content is None:
                tar.addfile(member)
            else:
                member.size = len(content)
                tar.addfile(member, io.BytesIO(content))
    return out.getvalue()


def _rewrite_member(
    name: str, content: bytes, shown: str, rewrites: Sequence[FileRewrite], depth: int
) -> bytes | None:
    """A member of a packed chart rewritten, with its path relative to its own chart: the
    archive's top folder and each ``charts/<name>/`` level are charts, as in Helm."""
    parts = _in_own_chart(PurePosixPath(name.replace("\\", "/")).parts)
    here = f"{shown}: {name}"
    if len(parts) == 2 and parts[0] == "charts" and parts[1].endswith(_ARCHIVES):
        return _repack(content, here, rewrites, depth + 1)
    rewrite = next((r for r in rewrites if parts and r.wants(parts)), None)
    return rewrite.rewrite(content, here) if rewrite is not None else None


def _in_own_chart(parts: tuple[str, ...]) -> tuple[str, ...]:
    """``top/charts/sub/templates/x.yaml`` → ``templates/x.yaml`` (in chart ``sub``)."""
    start = 1
    while start + 2 < len(parts) and parts[start] == "charts":
        start += 2
    return parts[start:]

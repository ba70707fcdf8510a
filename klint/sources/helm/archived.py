"""Templates of subcharts vendored as archives (``charts/dep-1.2.3.tgz``), and of packaged
charts: where they are.

``helm dependency build`` leaves dependencies packed; their templates have no file on disk.
A finding in one is reported at ``<chart>/charts/dep-1.2.3.tgz!/dep/templates/x.yaml`` (the
archive, ``!/``, the member's path inside it, as ``tar tzf`` lists it) on the template line,
and its values line is looked up in the dependency's own values.yaml in the archive, then
under the dependency's key (``dep.x``) in the parent's values files.
"""

from __future__ import annotations

import tarfile
import zlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path, PurePosixPath

from klint.findings import ARCHIVE_MEMBER
from klint.sources.helm.archive import MAX_ARCHIVE_BYTES
from klint.sources.helm.chart_files import read_yaml_mapping

ARCHIVE_SEPARATOR = ARCHIVE_MEMBER
_MAX_MEMBER_BYTES = 5 * 1024 * 1024  # Helm's own limit per chart file


@dataclass(frozen=True)
class ArchivedTemplate:
    """A template inside a subchart archive: its text, how it is shown, its values key."""

    archive: Path
    member: str
    text: str
    values_prefix: str
    values: tuple[tuple[str, str], ...] = ()
    """The subchart's own values.yaml in the archive: (member path, text), when it has one."""


def archived_template(chart_dir: Path, source: str) -> ArchivedTemplate | None:
    """The archived template behind a rendered ``source`` (``web/charts/dep/templates/x``)
    of the top chart ``chart_dir``; None when it is not in a direct subchart's archive."""
    parts = PurePosixPath(source).parts
    if len(parts) < 4 or parts[1] != "charts":
        return None
    shown, rest = parts[2], "/".join(parts[3:])
    archive = _archives(chart_dir).get(shown)
    if archive is None:
        return None
    path, top = archive
    member = f"{top}/{rest}"
    text = read_member(path, member)
    if text is None:
        return None
    values = read_member(path, f"{top}/values.yaml")
    own = ((f"{top}/values.yaml", values),) if values is not None else ()
    return ArchivedTemplate(path, member, text, shown, own)


def packaged_template(archive: Path, source: str, values_prefix: str) -> ArchivedTemplate | None:
    """The template behind a rendered ``source`` (``web/templates/x.yaml``) of a chart that
    is itself packaged (``klint check web-1.0.tgz``, or a Helm repository's archives)."""
    named = _chart_name(archive)
    if named is None:
        return None
    member = "/".join((named[0], *PurePosixPath(source).parts[1:]))
    text = read_member(archive, member)
    return None if text is None else ArchivedTemplate(archive, member, text, values_prefix)


def _archives(chart_dir: Path) -> dict[str, tuple[Path, str]]:
    """Dependency name or alias → (archive, its top folder) for ``charts/*.tgz``."""
    aliases: dict[str, list[str]] = {}
    metadata = read_yaml_mapping(chart_dir / "Chart.yaml")
    entries = metadata.get("dependencies")
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, dict) and entry.get("alias") and entry.get("name"):
            aliases.setdefault(str(entry["name"]), []).append(str(entry["alias"]))
    found: dict[str, tuple[Path, str]] = {}
    folder = chart_dir / "charts"
    if not folder.is_dir():
        return found
    for path in sorted(folder.iterdir()):
        if path.is_symlink() or not path.is_file() or not path.name.endswith((".tgz", ".tar.gz")):
            continue
        named = _chart_name(path)
        if named is None:
            continue
        top, name = named
        for key in (name, *aliases.get(name, ())):
            found.setdefault(key, (path, top))
    return found


def archive_chart(archive: Path) -> tuple[str, str] | None:
    """(top folder, chart name) of a chart archive; None when it holds no named chart."""
    return _chart_name(archive)


def crd_members(archive: Path, top: str) -> list[tuple[str, int]]:
    """The regular files under ``<top>/crds/`` of a chart archive that Helm installs as CRDs
    (``.yaml``, ``.yml``, ``.json``), with their sizes, in archive order."""
    found: list[tuple[str, int]] = []
    try:
        with tarfile.open(archive, "r:*") as tar:
            for member in tar:
                parts = PurePosixPath(member.name).parts
                if (
                    len(parts) > 2
                    and parts[:2] == (top, "crds")
                    and member.isfile()
                    and is_manifest_name(member.name)
                ):
                    found.append((member.name, member.size))
    except (tarfile.TarError, OSError, EOFError, zlib.error):
        return found
    return found


def is_manifest_name(name: str) -> bool:
    """Whether Helm reads a ``crds/`` file of this name (``hasManifestExtension``)."""
    return name.lower().endswith((".yaml", ".yml", ".json"))


def _chart_name(archive: Path) -> tuple[str, str] | None:
    """(top folder, chart name) of a chart archive (read once per archive and version: it is
    asked for every template a chart renders)."""
    try:
        stat = archive.stat()
    except OSError:
        return None
    return _chart_name_of(str(archive), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=256)
def _chart_name_of(archive: str, _mtime: int, _size: int) -> tuple[str, str] | None:
    text = _read_first(Path(archive), "Chart.yaml")
    if text is None:
        return None
    import yaml

    try:
        data = yaml.safe_load(text[1])
    except yaml.YAMLError:
        return None
    name = data.get("name") if isinstance(data, dict) else None
    return (text[0], str(name)) if name else None


def _read_first(archive: Path, name: str) -> tuple[str, str] | None:
    """The first ``<top>/<name>`` member of the archive: (top, text)."""
    try:
        with tarfile.open(archive, "r:*") as tar:
            for member in tar:
                parts = PurePosixPath(member.name).parts
                if len(parts) == 2 and parts[1] == name and member.isfile():
                    return parts[0], _extract(tar, member) or ""
    except (tarfile.TarError, OSError, EOFError, zlib.error):
        return None
    return None


def read_member(archive: Path, name: str) -> str | None:
    """The text of one member of a chart archive (read once per archive, bounded), or None."""
    return archive_members(archive).get(name)


def archive_members(archive: Path) -> dict[str, str]:
    """The text of every template-sized member of a chart archive, by name (read once)."""
    try:
        stat = archive.stat()
    except OSError:
        return {}
    return _members(str(archive), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=8)
def _members(archive: str, _mtime: int, _size: int) -> dict[str, str]:
    """Every template-sized regular member of an archive, read once (64 MiB at most)."""
    texts: dict[str, str] = {}
    total = 0
    try:
        with tarfile.open(archive, "r:*") as tar:
            for member in tar:
                if not member.isfile() or member.size > _MAX_MEMBER_BYTES:
                    continue
                total += member.size
                if total > MAX_ARCHIVE_BYTES:
                    break
                text = _extract(tar, member)
                if text is not None:
                    texts[member.name] = text
    except (tarfile.TarError, OSError, EOFError, zlib.error):
        return texts
    return texts


def _extract(tar: tarfile.TarFile, member: tarfile.TarInfo) -> str | None:
    if member.size > _MAX_MEMBER_BYTES:
        return None
    handle = tar.extractfile(member)
    if handle is None:
        return None
    with handle:
        return handle.read(_MAX_MEMBER_BYTES).decode("utf-8", "replace")

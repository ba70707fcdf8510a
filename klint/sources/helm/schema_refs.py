"""Values schemas that reference remote documents: the chart renders without them, and each
such schema is a warning on its first remote reference (schemas.py leaves it out of the
copy Helm reads; nothing is fetched)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from klint.findings import Location, Notification, Severity, Span
from klint.sources.base import display_path
from klint.sources.confine import read_inside
from klint.sources.helm.archived import ARCHIVE_SEPARATOR, archive_members
from klint.sources.helm.schemas import SCHEMA_FILE, RemoteReference, remote_reference

_ARCHIVES = (".tgz", ".tar.gz")
_MAX_SCHEMA_BYTES = 4 * 1024 * 1024


def schema_warnings(chart: Path, display: str, cwd: Path, root: Path) -> list[Notification]:
    """A warning for each values schema of ``chart`` (its own, its subcharts' folders and
    archives) that was not applied because it references a document outside its file."""
    found: list[Notification] = []
    for shown, text in _schemas(chart, cwd, root):
        reference = remote_reference(text.encode("utf-8"))
        if reference is not None:
            found.append(_warning(display, shown, text, reference))
    return found


def _schemas(chart: Path, cwd: Path, root: Path) -> Iterator[tuple[str, str]]:
    """(display, text) of every values schema of the chart and its subcharts, in order."""
    if chart.is_file():
        yield from _archived(chart, cwd)
        return
    data = read_inside(chart / SCHEMA_FILE, root, _MAX_SCHEMA_BYTES)
    if data is not None:
        yield display_path(chart / SCHEMA_FILE, cwd), data.decode("utf-8", "replace")
    charts = chart / "charts"
    if not charts.is_dir() or charts.is_symlink():
        return
    for entry in sorted(charts.iterdir()):
        if entry.is_symlink():
            continue
        if entry.is_dir():
            yield from _schemas(entry, cwd, root)
        elif entry.name.endswith(_ARCHIVES) and entry.is_file():
            yield from _archived(entry, cwd)


def _archived(archive: Path, cwd: Path) -> Iterator[tuple[str, str]]:
    shown = display_path(archive, cwd)
    for name, text in sorted(archive_members(archive).items()):
        if name.rsplit("/", 1)[-1] == SCHEMA_FILE:
            yield f"{shown}{ARCHIVE_SEPARATOR}{name}", text


def _warning(display: str, shown: str, text: str, reference: RemoteReference) -> Notification:
    return Notification(
        "helm-schema",
        f"chart {display}: its values are not validated against {SCHEMA_FILE}: "
        f"{reference.describe()}, a document outside the schema that klint never fetches "
        "(Helm would); the chart is rendered and linted without the schema",
        Location(shown, Span.line(_line(text, reference))),
        level=Severity.WARNING,
    )


def _line(text: str, reference: RemoteReference) -> int:
    """The line of the reference's key and target (1 when the file spells it otherwise)."""
    key, value = json.dumps(reference.key), json.dumps(reference.value)[1:-1]
    lines = text.splitlines()
    for wanted in ((key, value), (value,)):
        for number, line in enumerate(lines, 1):
            if all(part in line for part in wanted):
                return number
    return 1

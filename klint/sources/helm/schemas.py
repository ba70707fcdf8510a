"""Values schemas that cannot reach out: references are checked in the chart's copy before Helm.

Helm validates values against each chart's ``values.schema.json`` with a JSON Schema
library that loads ``$ref`` and ``$schema`` targets: ``http://…`` is fetched, ``file:///…``,
absolute and ``../`` paths are read, and what they hold can come back in the error. So
before Helm runs, every schema of the chart and of its subcharts (directories and packed
``charts/*.tgz``, nested ones too) in klint's copy is checked:

- a ``$ref``, ``$dynamicRef`` or ``$recursiveRef`` that is not ``#…`` (within the file)
  refuses the chart, naming the file and the key; the target is never read;
- a ``$schema`` that is not a JSON Schema metaschema, and an ``$id`` that is not ``#…``,
  are removed from the copy (they only name the draft and the base of references; the
  library bundles the metaschemas).

This holds whether or not the render child has a network namespace.
"""

from __future__ import annotations

import io
import json
import os
import re
import tarfile
import zlib
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any

from klint.sources.helm.output import HelmRenderError

SCHEMA_FILE = "values.schema.json"
_REFERENCES = ("$ref", "$dynamicRef", "$recursiveRef")
_METASCHEMA = re.compile(
    r"https?://json-schema\.org/(?:draft-0[3467]/schema|draft/20(?:19-09|20-12)/schema)#?"
)
_MAX_NESTING = 8
_MAX_MEMBERS = 10_000
_MAX_UNPACKED = 64 * 1024 * 1024  # as klint unpacks a packaged chart (archive.py)
_SHOWN = 80


class _Refused(Exception):
    def __init__(self, key: str, pointer: str, value: str) -> None:
        super().__init__(key)
        self.key, self.pointer, self.value = key, pointer, value


def confine_schemas(chart_dir: Path) -> None:
    """Check and rewrite every values schema in the chart copy ``chart_dir``; a reference
    that would be loaded from elsewhere raises :class:`HelmRenderError` (file and key)."""
    for directory in _chart_dirs(chart_dir):
        schema = directory / SCHEMA_FILE
        if schema.is_file() and not schema.is_symlink():
            shown = os.path.relpath(schema, chart_dir)
            rewritten = _rewrite(schema.read_bytes(), shown)
            if rewritten is not None:
                schema.write_bytes(rewritten)
        charts = directory / "charts"
        if charts.is_dir():
            for archive in sorted(charts.iterdir()):
                if archive.is_file() and archive.name.endswith((".tgz", ".tar.gz")):
                    shown = os.path.relpath(archive, chart_dir)
                    repacked = _rewrite_archive(archive.read_bytes(), shown, 0)
                    if repacked is not None:
                        archive.write_bytes(repacked)


def _chart_dirs(chart_dir: Path) -> Iterator[Path]:
    """The chart and its unpacked subcharts (``charts/<dir>``, recursively)."""
    yield chart_dir
    charts = chart_dir / "charts"
    if charts.is_dir() and not charts.is_symlink():
        for entry in sorted(charts.iterdir()):
            if entry.is_dir() and not entry.is_symlink():
                yield from _chart_dirs(entry)


def _rewrite(data: bytes, shown: str) -> bytes | None:
    """The schema without ``$schema``/``$id`` that lead elsewhere (None: unchanged)."""
    try:  # Go reads invalid UTF-8 as U+FFFD: so does this, or a stray byte would hide a $ref
        document = json.loads(data.decode("utf-8", "replace"), object_pairs_hook=_Pairs)
    except (ValueError, RecursionError) as error:
        detail = error.msg if isinstance(error, json.JSONDecodeError) else "nested too deeply"
        raise HelmRenderError(f"{shown}: not JSON klint can check ({detail})") from None
    try:
        changed, cleaned = _clean(document, "")
    except _Refused as refused:
        value = refused.value if len(refused.value) <= _SHOWN else refused.value[:_SHOWN] + "…"
        raise HelmRenderError(
            f"{shown}: {json.dumps(refused.key)} at {refused.pointer or '/'} refers to "
            f"{value!r} outside the schema; klint never fetches or reads schema references "
            '(only "#…" references within the file are allowed)'
        ) from None
    except RecursionError:
        raise HelmRenderError(f"{shown}: the values schema is nested too deeply") from None
    return json.dumps(cleaned).encode() if changed else None


class _Pairs(list[tuple[str, Any]]):
    """A JSON object as all of its pairs: a duplicated key is checked in every copy."""


def _clean(node: Any, pointer: str) -> tuple[bool, Any]:
    if isinstance(node, list) and not isinstance(node, _Pairs):
        changed = False
        items = []
        for index, item in enumerate(node):
            item_changed, item = _clean(item, f"{pointer}/{index}")
            changed |= item_changed
            items.append(item)
        return changed, items
    if not isinstance(node, _Pairs):
        return False, node  # a scalar
    changed = False
    cleaned: dict[str, Any] = {}
    for key, value in node:
        here = f"{pointer}/{key.replace('~', '~0').replace('/', '~1')}"
        if key in _REFERENCES and isinstance(value, str) and not value.startswith("#"):
            raise _Refused(key, pointer, value)
        if key == "$schema" and isinstance(value, str) and not _METASCHEMA.fullmatch(value):
            changed = True
            continue
        if key == "$id" and isinstance(value, str) and not value.startswith("#"):
            changed = True
            continue
        value_changed, cleaned[key] = _clean(value, here)
        changed |= value_changed
    return changed or len(cleaned) != len(node), cleaned


def _rewrite_archive(data: bytes, shown: str, depth: int) -> bytes | None:
    """A packed chart with its schemas (and nested packed charts) rewritten; None when
    nothing changes."""
    if depth > _MAX_NESTING:
        raise HelmRenderError(f"{shown}: packed subcharts nested more than {_MAX_NESTING} deep")
    members: list[tuple[tarfile.TarInfo, bytes | None]] = []
    changed = False
    total = 0
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as tar:
            for member in tar:
                total += max(member.size, 0) + 512
                if len(members) >= _MAX_MEMBERS or total > _MAX_UNPACKED:
                    raise HelmRenderError(
                        f"{shown}: unpacks to more than {_MAX_MEMBERS} entries or 64 MiB"
                    )
                content = None
                if member.isfile():
                    handle = tar.extractfile(member)
                    content = handle.read() if handle is not None else b""
                    new = _rewrite_member(member.name, content, f"{shown}: {member.name}", depth)
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


def _rewrite_member(name: str, content: bytes, shown: str, depth: int) -> bytes | None:
    """A member of a packed chart rewritten when it is a chart's schema or a packed
    subchart; the chart's own root and ``charts/<name>/`` levels count, as in Helm."""
    parts = PurePosixPath(name.replace("\\", "/")).parts
    chart_level = len(parts) >= 2 and all(p == "charts" for p in parts[1:-1:2])
    if parts and parts[-1] == SCHEMA_FILE and len(parts) % 2 == 0 and chart_level:
        return _rewrite(content, shown)
    if (
        len(parts) >= 3
        and parts[-2] == "charts"
        and parts[-1].endswith((".tgz", ".tar.gz"))
        and all(p == "charts" for p in parts[1:-1:2])
    ):
        return _rewrite_archive(content, shown, depth + 1)
    return None

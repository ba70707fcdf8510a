"""Field of a built object → the file and span a person edits (last edit wins, else origin)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from klint.findings import Span
from klint.sources.confine import read_inside
from klint.sources.kustomize.edits import Query
from klint.sources.kustomize.files import (
    Kustomization,
    as_strings,
    join_entry,
)
from klint.sources.kustomize.patches import (
    Hit,
)
from klint.sources.kustomize.paths import (
    existing_depth,
    translate_path,
    value_at,
)
from klint.sources.kustomize.trace import BuiltObject, Trace


def locate(obj: BuiltObject, field_path: Sequence[str | int]) -> tuple[Path, int, int] | None:
    """The file, 1-based line and column a person edits to change ``field_path`` of ``obj``.

    The last patch (or ``images:``/``namespace:``... entry) that set the field wins; else
    the field in the declaring file (its nearest existing ancestor when it is missing); for
    generated objects the generator entry. None when nothing can be found.
    """
    found = locate_span(obj, field_path)
    if found is None:
        return None
    path, span = found
    return path, span.start_line, span.start_column


def locate_span(obj: BuiltObject, field_path: Sequence[str | int]) -> tuple[Path, Span] | None:
    """Like :func:`locate`, with the whole span of the node."""
    trace = obj.trace
    if trace is None:
        return None
    try:
        return _locate(obj, trace, tuple(field_path))
    except Exception:  # locating is best effort; callers fall back
        return None


def _locate(obj: BuiltObject, trace: Trace, path: tuple[str | int, ...]) -> Hit | None:
    """See :func:`locate_span`."""
    depth = existing_depth(obj.data, path)
    value = value_at(obj.data, path[:depth])
    atomic = not isinstance(value, dict) and not (
        isinstance(value, list) and any(isinstance(item, dict) for item in value)
    )
    origin = trace.origin()
    declared: Any = None
    origin_has = False
    translated: list[str | int] = []
    if origin is not None:
        declared = value_at(origin[0].data, origin[1])
        translated, origin_has = translate_path(obj.data, declared, path[:depth])
    declared_value = value_at(declared, translated) if origin_has and depth == len(path) else None
    query = Query(obj.data, path, depth, atomic, declared, origin_has, declared_value)
    for edit in reversed(trace.edits):
        hit = edit.claim(query)
        if hit is not None:
            return hit
    if trace.generator is not None:
        return _generator_location(trace.generator, path)
    if origin is not None:
        return Path(origin[0].path), origin[0].span_of((*origin[1], *translated))
    return None


def _generator_location(
    generator: tuple[Kustomization, str, int], path: tuple[str | int, ...]
) -> Hit | None:
    """The generator entry, or the literal/file line that produced a ``data`` key."""
    kustomization, field_name, index = generator
    document = kustomization.document
    if document is None:
        return None
    entry = kustomization.data[field_name][index]
    if len(path) >= 2 and path[0] in ("data", "binaryData", "stringData"):
        key = str(path[1])
        for number, literal in enumerate(as_strings(entry.get("literals"))):
            if literal.split("=", 1)[0].strip() == key:
                return kustomization.file, document.span_of((field_name, index, "literals", number))
        for number, name in enumerate(as_strings(entry.get("files"))):
            file_key = name.split("=", 1)[0] if "=" in name else os.path.basename(name)
            if file_key.strip() == key:
                return kustomization.file, document.span_of((field_name, index, "files", number))
        for env in [*as_strings(entry.get("envs")), *as_strings(entry.get("env"))]:
            hit = _env_line(Path(join_entry(kustomization.directory, env)), key)
            if hit is not None:
                return hit
    return kustomization.file, document.span_of((field_name, index, "name"))


def _env_line(path: Path, key: str) -> Hit | None:
    raw = read_inside(path, None)
    if raw is None:
        return None
    lines = raw.decode("utf-8", "replace").splitlines()
    for number, line in enumerate(lines, start=1):
        if line.split("=", 1)[0].strip() == key and not line.lstrip().startswith("#"):
            column = len(line) - len(line.lstrip()) + 1
            return path, Span(number, column, number, len(line) + 1)
    return None

"""Origin annotations: switched on in the copied kustomization, stripped from the build output."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from klint.documents import parse_stream
from klint.sources.kustomize.files import (
    safe_yaml,
    safe_yaml_strict,
)
from klint.sources.kustomize.paths import (
    pair_at,
)
from klint.sources.kustomize.tool import (
    TRANSFORMER_ANNOTATIONS_VERSION,
    Version,
)

ORIGIN_ANNOTATION = "config.kubernetes.io/origin"
TRANSFORMATIONS_ANNOTATION = "alpha.config.kubernetes.io/transformations"


def enable_annotations(path: Path, version: Version | None) -> None:
    """Add ``buildMetadata`` to the copied kustomization (textually when that is safe)."""
    options = ["originAnnotations"]
    if version is None or version >= TRANSFORMER_ANNOTATIONS_VERSION:
        options.append("transformerAnnotations")
    text = path.read_text(encoding="utf-8-sig")
    try:
        data = safe_yaml_strict(text)
    except yaml.YAMLError:
        return  # kustomize reports the syntax error itself
    if not isinstance(data, dict):
        return
    existing = data.get("buildMetadata")
    if existing is None:
        appended = text + ("" if text.endswith("\n") or not text else "\n")
        appended += f"buildMetadata: [{', '.join(options)}]\n"
        try:
            reread = safe_yaml_strict(appended)
        except yaml.YAMLError:
            reread = None
        if isinstance(reread, dict) and reread == {**data, "buildMetadata": options}:
            path.write_text(appended, encoding="utf-8")
            return
    merged = list(existing) if isinstance(existing, list) else []
    data["buildMetadata"] = merged + [option for option in options if option not in merged]
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


Stripped = tuple[str, list[Any], list[tuple[Any, Any]]]


def strip_annotations(text: str) -> Stripped:
    """Remove klint's annotations.

    Returns the text, each document's data and each document's (origin, transformations).

    Lines are cut out of the tool's output so everything else stays byte-identical; an
    ``annotations`` mapping left empty goes too.
    """
    stripped, expected, found, exact = _strip(text)
    if not exact:
        # Unusual layout: fall back to re-serialising the documents.
        stripped = "---\n".join(
            yaml.safe_dump(data, sort_keys=False, default_flow_style=False) for data in expected
        )
    return stripped, expected, found


def strip_exactly(text: str) -> Stripped | None:
    """:func:`strip_annotations` when cutting lines is enough (None: it re-serialises)."""
    stripped, expected, found, exact = _strip(text)
    return (stripped, expected, found) if exact else None


def _strip(text: str) -> tuple[str, list[Any], list[tuple[Any, Any]], bool]:
    parsed = parse_stream(text, "<kustomize output>")
    lines = text.splitlines(keepends=True)
    drop: set[int] = set()
    found: list[tuple[Any, Any]] = []
    expected: list[Any] = []
    for document in parsed.documents:
        origin: Any = None
        transformations: Any = None
        pair = pair_at(document.root, ("metadata", "annotations"))
        if pair is not None and isinstance(pair[1], yaml.MappingNode):
            key_node, mapping = pair
            offset = document.line_offset
            removed: list[tuple[int, int]] = []
            for key, value in mapping.value:
                if not isinstance(key, yaml.ScalarNode) or not isinstance(value, yaml.ScalarNode):
                    continue
                if key.value not in (ORIGIN_ANNOTATION, TRANSFORMATIONS_ANNOTATION):
                    continue
                loaded = safe_yaml(value.value)
                if key.value == ORIGIN_ANNOTATION:
                    origin = loaded
                else:
                    transformations = loaded
                removed.append((key.start_mark.line + offset, _end_line(value, lines, offset)))
            if removed and len(removed) == len(mapping.value):
                removed = [(key_node.start_mark.line + offset, max(end for _, end in removed))]
            for start, end in removed:
                drop.update(range(start, end))
        found.append((origin, transformations))
        expected.append(_without_klint_annotations(document.data))
    stripped = "".join(line for number, line in enumerate(lines) if number not in drop)
    check = parse_stream(stripped, "<kustomize output>")
    return stripped, expected, found, [d.data for d in check.documents] == expected


def _end_line(node: yaml.Node, lines: list[str], offset: int) -> int:
    """The line (0-based, exclusive) where a mapping value ends."""
    mark = node.end_mark
    line = mark.line + offset
    if mark.column == 0 or line >= len(lines) or not lines[line][: mark.column].strip():
        return line
    return line + 1


def _without_klint_annotations(data: Any) -> Any:
    if not isinstance(data, dict):
        return data
    metadata = data.get("metadata")
    if not isinstance(metadata, dict) or not isinstance(metadata.get("annotations"), dict):
        return data
    annotations = {
        key: value
        for key, value in metadata["annotations"].items()
        if key not in (ORIGIN_ANNOTATION, TRANSFORMATIONS_ANNOTATION)
    }
    new_metadata = {key: value for key, value in metadata.items() if key != "annotations"}
    if annotations:
        new_metadata["annotations"] = annotations
        return {**data, "metadata": {**metadata, "annotations": annotations}}
    return {**data, "metadata": new_metadata}

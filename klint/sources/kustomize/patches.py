"""Patch and transformer texts (files or inline strings) with the positions of their documents."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from klint.documents import Document, parse_stream
from klint.findings import Span
from klint.sources.kustomize.files import (
    Kustomization,
    read_stream,
)
from klint.sources.kustomize.paths import (
    node_at,
)

Hit = tuple[Path, Span]


@dataclass
class PatchSource:
    """Documents of a patch or transformer config, and where their text sits.

    Text inside another file (an inline patch) is shifted by ``line_offset`` and
    ``column_offset``; when its lines cannot be mapped exactly, every span is ``fallback``.
    """

    file: Path
    is_file: bool
    documents: list[Document]
    line_offset: int = 0
    column_offset: int = 0
    exact: bool = True
    fallback: Span = field(default_factory=lambda: Span.line(1))

    @property
    def is_json(self) -> bool:
        return bool(self.documents) and isinstance(self.documents[0].data, list)

    def span(self, document: Document, path: Sequence[str | int]) -> Hit:
        if not self.exact:
            return self.file, self.fallback
        span = document.span_of(tuple(path))
        return self.file, Span(
            span.start_line + self.line_offset,
            span.start_column + self.column_offset,
            span.end_line + self.line_offset,
            span.end_column + self.column_offset,
        )


def file_patch(path: str) -> PatchSource | None:
    stream = read_stream(Path(path))
    if stream is None:
        return None
    return PatchSource(Path(path), True, stream.documents)


def inline_patch(
    kustomization: Kustomization, path: tuple[str | int, ...], text: str
) -> PatchSource:
    """A patch (or transformer config) written inside the kustomization file."""
    own = own_source(kustomization)
    if own is None:
        stream = parse_stream(text, str(kustomization.file))
        return PatchSource(kustomization.file, False, stream.documents, exact=False)
    return nested_patch(own, own.documents[0], path, text)


def nested_patch(
    holder: PatchSource, document: Document, path: tuple[str | int, ...], text: str
) -> PatchSource:
    """Text held in a string of ``document``; its lines map exactly when it is a ``|`` block."""
    stream = parse_stream(text, str(holder.file))
    node = node_at(document.root, path)
    fallback = holder.span(document, path)[1]
    source = PatchSource(
        holder.file,
        False,
        stream.documents,
        exact=False,
        fallback=Span(
            fallback.start_line, fallback.start_column, fallback.start_line, fallback.start_column
        ),
    )
    if not holder.exact or not isinstance(node, yaml.ScalarNode) or node.style != "|":
        return source
    lines = document.text_lines
    content = node.value.split("\n")
    if content and content[-1] == "":
        content.pop()
    first = node.start_mark.line + document.line_offset + 1
    indent: int | None = None
    for number, line in enumerate(content):
        if first + number >= len(lines):
            return source
        actual = lines[first + number]
        if not line.strip():
            if actual.strip():
                return source
            continue
        if indent is None:
            indent = len(actual) - len(line)
        if indent < 0 or actual != " " * indent + line:
            return source
    source.line_offset = holder.line_offset + first
    source.column_offset = holder.column_offset + (indent or 0)
    source.exact = True
    return source


def own_source(kustomization: Kustomization) -> PatchSource | None:
    """The kustomization file itself, as a source of settings."""
    if kustomization.document is None:
        return None
    return PatchSource(kustomization.file, False, [kustomization.document])

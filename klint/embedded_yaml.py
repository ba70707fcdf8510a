"""YAML held inside a string of another YAML file, located on the outer file's lines.

A kind ``Cluster`` keeps kubeadm configuration in ``kubeadmConfigPatches`` literal block
strings. A field path may go on past such a string (``kubeadmConfigPatches[0].apiServer``);
:func:`embedded_span` composes the string and finds the field inside it, placing it on the
outer file's line and column (the string's lines start below its ``|`` indicator, indented
like its first line).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import yaml

from klint.findings import FieldPath, Span

Resolver = Callable[[yaml.Node, FieldPath, bool], tuple[Any, "yaml.Node | None", bool]]


class Positioned(Protocol):
    """What is needed of a document: its node tree, raw lines and line offset."""

    @property
    def root(self) -> yaml.Node: ...

    text_lines: list[str]
    line_offset: int


def embedded_span(
    document: Positioned, node: yaml.ScalarNode, field_path: FieldPath, resolve: Resolver
) -> Span | None:
    """The span of the field ``field_path`` names inside the literal block string ``node``,
    or None when the path ends at the string, or the string is not a YAML mapping."""
    if node.style != "|" or not document.text_lines:
        return None
    depth = len(field_path)
    while depth and resolve(document.root, field_path[:depth], True)[0] is not node:
        depth -= 1
    rest = field_path[depth:]
    if not rest or not depth:
        return None
    try:
        inner_root = yaml.compose(node.value, Loader=yaml.CSafeLoader)
    except (yaml.YAMLError, RecursionError):
        return None
    if not isinstance(inner_root, yaml.MappingNode):
        return None
    inner, key_node, via_index = resolve(inner_root, rest, False)
    target: yaml.Node = inner
    if key_node is not None and not via_index and not isinstance(inner, yaml.ScalarNode):
        target = key_node
    elif isinstance(inner, yaml.MappingNode) and inner.value:
        target = inner.value[0][0]
    first = node.start_mark.line + 1  # the string's first line, below its indicator
    lines = document.text_lines
    content = next((n for n in range(first, len(lines)) if lines[n].strip()), first)
    text = lines[content] if content < len(lines) else ""
    indent = len(text) - len(text.lstrip(" "))
    line = first + target.start_mark.line + 1 + document.line_offset
    column = target.start_mark.column + 1 + indent
    width = target.end_mark.column - target.start_mark.column
    if target.end_mark.line != target.start_mark.line:
        width = 0
    return Span(line, column, line, column + max(width, 0))

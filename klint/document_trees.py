"""Node trees released after loading and composed again, from each document's own text,
when a finding needs positions.

A composed node tree costs about 40 times its YAML text (a 2 MiB lint unit of 5,500
documents: ~75 MiB), while rules read plain values only and positions are needed for one
object's findings at a time. A plain manifest's documents therefore keep their text
instead of their tree: :attr:`klint.documents.Document.root` composes it again (libyaml,
a few percent of a run) and the last few trees are kept for the findings that follow.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from typing import Any, Protocol

import yaml

# The base loader leaves plain scalars untyped (no regex per scalar in Python); klint types
# them itself with the YAML 1.1 rules go-yaml v2 (and so Kubernetes) applies.
try:
    from yaml import CBaseLoader as _Loader

    FAST_PARSER = True
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import BaseLoader as _Loader  # type: ignore[assignment]

    FAST_PARSER = False

_STR_TAG = "tag:yaml.org,2002:str"
_SEQ_TAG = "tag:yaml.org,2002:seq"
_MAP_TAG = "tag:yaml.org,2002:map"
# Untagged plain scalars, the only ones resolved implicitly (``!!str 8080`` stays a string)
PLAIN_TAG = "tag:klint,2026:plain"


class Composer(_Loader):
    """The base loader with a resolver that does nothing per node (klint types scalars)."""

    def resolve(self, kind: type, value: Any, implicit: Any) -> str:
        if kind is yaml.ScalarNode:
            return PLAIN_TAG if implicit and implicit[0] else _STR_TAG
        return _SEQ_TAG if kind is yaml.SequenceNode else _MAP_TAG

    def descend_resolver(self, current_node: Any, current_index: Any) -> None:
        return None

    def ascend_resolver(self) -> None:
        return None


class Document(Protocol):
    """What is released of a :class:`klint.documents.Document`."""

    tree: yaml.Node | None
    source: str
    line_offset: int


_RECENT = 8  # trees kept: an object's findings, fixes and notes reach few documents
_recent: OrderedDict[int, tuple[Document, yaml.Node]] = OrderedDict()


def release(documents: Sequence[Document], text: str) -> None:
    """Drop the trees of ``documents`` (parsed from ``text`` as one stream) whose own text
    composes to the same tree: a root at the start of a line, and no ``%`` directive in the
    stream (a ``%TAG`` handle is declared outside the document's text)."""
    if text.startswith("%") or "\n%" in text:
        return
    for document in documents:
        tree = document.tree
        if tree is None or document.line_offset or tree.start_mark.column:
            continue  # a document read again after a syntax error keeps its tree
        start, end = tree.start_mark, tree.end_mark
        if start.index == end.index:
            continue  # an empty document (a null) is no text
        document.source = text[start.index : end.index]  # marks count characters
        document.line_offset = start.line  # lines of the composed text start there
        document.tree = None


def recomposed(document: Document) -> yaml.Node:
    """The node tree of a released document, composed again from its text."""
    key = id(document)
    hit = _recent.get(key)
    if hit is not None and hit[0] is document:
        _recent.move_to_end(key)
        return hit[1]
    loader = Composer(document.source)
    try:
        tree = loader.get_single_node()
    finally:
        loader.dispose()
    assert tree is not None  # the text held a document's root node
    _recent[key] = (document, tree)
    if len(_recent) > _RECENT:
        _recent.popitem(last=False)
    return tree

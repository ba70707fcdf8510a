"""What a YAML file may cost before it is composed: documents and nodes per file.

Composing keeps a node tree per document (~300 bytes a node), so limits checked only
while converting come too late: a 32 MiB file of 1.29 million tiny documents, or one flow
sequence of 16 million scalars, needs gigabytes before the first check. Here both are
counted first -- documents from their ``---`` lines, nodes from a cheap upper bound and,
only when that bound is over the limit, from libyaml's event stream (constant memory).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import yaml

try:
    from yaml import CBaseLoader as _Parser
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import BaseLoader as _Parser  # type: ignore[assignment]

_DOCUMENT_START = re.compile(r"^---(?:[ \t]|$)", re.MULTILINE)
# Every node libyaml composes (beyond a document's root) follows one of these characters:
# a block sequence dash, a mapping colon or question mark, a flow comma or bracket.
NODE_MARKERS = ":-?,[{"
_NODE_EVENTS = (yaml.ScalarEvent, yaml.SequenceStartEvent, yaml.MappingStartEvent)


@dataclass(frozen=True)
class Overrun:
    """A file over a limit: the notification code and message (naming the option)."""

    code: str
    message: str


def document_count(text: str) -> int:
    """The documents of a stream: its ``---`` lines, plus a first document without one."""
    first = _DOCUMENT_START.search(text)
    count = sum(1 for _ in _DOCUMENT_START.finditer(text))
    head = text[: first.start()] if first is not None else text
    content = (line.strip() for line in head.splitlines())
    return count + any(line and not line.startswith(("#", "%")) for line in content)


def document_starts(text: str) -> int:
    """The ``---`` lines of ``text``."""
    return sum(1 for _ in _DOCUMENT_START.finditer(text))


def node_bound(text: str) -> int:
    """A cheap upper bound on the nodes libyaml composes from ``text``."""
    return 2 * sum(text.count(marker) for marker in NODE_MARKERS) + document_count(text)


def node_count_exceeds(text: str, limit: int) -> bool:
    """Whether composing ``text`` makes more than ``limit`` nodes (events counted, not kept).

    A syntax error ends the count: the caller's parse reports it with its line.
    """
    parser = _Parser(text)
    count = 0
    try:
        while parser.check_event():
            if isinstance(parser.get_event(), _NODE_EVENTS):
                count += 1
                if count > limit:
                    return True
    except yaml.YAMLError:
        return False
    finally:
        parser.dispose()
    return False


def overrun(text: str, max_documents: int, max_nodes: int) -> Overrun | None:
    """Why ``text`` must not be composed at all, or None when it is within the limits."""
    if text.count("---") > max_documents and document_count(text) > max_documents:
        return Overrun(
            "too-many-documents",
            f"more than {max_documents:,} YAML documents in one file (--max-documents); "
            "file skipped",
        )
    if node_bound(text) > max_nodes and node_count_exceeds(text, max_nodes):
        return Overrun(
            "yaml-limit",
            f"file holds more than {max_nodes:,} YAML nodes (--max-yaml-nodes); file skipped",
        )
    return None

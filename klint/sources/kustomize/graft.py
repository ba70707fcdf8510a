"""Shared CRD schemas parsed once: an overlay's output is parsed with placeholders and the
base's parsed schema values and nodes are attached where each placeholder is.

``shared.py`` builds an overlay with the schemas of a pure CRD base stubbed, and splices
the schema text of one build of the base back in. Parsing (with positions) the megabytes
of schemas in every overlay would repeat the same work: here the base's build output is
parsed once per process, and each overlay's small stubbed output is parsed and completed
with the base's schema subtrees (the same objects in every overlay; nothing mutates them).

The result equals parsing the spliced text: the schema lines are the base's lines at the
same indentation under the same path, and parsing a block does not depend on what lies
outside it. What could differ is refused and the caller parses the full text as before:
any problem while parsing, an alias anywhere in the grafted documents (an alias is
expanded on every use and counts against the node limit), a file over the limits
(checked on the full text, as parse_stream does), schemas nested deeper than the limit.
Node positions inside a grafted schema point into the base's build output: nothing reads
positions of an overlay's built documents (findings are located in the origin files).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from klint.documents import Document, Limits, ParsedStream, parse_stream
from klint.k8s_schemas import share
from klint.model.resource import dig
from klint.yaml_budget import document_count, node_bound

SchemaPath = tuple[str | int, ...]

try:
    from yaml import CBaseLoader as _Loader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import BaseLoader as _Loader  # type: ignore[assignment]


class _Composer(_Loader):
    """libyaml without resolvers: every scalar untyped (only the structure is read)."""

    def resolve(self, kind: type, value: Any, implicit: Any) -> str:
        if kind is yaml.ScalarNode:
            return "tag:yaml.org,2002:str"
        return "tag:yaml.org,2002:seq" if kind is yaml.SequenceNode else "tag:yaml.org,2002:map"

    def descend_resolver(self, current_node: Any, current_index: Any) -> None:
        return None

    def ascend_resolver(self) -> None:
        return None


def compose_all(text: str) -> Iterator[yaml.Node]:
    """The node tree of each document (faster than ``yaml.compose_all`` with a resolver)."""
    loader = _Composer(text)
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is not None:
                yield node
    finally:
        loader.dispose()


@dataclass(frozen=True)
class Schema:
    """One CRD schema of a base's build output, parsed once."""

    data: Any
    node: yaml.Node
    depth: int  # the deepest mapping or sequence under the schema node (0: the node)


@dataclass(frozen=True)
class Graft:
    """A placeholder in document ``document`` at ``path`` that ``schema`` replaces."""

    document: int
    path: SchemaPath
    schema: Schema


def parse_schemas(text: str) -> dict[tuple[str, SchemaPath], Schema]:
    """Each CRD schema of a base's build output by (CRD name, path under ``spec``); empty
    when the output has any problem or alias (then nothing is grafted)."""
    parsed = parse_stream(text, "<kustomize base>")
    if parsed.problems:
        return {}
    return document_schemas(parsed.documents, _may_share_nodes(text)) or {}


def document_schemas(
    documents: Sequence[Document],
    may_share: bool = True,
    accept: Callable[[yaml.Node], bool] | None = None,
) -> dict[tuple[str, SchemaPath], Schema] | None:
    """Each CRD schema of parsed documents by (CRD name, path under ``spec``); None when a
    CRD name repeats, a node is shared (an alias, when ``may_share``) or ``accept`` refuses
    a schema's node."""
    found: dict[tuple[str, SchemaPath], Schema] = {}
    names: set[str] = set()
    for document in documents:
        data = document.data
        if not isinstance(data, dict) or data.get("kind") != "CustomResourceDefinition":
            continue
        if may_share and _shared_nodes(document.root):
            return None
        metadata = data.get("metadata")
        name = metadata.get("name") if isinstance(metadata, dict) else None
        spec = data.get("spec")
        if not isinstance(name, str) or not isinstance(spec, dict) or name in names:
            return None  # a name twice: the splice cannot tell them apart either
        names.add(name)
        paths: list[SchemaPath] = [("validation",)] if "validation" in spec else []
        versions = spec.get("versions")
        for index, version in enumerate(versions if isinstance(versions, list) else []):
            if isinstance(version, dict) and "schema" in version:
                paths.append(("versions", index, "schema"))
        for path in paths:
            node = _node_at(document.root, ("spec", *path))
            if node is not None:
                if accept is not None and not accept(node):
                    return None
                value = dig(data, ("spec", *path))
                share(value)  # checks validate it once (k8s_schemas, crd_validation)
                found[name, path] = Schema(value, node, _depth(node))
    return found


def grafted(
    text: str,
    stub: str,
    grafts: Sequence[Graft],
    path: str,
    limits: Limits,
    lines: list[str] | None = None,
    bound: int | None = None,
) -> ParsedStream | None:
    """``parse_stream(text, path, limits)`` computed from ``stub`` (``text`` with each
    graft's schema as a placeholder) and the grafts; None when that is not certain.
    ``lines`` and ``bound`` are ``text.splitlines()`` and ``node_bound(text)`` if known."""
    # what yaml_budget.overrun refuses: nodes over the bound need an exact count (then the
    # full text is parsed as before), documents counted as it does
    if (node_bound(text) if bound is None else bound) > limits.max_nodes_per_document:
        return None
    if text.count("---") > limits.max_documents and document_count(text) > limits.max_documents:
        return None
    parsed = parse_stream(stub, path, limits)
    if parsed.problems or any(d.line_offset for d in parsed.documents):
        return None
    documents = parsed.documents
    targets = {graft.document for graft in grafts}
    if not all(0 <= index < len(documents) for index in targets):
        return None
    if _may_share_nodes(stub) and any(_shared_nodes(documents[index].root) for index in targets):
        return None
    for graft in grafts:
        document = documents[graft.document]
        full = ("spec", *graft.path)
        if document.index != graft.document or len(full) + graft.schema.depth > limits.max_depth:
            return None
        if not _replace(document.data, document.root, full, graft.schema):
            return None
    text_lines = text.splitlines() if lines is None else lines
    for document in documents:
        document.text_lines = text_lines
    return parsed


def graft_values(documents: list[Any], grafts: Sequence[Graft]) -> bool:
    """Put each graft's schema value into the plain documents of a stubbed output (in
    place); False when a placeholder is not where a graft says."""
    for graft in grafts:
        if not 0 <= graft.document < len(documents):
            return False
        parent = dig(documents[graft.document], ("spec", *graft.path[:-1]))
        key = graft.path[-1]
        if not isinstance(parent, dict) or not isinstance(parent.get(key), dict):
            return False
        parent[key] = graft.schema.data
    return True


def _replace(data: Any, root: yaml.Node, path: SchemaPath, schema: Schema) -> bool:
    """Put ``schema`` at ``path`` in a document's value and node tree (placeholder there)."""
    parent_node = _node_at(root, path[:-1])
    parent = dig(data, path[:-1])
    key = path[-1]
    if not isinstance(parent_node, yaml.MappingNode) or not isinstance(parent, dict):
        return False
    matches = [
        index
        for index, (k, _) in enumerate(parent_node.value)
        if isinstance(k, yaml.ScalarNode) and k.value == key
    ]
    if len(matches) != 1 or not isinstance(parent.get(key), dict):
        return False
    key_node, _ = parent_node.value[matches[0]]
    parent_node.value[matches[0]] = (key_node, schema.node)
    parent[key] = schema.data
    return True


def _node_at(root: yaml.Node, path: SchemaPath) -> yaml.Node | None:
    node = root
    for part in path:
        if isinstance(node, yaml.MappingNode) and isinstance(part, str):
            values = [
                v for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == part
            ]
            if len(values) != 1:
                return None
            node = values[0]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if not 0 <= part < len(node.value):
                return None
            node = node.value[part]
        else:
            return None
    return node


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _may_share_nodes(text: str) -> bool:
    """Whether the YAML ``text`` can hold an alias or a merge key: an alias needs an anchor
    (``&``), a merge key is ``<<`` (without either, :func:`_shared_nodes` is always False)."""
    return "&" in text or "<<" in text


def _shared_nodes(root: yaml.Node) -> bool:
    """Whether a node occurs twice in the tree (an alias, or a merge key)."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            return True
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and key.value == "<<" and not key.style:
                    return True
                stack.append(key)
                stack.append(value)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
    return False


def _depth(node: yaml.Node) -> int:
    """The deepest nesting of mappings and sequences under ``node`` (0: ``node`` itself)."""
    deepest = 0
    stack = [(node, 0)]
    while stack:
        current, depth = stack.pop()
        if isinstance(current, yaml.MappingNode | yaml.SequenceNode):
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in _children(current))
    return deepest

"""A shared base's files as this process knows them: their digest, and their text with each
large CRD schema replaced by a placeholder, both kept by file stamp (shared.py splices)."""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import yaml

from klint.document_trees import PLAIN_TAG
from klint.documents import plain_value
from klint.sources.confine import read_inside
from klint.sources.kustomize.files import SHARED_MIN_BYTES, read_shared_stream, shared_parse
from klint.sources.kustomize.graft import Schema, compose_all, document_schemas
from klint.sources.kustomize.tree import Tree

MARK = "x-klint-splice"
MIN_STUB_BYTES = 4096  # smaller schemas cost kustomize nothing worth the splice

SchemaPath = tuple[str | int, ...]
Token = tuple[str, tuple[str, str, SchemaPath]]  # placeholder → (base, CRD name, path)
Stubbed = tuple[str, tuple[Token, ...]]
Stamp = tuple[int, int, int, int, int]

# (file, base) → the file's stamp and its edit (None: refused), computed once per process
_STUBBED: dict[tuple[str, str], tuple[Stamp, Stubbed | None]] = {}
# base → its files' stamps and the digest of their bytes (this process only)
_DIGESTS: dict[str, tuple[tuple[Stamp, ...], str]] = {}


def token(base: str, name: str, path: SchemaPath) -> str:
    """The placeholder of one schema: the same for the same base, CRD and path."""
    where = f"{base}|{name}|{path}".encode(errors="surrogatepass")
    return f"klint-splice-{hashlib.sha256(where).hexdigest()[:20]}"


def stub_source(source: str, root: Path, base: str) -> tuple[str, tuple[Token, ...]] | None:
    """A base file's stubbed text as it reads in a copy (``Path.read_text``: universal
    newlines) and its placeholders, the same for the same bytes in every overlay; None when
    it cannot be stubbed (a folder, a missing or unreadable file, or a layout refused)."""
    try:
        stamp = _stamp(Path(source)) if os.path.isfile(source) else None
    except OSError:
        stamp = None
    if stamp is None:
        return None
    held = _STUBBED.get((source, base))
    if held is None or held[0] != stamp:  # read (inside the root) while it changes
        raw = read_inside(Path(source), root)
        if raw is None:
            return None
        held = stamp, _stub_file(raw, source, base)
        _STUBBED[source, base] = held
    return held[1]


def _stub_file(raw: bytes, source: str, base: str) -> Stubbed | None:
    """A base file's text with each large block-style schema replaced by a placeholder;
    its schemas are found in its one parse of this process (files.shared_parse, which
    tracing origins reuses) when that parse is of the same text, else composed here."""
    try:
        text = raw.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")
    except UnicodeDecodeError:
        return None
    parsed = None  # parsed from the same text: large, no byte order mark, no carriage return
    if len(raw) >= SHARED_MIN_BYTES and not raw.startswith(b"\xef\xbb\xbf") and b"\r" not in raw:
        parsed = shared_parse(Path(source), raw)
    whole = parsed is not None and not parsed.problems
    if parsed is None or not whole or any(d.line_offset for d in parsed.documents):
        return _stubbed(text, base, None)
    return _stubbed(text, base, [document.root for document in parsed.documents])


def _stubbed(text: str, base: str, roots: list[yaml.Node] | None) -> Stubbed | None:
    try:
        found = [(n, p, k, v) for _, n, p, k, v in indexed_schemas(text, roots)]
    except yaml.YAMLError:
        return None
    edits = []
    tokens = []
    for name, path, key, value in found:
        if not isinstance(value, yaml.MappingNode) or value.flow_style or key.style:
            return None
        start, end = key.start_mark.index, value.end_mark.index
        if end - start < MIN_STUB_BYTES:
            continue
        placeholder = token(base, name, path)
        tokens.append((placeholder, (base, name, path)))
        line = f"{key.value}: {{openAPIV3Schema: {{{MARK}: {placeholder}}}}}\n"
        edits.append((start, end, line + " " * value.end_mark.column))
    for start, end, replacement in reversed(edits):
        text = text[:start] + replacement + text[end:]
    return text, tuple(tokens)


def indexed_schemas(
    text: str, roots: Iterable[yaml.Node] | None = None
) -> Iterator[tuple[int, str, SchemaPath, Any, Any]]:
    """(document index, CRD name, path, key node, value node) of each schema in a stream
    (``roots``: its documents' nodes, if already composed)."""
    for index, document in enumerate(compose_all(text) if roots is None else roots):
        if not isinstance(document, yaml.MappingNode):
            continue
        top = pairs(document)
        kind, metadata, spec = top.get("kind"), top.get("metadata"), top.get("spec")
        if getattr(kind, "value", None) != "CustomResourceDefinition":
            continue
        name = getattr(pairs(metadata).get("name"), "value", None)
        if not isinstance(name, str) or not isinstance(spec, yaml.MappingNode):
            continue
        for key, value in spec.value:
            if key.value == "validation":
                yield index, name, ("validation",), key, value
            if key.value == "versions" and isinstance(value, yaml.SequenceNode):
                for number, version in enumerate(value.value):
                    for vkey, vvalue in (
                        version.value if isinstance(version, yaml.MappingNode) else ()
                    ):
                        if vkey.value == "schema":
                            yield index, name, ("versions", number, "schema"), vkey, vvalue


def pairs(node: Any) -> dict[str, Any]:
    """A mapping node's values by their scalar keys ({} for anything else)."""
    if not isinstance(node, yaml.MappingNode):
        return {}
    return {k.value: v for k, v in node.value if isinstance(k, yaml.ScalarNode)}


def file_schemas(files: Sequence[Path], root: Path) -> dict[tuple[str, SchemaPath], Schema] | None:
    """A pure base's CRD schemas from its own files' parse (the one stubbing made, which
    tracing origins reuses), keyed as :func:`graft.parse_schemas` keys the base's build
    output, whose schemas kustomize prints with the same values; None when a file does
    not parse whole, a CRD name repeats, a node is shared, or a scalar could read otherwise
    once kustomize has printed it (:func:`prints_alike`)."""
    found: dict[tuple[str, SchemaPath], Schema] = {}
    for file in files:
        parsed = read_shared_stream(file, root)
        if parsed is None or parsed.problems:
            return None
        schemas = document_schemas(parsed.documents, True, prints_alike)
        if schemas is None or not found.keys().isdisjoint(schemas):
            return None
        found.update(schemas)
    return found


# YAML 1.2's core schema, by which kustomize (Go's yaml.v3) reads plain scalars: a string
# that YAML 1.1 would read otherwise (``on``, ``yes``, ``1_000``) is printed quoted
_NOT_STRING_12 = re.compile(
    r"~|null|Null|NULL|true|True|TRUE|false|False|FALSE"
    r"|[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+"
    r"|[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)"
)


def prints_alike(node: yaml.Node) -> bool:
    """Whether every scalar under ``node`` reads the same (as klint reads YAML 1.1) after
    kustomize prints it: a plain scalar that klint reads as a string, or that YAML 1.2
    does not read as one (``on`` is a boolean to klint and a string to kustomize, which
    then quotes it), and a quoted or block one that klint would read as a string printed
    plain. An explicit tag is refused too. Shared nodes and merge keys are refused before
    this is asked (graft.document_schemas with ``may_share``): the tree is walked as one."""
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, yaml.ScalarNode):
            value = current.value
            if not current.style:
                if current.tag != PLAIN_TAG:
                    return False
                if not isinstance(plain_value(value), str) and not _NOT_STRING_12.fullmatch(value):
                    return False
            elif "\n" not in value and not isinstance(plain_value(value), str):
                return False
        elif isinstance(current, yaml.MappingNode):
            for key, value in current.value:
                stack += (key, value)
        elif isinstance(current, yaml.SequenceNode):
            stack.extend(current.value)
    return True


def base_key(tree: Tree, base: str, tool: str) -> tuple[str, str, str]:
    """A base's identity for this process: its folder, its files' content and the tool.

    The content is hashed once: while every file keeps its inode, size and change times
    (``st_ctime`` moves with any write, and cannot be set back), the digest of its bytes is
    the one computed before; 19 overlays re-read and compared megabytes of CRDs each."""
    kustomization = tree.kustomizations[base]
    files = [kustomization.file]
    for entry in kustomization.data["resources"]:
        files.append(Path(os.path.normpath(os.path.join(base, entry))))
    stamps = tuple(_stamp(file) for file in files)
    held = _DIGESTS.get(base)
    if held is None or held[0] != stamps:
        digest = hashlib.sha256(files[0].read_bytes())
        for source in files[1:]:
            digest.update(str(source).encode(errors="surrogatepass") + b"\0" + source.read_bytes())
        held = _DIGESTS[base] = (stamps, digest.hexdigest())
        if stamps != tuple(_stamp(file) for file in files):  # changed while being read
            del _DIGESTS[base]
    return base, held[1], tool


def _stamp(file: Path) -> Stamp:
    info = file.stat()
    return info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns

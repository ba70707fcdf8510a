"""Shared CRD bases built once: the heavy schemas are stubbed in an overlay's copy and spliced back.

argo-workflows-like trees include one base of CRDs (megabytes of OpenAPI schemas) from many
overlays; kustomize would parse and print those schemas once per overlay. When a base is a
plain list of resource files and no kustomization on the way can reach inside a CRD's
schema (no patches, replacements, vars, images, transformers or custom configurations:
only namespace, name prefix/suffix, labels and annotations, which kustomize applies to
metadata and to fields outside ``spec.versions[*].schema``), each CRD's schema is replaced
in the confined copy by a one-line placeholder, the overlay is built, and the schema text
from one build of the base (kustomize prints it the same way at the same depth) is put back
where the placeholder came out. Anything unexpected (a placeholder missing, moved or at
another indentation) returns None, and the caller builds the overlay in full as before.
``KLINT_KUSTOMIZE_SHARE=0`` turns this off.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from klint.sources.confine import read_inside
from klint.sources.kustomize.base_files import (
    MARK,
    MIN_STUB_BYTES,
    SchemaPath,
    base_key,
    file_schemas,
    indexed_schemas,
    pairs,
    stub_source,
    token,
)
from klint.sources.kustomize.graft import Graft, Schema, parse_schemas
from klint.sources.kustomize.tree import Tree
from klint.yaml_budget import NODE_MARKERS, document_starts, node_bound

# Fields that cannot reach inside a CRD's schema (kustomize's builtin field specs).
_OVERLAY_KEYS = frozenset(
    {
        "apiVersion",
        "kind",
        "metadata",
        "resources",
        "bases",
        "namespace",
        "namePrefix",
        "nameSuffix",
        "commonLabels",
        "labels",
        "commonAnnotations",
        "sortOptions",
        "buildMetadata",
    }
)
_BASE_KEYS = frozenset({"apiVersion", "kind", "metadata", "resources"})

# (base directory, content digest, tool) → the base's build output (this process only)
_BUILT: dict[tuple[str, str, str], str] = {}
_BLOCKS: dict[tuple[str, str, str], dict[tuple[str, tuple[str | int, ...]], list[str]]] = {}
_SCHEMAS: dict[tuple[str, str, str], dict[tuple[str, tuple[str | int, ...]], Schema]] = {}
_MARKED: dict[tuple[str, str, str], str] = {}  # the base output _RANGES point into
# where each schema is in that output: first and last line, start and end column, and
# whether it is a block mapping (a splice needs whole lines)
_RANGES: dict[tuple[str, str, str], dict[tuple[str, SchemaPath], tuple[int, int, int, int, bool]]]
_RANGES = {}
# (base, digest) → its schemas from its own files' parse, made while the base builds
_FILE_SCHEMAS: dict[tuple[str, str], dict[tuple[str, SchemaPath], Schema] | None] = {}
_SOURCES: dict[tuple[str, str], tuple[list[Path], Path]] = {}  # (base, digest) → files, root
_RAW: dict[tuple[str, str, str], tuple[str, str]] = {}  # a pure base's own build (out, err)
# (base key, CRD name, path) → a schema block's lines without line ends and its share of
# yaml_budget.node_bound (None when it holds a document start), computed once per process
_MEASURED: dict[
    tuple[tuple[str, str, str], str, tuple[str | int, ...]], tuple[list[str], int | None]
] = {}


def enabled() -> bool:
    return os.environ.get("KLINT_KUSTOMIZE_SHARE", "1") != "0"


@dataclass
class Splice:
    """Placeholders written into one overlay's copy and the base each came from."""

    tokens: dict[str, tuple[str, str, tuple[str | int, ...]]] = field(default_factory=dict)
    blocks: dict[str, list[str]] = field(default_factory=dict)  # token → the schema's lines


@dataclass(frozen=True)
class Spliced:
    """An overlay's output with the schemas put back, and where each one went."""

    text: str
    grafts: tuple[Graft, ...]  # empty when the base's schemas could not be parsed alone
    lines: list[str]  # text.splitlines(), composed from the stub's and the blocks' lines
    node_bound: int | None  # yaml_budget.node_bound(text) when it is known without counting


def pure_bases(tree: Tree, build_dir: Path) -> list[str] | None:
    """The pure resource-list bases of the tree; None when any kustomization could reach
    inside a base object's schema (then nothing is shared)."""
    bases = []
    for directory, kustomization in tree.kustomizations.items():
        keys = set(kustomization.data)
        if directory != str(build_dir) and keys <= _BASE_KEYS and _files_only(kustomization.data):
            bases.append(directory)
        elif not keys <= _OVERLAY_KEYS:
            return None
    return bases


def _files_only(data: dict[str, Any]) -> bool:
    resources = data.get("resources")
    return isinstance(resources, list) and all(isinstance(r, str) for r in resources)


def stub(tree: Tree, build_dir: Path) -> tuple[Splice, dict[str, str]] | None:
    """The placeholders for the CRD schemas of pure bases and the stubbed text of each base
    file that has some, by path relative to the tree's root (written into the confined copy
    instead of the file: :meth:`Tree.copy_to`); None when there is no base to share."""
    bases = pure_bases(tree, build_dir)
    if not bases:
        return None
    splice = Splice()
    texts: dict[str, str] = {}
    for base in bases:
        for entry in tree.kustomizations[base].data["resources"]:
            source = os.path.normpath(os.path.join(base, entry))
            stubbed = stub_source(source, tree.root, base)
            if stubbed is None:  # a folder, a missing or unreadable file, or a layout refused
                return None
            edited, tokens = stubbed
            if tokens:
                splice.tokens.update(tokens)
                texts[os.path.relpath(source, tree.root)] = edited
    if not splice.tokens:
        return None
    for base in {base for base, _, _ in splice.tokens.values()}:
        _plan_source_schemas(tree, base)
    return splice, texts


def _plan_source_schemas(tree: Tree, base: str) -> None:
    """Note the files of a pure base whose schemas :func:`_source_schemas` takes from
    their parse, later: :func:`finish` does it while the base's build runs, once every
    overlay's own build has started."""
    try:
        key = base_key(tree, base, "")[:2]
    except OSError:
        return
    if key not in _FILE_SCHEMAS and key not in _SOURCES:
        entries = tree.kustomizations[base].data["resources"]
        files = [Path(os.path.normpath(os.path.join(base, entry))) for entry in entries]
        _SOURCES[key] = (files, tree.root)


def _source_schemas(key: tuple[str, str]) -> dict[tuple[str, SchemaPath], Schema] | None:
    """A pure base's schemas from its files' parse (base_files.file_schemas), once."""
    if key not in _FILE_SCHEMAS and key in _SOURCES:
        _FILE_SCHEMAS[key] = file_schemas(*_SOURCES.pop(key))
    return _FILE_SCHEMAS.get(key)


def _pure(tree: Tree, build_dir: Path) -> bool:
    directory = str(build_dir)
    data = tree.kustomizations[directory].data if directory in tree.kustomizations else {}
    return len(tree.kustomizations) == 1 and set(data) <= _BASE_KEYS and _files_only(data)


def remember_if_base(tree: Tree, build_dir: Path, tool: str, text: str, stderr: str) -> None:
    """Keep the output of a build that is itself a pure base (a unit of its own) for the
    overlays that include it, and for building it again, later in this process."""
    if _pure(tree, build_dir) and enabled() and "kind: CustomResourceDefinition" in text:
        with contextlib.suppress(OSError):
            key = base_key(tree, str(build_dir), tool)
            if key not in _BLOCKS:
                _BUILT[key] = text
            _RAW[key] = (text, stderr)


def reused(tree: Tree, build_dir: Path, tool: str) -> tuple[str, str] | None:
    """The tool's output and warnings of an earlier build of this same pure base (same
    folder, same bytes in every file it lists, same tool: kustomize prints the same)."""
    if not enabled() or not _RAW or not _pure(tree, build_dir):
        return None
    try:
        return _RAW.get(base_key(tree, str(build_dir), tool))
    except OSError:
        return None


Started = list[tuple[tuple[str, str, str], str, "Future[str]"]]
_STARTED: dict[tuple[str, str, str], Future[str]] = {}  # base builds under way (prebuild.py)


def start(
    tree: Tree,
    build_dir: Path,
    tool: str,
    build_base: Callable[[str], str],
    submit: Callable[[Callable[[str], str], str], Future[str]],
) -> Started:
    """Start (``submit``) one build of each pure base of this tree that may hold schemas
    worth sharing, unless one was started or parsed before; :func:`finish` parses them."""
    started: Started = []
    for base in pure_bases(tree, build_dir) or ():
        try:
            key = base_key(tree, base, tool)
        except OSError:
            continue
        if key in _BLOCKS or not (key in _STARTED or _may_share(tree, base)):
            continue
        if key not in _STARTED:
            _STARTED[key] = submit(build_base, base)
        started.append((key, base, _STARTED[key]))
    return started


def _may_share(tree: Tree, base: str) -> bool:
    """Whether a file of the base is large enough to hold a schema worth stubbing."""
    for entry in tree.kustomizations[base].data["resources"]:
        source = Path(os.path.normpath(os.path.join(base, entry)))
        raw = read_inside(source, tree.root) if source.is_file() else None
        if raw is not None and len(raw) >= MIN_STUB_BYTES and b"CustomResourceDefinition" in raw:
            return True
    return False


def finish(started: Started, splice: Splice | None) -> None:
    """Parse once each started base build that ``splice`` has placeholders for (a build
    that failed is left to the overlay's own build, which reports it)."""
    wanted = {base for base, _, _ in splice.tokens.values()} if splice is not None else set()
    for key, base, _ in started:
        if key not in _BLOCKS and base in wanted:
            _source_schemas(key[:2])  # while the base builds: the main thread waits anyway
    for key, base, future in started:
        if key in _BLOCKS or base not in wanted:
            continue
        try:
            text = future.result()
        except Exception:  # an optimisation only: the overlay builds it again
            continue
        _parsed_base(key, base, _given(text))


def _given(text: str) -> Callable[[str], str]:
    """A base build that returns ``text`` (already built)."""
    return lambda _: text


def _parsed_base(
    key: tuple[str, str, str], base: str, build_base: Callable[[str], str]
) -> tuple[dict[tuple[str, SchemaPath], list[str]], dict[Any, Schema]]:
    """A base's schema blocks (lines of its build output) and parsed schemas, once per
    process: the schemas of its files' parse when the output holds the same ones (its
    structure is composed, in C, for where they are), else the output parsed in full."""
    if key not in _BLOCKS:
        if key not in _BUILT:
            _BUILT[key] = build_base(base)
        text = _BUILT[key]
        source = _source_schemas(key[:2])
        ranges = _ranges(text) if source else None
        if source and ranges is not None and ranges.keys() == source.keys():
            _SCHEMAS[key] = source
        else:
            _SCHEMAS[key] = parse_schemas(text)
            ranges = {where: _range(schema.node) for where, schema in _SCHEMAS[key].items()}
        lines = text.splitlines(keepends=True)
        _BLOCKS[key] = {where: lines[r[0] : r[1]] for where, r in ranges.items() if r[4]}
        _RANGES[key] = ranges
        _MARKED[key] = text  # the text the ranges point into
        _BUILT[key] = ""  # the blocks are what is kept
    return _BLOCKS[key], _SCHEMAS[key]


def _ranges(text: str) -> dict[tuple[str, SchemaPath], tuple[int, int, int, int, bool]] | None:
    """Where each CRD schema of a build output is (composed, not converted); None when a
    CRD name and path repeat or the output does not compose."""
    found: dict[tuple[str, SchemaPath], tuple[int, int, int, int, bool]] = {}
    try:
        for _, name, path, _, value in indexed_schemas(text):
            if (name, path) in found:
                return None
            found[name, path] = _range(value)
    except yaml.YAMLError:
        return None
    return found


def _range(node: yaml.Node) -> tuple[int, int, int, int, bool]:
    block = isinstance(node, yaml.MappingNode) and not node.flow_style
    start, end = node.start_mark, node.end_mark
    return start.line, end.line, start.column, end.column, block


def own_stub(tree: Tree, build_dir: Path, tool: str, stdout: str) -> tuple[str, Splice] | None:
    """A pure base's own output with its schemas as placeholders (its schemas parsed once,
    then its unit is parsed and linted like an overlay's: graft.py); None when the output
    is not the one whose schemas were parsed."""
    if (
        not enabled()
        or not _pure(tree, build_dir)
        or "kind: CustomResourceDefinition" not in stdout
    ):
        return None
    try:
        key = base_key(tree, str(build_dir), tool)
    except OSError:
        return None
    if key not in _MARKED and _BUILT.get(key) == stdout:  # just built: parse it once now
        _parsed_base(key, key[0], lambda _: stdout)
    if _MARKED.get(key) != stdout or not _SCHEMAS.get(key):
        return None
    plan = Splice()
    lines = stdout.splitlines(keepends=True)
    edits = []
    for (name, path), (first, last, column, end_column, block) in _RANGES[key].items():
        if not block or first >= last:
            return None
        ends = lines[last][:end_column] if last < len(lines) else ""
        if lines[first][:column].strip() or ends.strip():
            return None  # the block must be whole lines
        placeholder = token(key[0], name, path)
        plan.tokens[placeholder] = (key[0], name, path)
        indent = " " * column
        edits.append((first, last, f"{indent}openAPIV3Schema: {{{MARK}: {placeholder}}}\n"))
    for first, last, line in sorted(edits, reverse=True):
        lines[first:last] = [line]
    return "".join(lines), plan


def splice(
    splice: Splice, stdout: str, tree: Tree, tool: str, build_base: Callable[[str], str]
) -> Spliced | None:
    """The overlay output with every placeholder replaced by the real schema; None when
    anything does not line up (the caller then builds the overlay in full)."""
    texts: dict[str, dict[tuple[str, tuple[str | int, ...]], list[str]]] = {}
    schemas: dict[str, dict[tuple[str, tuple[str | int, ...]], Schema]] = {}
    keys: dict[str, tuple[str, str, str]] = {}
    for base, _, _ in splice.tokens.values():
        if base not in texts:
            keys[base] = base_key(tree, base, tool)
            texts[base], schemas[base] = _parsed_base(keys[base], base, build_base)
    lines = stdout.splitlines(keepends=True)
    edits = []
    grafts: list[Graft] | None = []
    seen: set[str] = set()
    for document, _, _, _, value in indexed_schemas(stdout):
        token = _placeholder(value)
        if token is None:
            continue
        if token not in splice.tokens or token in seen:
            return None
        seen.add(token)
        base, name, path = splice.tokens[token]
        block = texts[base].get((name, path))
        first, last = value.start_mark.line, value.end_mark.line
        if block is None or _indent(lines[first]) != _indent(block[0]):
            return None
        edits.append((first, last, block, _measured(keys[base], name, path, block)))
        schema = schemas[base].get((name, path))
        if schema is None or grafts is None:
            grafts = None
        else:
            grafts.append(Graft(document, path, schema))
    if seen != set(splice.tokens):
        return None
    plain = stdout.splitlines()  # the same pieces as ``lines``, without their line ends
    bound: int | None = node_bound(stdout)
    for first, last, block, (block_plain, block_bound) in sorted(edits, reverse=True):
        replaced = "".join(lines[first:last])
        if bound is None or block_bound is None or document_starts(replaced):
            bound = None  # the documents counted differ: count the full text
        else:  # the same documents; the markers of the block instead of the placeholder's
            bound += block_bound - 2 * _markers(replaced)
        lines[first:last] = block
        plain[first:last] = block_plain
    return Spliced("".join(lines), tuple(grafts or ()), plain, bound)


def _measured(
    key: tuple[str, str, str], name: str, path: tuple[str | int, ...], block: list[str]
) -> tuple[list[str], int | None]:
    """A block's lines without their ends and its share of the node bound, once."""
    where = (key, name, path)
    if where not in _MEASURED:
        text = "".join(block)
        bound = None if document_starts(text) else 2 * _markers(text)
        _MEASURED[where] = (text.splitlines(), bound)
    return _MEASURED[where]


def _markers(text: str) -> int:
    """The characters :func:`yaml_budget.node_bound` counts (it doubles their sum)."""
    return sum(text.count(marker) for marker in NODE_MARKERS)


def _placeholder(value: Any) -> str | None:
    inner = pairs(pairs(value).get("openAPIV3Schema"))
    mark = inner.get(MARK)
    return mark.value if isinstance(mark, yaml.ScalarNode) and len(inner) == 1 else None


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))

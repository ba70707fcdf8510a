"""Kubernetes API schemas: the bundled built-in kinds and CRD schemas, compiled lazily.

The bundle (``schemas/kubernetes/``, built by ``scripts/build_k8s_schemas.py``) holds one
file of definitions shared by all versions and a small index per minor version. Nothing
is read until a schema rule runs; a definition is parsed and compiled the first time an
object needs it and then cached, so each (version, definition) is compiled once.

Validation covers the keywords that decide whether the API server accepts a field:
``type``, ``properties`` with closed objects (unknown fields), ``additionalProperties``,
``items``, ``required`` and ``enum``. It is a small walker over compiled :class:`Node`
trees rather than a general JSON Schema engine: it yields typed :class:`Issue` values
with paths, which is what the checks report, and runs several times faster.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from functools import cache
from typing import Any

from klint.data import data_path
from klint.findings import FieldPath

ANY_TYPE: frozenset[str] = frozenset()


class IssueKind(enum.Enum):
    """What is wrong with a value."""

    UNKNOWN_FIELD = "unknown-field"
    TYPE = "type"
    REQUIRED = "required"
    ENUM = "enum"


@dataclass(frozen=True)
class Issue:
    """One schema violation at ``path`` (relative to the object root)."""

    kind: IssueKind
    path: FieldPath
    detail: str  # the field name (unknown/required), expected types, or the bad value
    expected: tuple[str, ...] = ()  # allowed types or enum values
    suggestion: str | None = None


@dataclass(eq=False)
class Node:
    """A compiled schema node; ``ref`` defers to a definition compiled on first use."""

    types: frozenset[str] = ANY_TYPE
    properties: dict[str, Node] | None = None
    additional: Node | bool = True  # False: closed object (unknown fields are errors)
    items: Node | None = None
    required: tuple[str, ...] = ()
    enum: tuple[Any, ...] | None = None
    # A custom-resource field that is not ``nullable``: a null there is pruned before
    # validation ("prune"), or replaced by the field's ``default`` ("default").
    on_null: str = ""
    ref: Callable[[], Node] | None = field(default=None, repr=False)

    def resolved(self) -> Node:
        """The node itself, or the definition it refers to."""
        return self.ref() if self.ref is not None else self


OPEN = Node()


# --- validation -----------------------------------------------------------------------


def json_type(value: Any) -> str:
    """The JSON type name of a plain YAML value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "string"  # dates and other YAML scalars arrive as strings in the API


def _type_ok(types: frozenset[str], value: Any) -> bool:
    if not types:
        return True
    actual = json_type(value)
    if actual in types:
        return True
    if actual == "integer" and "number" in types:
        return True
    # 1.0 is an integer once YAML becomes JSON for the API server.
    return actual == "number" and "integer" in types and float(value).is_integer()


# Values that many objects hold (the schemas of a CRD base included by many Kustomize
# overlays, parsed once: sources/kustomize/graft.py), kept alive here so their ids stay
# theirs; validating one against a node is done once and its issues replayed.
_SHARED: dict[int, Any] = {}
_SHARED_ISSUES: dict[tuple[int, int], tuple[Node, list[Issue]]] = {}


def share(value: Any) -> None:
    """Mark ``value`` as held unchanged by many objects (nothing may mutate it)."""
    _SHARED[id(value)] = value


def shared(value: Any) -> bool:
    """Whether ``value`` was marked with :func:`share`."""
    return bool(_SHARED) and _SHARED.get(id(value)) is value


def validate(node: Node, value: Any, path: FieldPath = ()) -> Iterator[Issue]:
    """Every issue of ``value`` against ``node``, depth first in document order."""
    if not shared(value):
        yield from _validate(node, value, path)
        return
    key = (id(node), id(value))
    found = _SHARED_ISSUES.get(key)
    if found is None or found[0] is not node:
        found = (node, list(_validate(node, value, ())))
        _SHARED_ISSUES[key] = found
    for issue in found[1]:
        yield replace(issue, path=(*path, *issue.path)) if path else issue


def _validate(node: Node, value: Any, path: FieldPath) -> Iterator[Issue]:
    """Every issue of ``value`` against ``node``, depth first in document order."""
    node = node.resolved()
    if not _type_ok(node.types, value):
        yield Issue(IssueKind.TYPE, path, json_type(value), tuple(sorted(node.types - {"null"})))
        return
    if node.enum is not None and value is not None and not _in_enum(value, node.enum):
        allowed = [str(v) for v in node.enum if v not in ("", None)]
        yield Issue(IssueKind.ENUM, path, str(value), tuple(allowed), _suggest(str(value), allowed))
        return
    if isinstance(value, dict):
        yield from _validate_object(node, value, path)
    elif isinstance(value, list) and node.items is not None:
        for index, item in enumerate(value):
            yield from validate(node.items, item, (*path, index))


def _in_enum(value: Any, allowed: tuple[Any, ...]) -> bool:
    """Enum membership as JSON sees it: ``true`` is not ``1``."""
    return any(v == value and isinstance(v, bool) == isinstance(value, bool) for v in allowed)


def _validate_object(node: Node, value: dict[str, Any], path: FieldPath) -> Iterator[Issue]:
    properties = node.properties or {}
    nulls = _handled_nulls(node, value) if None in value.values() else {}
    for name in node.required:
        if name not in value or nulls.get(name) == "prune":
            yield Issue(IssueKind.REQUIRED, (*path, name), name)
    for key, item in value.items():
        child = properties.get(key)
        if key in nulls:
            continue
        if child is not None:
            yield from validate(child, item, (*path, key))
        elif isinstance(node.additional, Node):
            yield from validate(node.additional, item, (*path, key))
        elif node.additional is False:
            yield Issue(
                IssueKind.UNKNOWN_FIELD,
                (*path, key),
                key,
                suggestion=_suggest(key, list(properties)),
            )


def _handled_nulls(node: Node, value: dict[str, Any]) -> dict[str, str]:
    """The null fields of a custom resource the API server prunes or defaults, by name.

    apiextensions-apiserver runs ``PruneNonNullableNullsWithoutDefaults`` (schema/defaulting/
    prunenulls.go) before validating: a null under a property (or ``additionalProperties``)
    whose schema is not ``nullable: true`` is deleted, or set to its ``default``. The CRD
    docs ("Defaulting and Nullable"): null values for fields that don't specify the nullable
    flag, or give it a false value, will be pruned before defaulting happens.
    """
    properties = node.properties or {}
    result: dict[str, str] = {}
    for key, item in value.items():
        if item is not None:
            continue
        child = properties.get(key)
        if child is None and isinstance(node.additional, Node):
            child = node.additional
        if child is not None and child.on_null:
            result[key] = child.on_null
    return result


def _suggest(word: str, candidates: list[str]) -> str | None:
    """The likely intended spelling: a case-insensitive match, else the closest name."""
    import difflib

    lowered = word.lower()
    for candidate in candidates:
        if candidate.lower() == lowered:
            return candidate
    close = difflib.get_close_matches(word, candidates, n=1, cutoff=0.75)
    return close[0] if close else None


# --- the bundled built-in schemas -------------------------------------------------------


def _read_gzip_json(name: str) -> Any:
    """A bundled file's JSON, through a ``marshal`` copy in the user's cache directory.

    Decompressing and decoding the shared definitions costs ~8 ms on every run that checks
    a schema; the copy loads in under one. It lives next to the catalogue index
    (:mod:`klint.user_cache`: only a 0600 file of the user's is read), is keyed by klint's
    version and the bundled file's path, size and mtime, and holds plain values only
    (nothing that runs code); a missing, stale or unreadable copy means reading the bundle.
    """
    import hashlib
    import marshal
    import os

    from klint import __version__
    from klint.user_cache import cache_file, read_private, write_private

    path = data_path("schemas", "kubernetes", name)
    copy = None
    try:
        info = os.stat(path)
        key = f"{__version__}|{path}|{info.st_size}|{info.st_mtime_ns}"
        digest = hashlib.sha256(key.encode(errors="surrogatepass")).hexdigest()[:24]
        stem = name.split(".json", 1)[0].replace(".", "_")  # one family per bundled file
        copy = cache_file(f"schema-{stem}-{digest}.marshal")
        data = read_private(copy)
        cached = marshal.loads(data) if data is not None else None
        if isinstance(cached, dict):  # every bundled file is one JSON object
            return cached
    except (OSError, EOFError, ValueError, TypeError):
        pass
    import gzip

    with gzip.open(path, "rt", encoding="utf-8") as handle:
        loaded = json.load(handle)
    write_private(copy, lambda: marshal.dumps(loaded))
    return loaded


@cache
def bundled_versions() -> tuple[tuple[int, int], ...]:
    """The Kubernetes minor versions in the bundle, oldest first."""
    versions = []
    for path in data_path("schemas", "kubernetes").glob("v*.json.gz"):
        major, _, minor = path.name[1:].removesuffix(".json.gz").partition(".")
        versions.append((int(major), int(minor)))
    return tuple(sorted(versions))


def schemas_cover(wanted: tuple[int, int]) -> bool:
    """Whether the bundle can check ``wanted``: not older than its oldest release.

    A newer version is checked against the newest bundled release; an older one is not
    checked at all (its API differs: kinds it serves would be called unserved).
    """
    return wanted >= bundled_versions()[0]


def pick_version(wanted: tuple[int, int]) -> tuple[int, int]:
    """The bundled version to validate against: ``wanted``, else the nearest older one."""
    versions = bundled_versions()
    older = [v for v in versions if v <= wanted]
    return older[-1] if older else versions[0]


@cache
def _shared_definitions() -> dict[str, str]:
    """Content hash → JSON text of one definition (parsed only when compiled)."""
    loaded: dict[str, str] = _read_gzip_json("definitions.json.gz")
    return loaded


class BuiltinSchemas:
    """The built-in kinds of one Kubernetes version; definitions compile on demand."""

    def __init__(self, version: tuple[int, int]) -> None:
        self.version = version
        index = _read_gzip_json(f"v{version[0]}.{version[1]}.json.gz")
        self._names: dict[str, str] = index["definitions"]
        self.kinds: dict[str, dict[str, str]] = index["kinds"]
        self._compiled: dict[str, Node] = {}
        self.groups = frozenset(api.rpartition("/")[0] for api in self.kinds)

    def node_for(self, api_version: str, kind: str) -> Node | None:
        """The compiled schema of a built-in kind, or None when this version lacks it."""
        name = self.kinds.get(api_version, {}).get(kind)
        return self.definition(name) if name is not None else None

    def definition(self, name: str) -> Node:
        """A definition by name, compiled once (references stay lazy)."""
        node = self._compiled.get(name)
        if node is None:
            node = Node()
            self._compiled[name] = node  # placed first: definitions may be recursive
            digest = self._names.get(name)
            if digest is not None:
                _fill(node, json.loads(_shared_definitions()[digest]), self)
        return node

    def kinds_named(self, kind: str) -> list[str]:
        """API versions that serve ``kind`` in this version."""
        return sorted(api for api, kinds in self.kinds.items() if kind in kinds)


def _fill(node: Node, schema: Mapping[str, Any], builtin: BuiltinSchemas) -> None:
    compiled = _compile_builtin(schema, builtin)
    node.__dict__.update(compiled.__dict__)


def _compile_builtin(schema: Mapping[str, Any], builtin: BuiltinSchemas) -> Node:
    ref = schema.get("$ref")
    if isinstance(ref, str):
        name = ref
        return Node(ref=lambda: builtin.definition(name))
    types = schema.get("type")
    node = Node(types=frozenset(types if isinstance(types, list) else [types] if types else []))
    if "properties" in schema:
        node.properties = {
            key: _compile_builtin(sub, builtin) for key, sub in schema["properties"].items()
        }
    additional = schema.get("additionalProperties")
    if isinstance(additional, dict):
        node.additional = _compile_builtin(additional, builtin)
    elif additional is False:
        node.additional = False
    if isinstance(schema.get("items"), dict):
        node.items = _compile_builtin(schema["items"], builtin)
    node.required = tuple(schema.get("required", ()))
    if "enum" in schema:
        node.enum = tuple(schema["enum"])
    return node


@cache
def builtin_schemas(version: tuple[int, int]) -> BuiltinSchemas:
    """The (cached) built-in schemas of a bundled version."""
    return BuiltinSchemas(version)


# --- CustomResourceDefinition schemas ----------------------------------------------------


def _crd_key(schema: Mapping[str, Any], open_all: bool, version: tuple[int, int]) -> str:
    import hashlib

    text = json.dumps(schema, sort_keys=True, default=str)
    return hashlib.sha256(f"{open_all}|{version}|{text}".encode()).hexdigest()


_CRD_CACHE: dict[str, Node] = {}


def compile_crd_schema(
    schema: Mapping[str, Any], builtin: BuiltinSchemas, *, open_all: bool = False
) -> Node:
    """Compile a CRD ``openAPIV3Schema`` (structural schema semantics), cached by content.

    Objects with ``properties`` are closed: the API server prunes unknown fields unless
    ``x-kubernetes-preserve-unknown-fields`` is set (``open_all`` for v1beta1 CRDs with
    ``preserveUnknownFields: true``). ``nullable``, ``x-kubernetes-int-or-string`` and
    ``x-kubernetes-embedded-resource`` are honoured; ``metadata`` at the root is ObjectMeta.
    """
    key = _crd_key(schema, open_all, builtin.version)
    node = _CRD_CACHE.get(key)
    if node is None:
        node = _compile_crd(schema, open_all)
        node.types = frozenset({"object"})
        node.properties = dict(node.properties or {})
        node.properties.setdefault("apiVersion", Node(types=frozenset({"string"})))
        node.properties.setdefault("kind", Node(types=frozenset({"string"})))
        node.properties["metadata"] = builtin.definition(
            "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
        )
        if len(_CRD_CACHE) > 512:
            _CRD_CACHE.clear()
        _CRD_CACHE[key] = node
    return node


def _compile_crd(schema: Any, open_all: bool) -> Node:
    if not isinstance(schema, Mapping):
        return OPEN
    nullable = schema.get("nullable") is True
    declared = schema.get("type")
    types: set[str] = set()
    if schema.get("x-kubernetes-int-or-string") is True:
        types = {"integer", "string"}
    elif isinstance(declared, str) and declared:
        types = {declared}
    if types and nullable:
        types.add("null")
    node = Node(types=frozenset(types))
    if not nullable:
        node.on_null = "default" if "default" in schema else "prune"
    properties = schema.get("properties")
    preserve = schema.get("x-kubernetes-preserve-unknown-fields") is True
    if isinstance(properties, Mapping):
        node.properties = {
            str(name): _compile_crd(sub, open_all) for name, sub in properties.items()
        }
        if schema.get("x-kubernetes-embedded-resource") is True:
            for name in ("apiVersion", "kind", "metadata"):
                node.properties.setdefault(name, OPEN)
    additional = schema.get("additionalProperties")
    if isinstance(additional, Mapping):
        node.additional = _compile_crd(additional, open_all)
    elif additional is False or (
        additional is None and node.properties is not None and not preserve and not open_all
    ):
        node.additional = False
    items = schema.get("items")
    if isinstance(items, Mapping):
        node.items = _compile_crd(items, open_all)
    required = schema.get("required")
    if isinstance(required, list):
        node.required = tuple(str(name) for name in required)
    values = schema.get("enum")
    if isinstance(values, list) and values:
        node.enum = (*values, None) if nullable else tuple(values)
    return node

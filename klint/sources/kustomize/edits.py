"""One applied patch, image or setting as an edit that can claim a field of a built object."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from klint.documents import Document
from klint.sources.kustomize.patches import (
    Hit,
    PatchSource,
)
from klint.sources.kustomize.paths import (
    child_of,
    list_item,
    merge_key,
    translate_path,
    value_at,
)

_IDENTITY = (("kind",), ("apiVersion",), ("metadata", "name"), ("metadata", "namespace"))


@dataclass(frozen=True)
class Query:
    """A field of a built object, as a :class:`Edit` needs to see it."""

    data: Mapping[str, Any]
    path: tuple[str | int, ...]
    depth: int  # how many steps of ``path`` exist in ``data``
    atomic: bool  # the value at path[:depth] is replaced, not merged, by a patch
    origin: Any  # the object as declared in its origin file (None if unknown)
    origin_has: bool  # the origin declares path[:depth]
    declared_value: Any  # the value at ``path`` in the origin (None if it is not there)


class Edit(Protocol):
    def claim(self, query: Query) -> Hit | None:
        """Where this edit set the queried field, or None if it did not."""
        ...


@dataclass(frozen=True, eq=False)
class SmpEdit:
    """A strategic-merge patch document applied to the object."""

    source: PatchSource
    document: Document

    def claim(self, query: Query) -> Hit | None:
        if query.path[:2] in _IDENTITY:
            return None  # a patch names its target; it does not set these
        target = query.path[: query.depth]
        translated, complete = translate_path(query.data, self.document.data, target)
        if complete and (query.atomic or not query.origin_has):
            return self.source.span(self.document, translated)
        return None


@dataclass(frozen=True, eq=False)
class JsonEdit:
    """One JSON6902 operation applied to the object."""

    source: PatchSource
    document: Document
    index: int
    operation: str
    tokens: tuple[str, ...]
    value: Any

    def claim(self, query: Query) -> Hit | None:
        if self.operation not in ("add", "replace", "copy", "move"):
            return None
        if len(self.tokens) > query.depth:
            return None
        node: Any = query.data
        origin: Any = query.origin
        last = len(self.tokens) - 1
        for number, (token, step) in enumerate(zip(self.tokens, query.path, strict=False)):
            if isinstance(step, int):
                inserted = number == last and self.operation == "add"
                if not _index_matches(token, step, node, origin, self.value, inserted):
                    return None
                origin = list_item(origin, int(token)) if token.isdigit() else None
            else:
                if token != step:
                    return None
                origin = origin.get(step) if isinstance(origin, dict) else None
            node = child_of(node, step)
        if self.operation in ("copy", "move"):
            return self.source.span(self.document, (self.index, "path"))
        rest = query.path[len(self.tokens) : query.depth]
        translated, _ = translate_path(node, self.value, rest)
        return self.source.span(self.document, (self.index, "value", *translated))


def _index_matches(
    token: str, step: int, built: Any, origin: Any, value: Any, inserted: bool
) -> bool:
    """Whether JSON pointer token ``token`` addressed the built list item ``step``.

    Indexes in a patch refer to the list when the patch ran; later patches may reorder it,
    so items with a merge key (``name`` ...) are compared through the declared list. An
    ``add`` that ends at an index inserts its value there: that item is the one it made.
    """
    element = list_item(built, step)
    if token == "-" or inserted:
        return element is not None and _same_item(element, value)
    if not token.isdigit():
        return False
    declared = list_item(origin, int(token))
    key = merge_key(element)
    if key is not None and isinstance(declared, dict) and key in declared:
        return bool(declared[key] == element[key])
    return int(token) == step


def _same_item(element: Any, value: Any) -> bool:
    key = merge_key(element)
    if key is not None and isinstance(value, dict):
        return bool(value.get(key) == element[key])
    return bool(element == value)


@dataclass(frozen=True, eq=False)
class ImageEdit:
    """An ``images:`` entry (or an ImageTagTransformer's ``imageTag``)."""

    source: PatchSource
    document: Document
    where: tuple[str | int, ...]  # the entry in the document
    entry: Mapping[str, Any]

    def claim(self, query: Query) -> Hit | None:
        path = query.path
        if (
            query.depth != len(path)
            or len(path) < 3
            or path[-1] != "image"
            or path[-3] not in ("containers", "initContainers", "ephemeralContainers")
        ):
            return None
        repositories = {
            _repository(value_at(query.data, path)),
            _repository(query.declared_value),
        } - {None}
        if not {self.entry.get("name"), self.entry.get("newName")} & repositories:
            return None
        for key in ("newTag", "digest", "newName", "name"):
            if key in self.entry:
                return self.source.span(self.document, (*self.where, key))
        return None


def _repository(image: Any) -> str | None:
    if not isinstance(image, str):
        return None
    image = image.split("@", 1)[0]
    slash = image.rfind("/")
    colon = image.rfind(":")
    return str(image[:colon] if colon > slash else image)


@dataclass(frozen=True, eq=False)
class KeyEdit:
    """A kustomization field that sets object fields: namespace, replicas, labels ..."""

    source: PatchSource
    document: Document
    where: tuple[str | int, ...]  # the setting in the document
    paths: tuple[tuple[str | int, ...], ...]  # object fields it sets (see :func:`_matches`)

    def claim(self, query: Query) -> Hit | None:
        if query.depth != len(query.path):
            return None
        for pattern in self.paths:
            if _matches(pattern, query.path):
                return self.source.span(self.document, self.where)
        return None


def _matches(pattern: tuple[str | int, ...], path: tuple[str | int, ...]) -> bool:
    """A leading ``*`` matches any prefix, ``#`` any list index."""
    if pattern and pattern[0] == "*":
        pattern = pattern[1:]
        path = path[len(path) - len(pattern) :] if len(path) >= len(pattern) else ()
    return len(pattern) == len(path) and all(
        want == got or (want == "#" and isinstance(got, int))
        for want, got in zip(pattern, path, strict=True)
    )

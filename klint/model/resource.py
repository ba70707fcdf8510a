"""A Kubernetes object found in a document, with the path of its root inside that document."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from klint.documents import Document
from klint.findings import FieldPath, ObjectRef


@dataclass(frozen=True)
class Resource:
    """One object: its raw mapping, the document it sits in and where in that document."""

    data: dict[str, Any]
    document: Document
    base: FieldPath = ()
    # Read by nearly every check (111 rules x 50,000 objects): computed once per object.
    api_version: str = field(init=False, repr=False, compare=False)
    kind: str = field(init=False, repr=False, compare=False)
    group: str = field(init=False, repr=False, compare=False)  # "" for the core group

    def __post_init__(self) -> None:
        api_version = _text(self.data.get("apiVersion"))
        object.__setattr__(self, "api_version", api_version)
        object.__setattr__(self, "kind", _text(self.data.get("kind")))
        group = api_version.rpartition("/")[0] if "/" in api_version else ""
        object.__setattr__(self, "group", group)

    @property
    def metadata(self) -> dict[str, Any]:
        meta = self.data.get("metadata")
        return meta if isinstance(meta, dict) else {}

    @property
    def name(self) -> str:
        return _text(self.metadata.get("name")) or _text(self.metadata.get("generateName"))

    @property
    def namespace(self) -> str:
        return _text(self.metadata.get("namespace"))

    @property
    def labels(self) -> dict[str, str]:
        return _string_map(self.metadata.get("labels"))

    @property
    def annotations(self) -> dict[str, str]:
        return _string_map(self.metadata.get("annotations"))

    @property
    def ref(self) -> ObjectRef:
        return ObjectRef(self.api_version, self.kind, self.namespace, self.name)

    def get(self, *path: str | int) -> Any:
        """The value at ``path`` inside the object, or None when any step is missing."""
        return dig(self.data, path)


def dig(value: Any, path: FieldPath) -> Any:
    """Follow ``path`` through nested mappings and lists; None when a step is missing."""
    for part in path:
        if isinstance(part, str) and isinstance(value, dict):
            value = value.get(part)
        elif isinstance(part, int) and isinstance(value, list) and 0 <= part < len(value):
            value = value[part]
        else:
            return None
    return value


def resources_from_document(document: Document) -> Iterator[Resource]:
    """Kubernetes objects in a document: the object itself, or each item of a ``*List``."""
    data = document.data
    if not isinstance(data, dict) or "apiVersion" not in data or "kind" not in data:
        return
    kind = data.get("kind")
    items = data.get("items")
    if isinstance(kind, str) and kind.endswith("List") and isinstance(items, list):
        for index, item in enumerate(items):
            if isinstance(item, dict) and "kind" in item:
                yield Resource(item, document, ("items", index))
        return
    yield Resource(data, document)


def _text(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)


def _string_map(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        return {}
    return {str(k): _text(v) for k, v in value.items()}

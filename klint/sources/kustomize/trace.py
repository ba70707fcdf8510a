"""Each built object with its declaring document and the edits kustomize applied to it."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from klint.documents import Document, ParsedStream
from klint.sources.kustomize.edits import Edit
from klint.sources.kustomize.files import (
    Kustomization,
    as_mapping,
    join_entry,
    read_shared_stream,
)
from klint.sources.kustomize.paths import (
    value_at,
)
from klint.sources.kustomize.replay import (
    Namespace,
    Other,
    Rename,
    Replay,
    Replicas,
    generated_key,
)
from klint.sources.kustomize.selection import patch_kustomizations, select_edits
from klint.sources.kustomize.tree import Tree

_HASH_SUFFIX = re.compile(r"-[a-z0-9]{10}$")


@dataclass(frozen=True)
class BuiltObject:
    """One rendered object and where it came from.

    ``origin_file`` is the absolute path of the file that declared the object (for a
    generated object, the kustomization holding the generator); ``patch_files`` the patch
    files (not inline patches) that were applied to it, in order.
    """

    kind: str
    name: str
    namespace: str
    origin_file: Path | None
    patch_files: tuple[Path, ...] = ()
    generated: bool = False
    api_version: str = ""
    data: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False, repr=False)
    trace: Trace | None = field(default=None, compare=False, hash=False, repr=False)


@dataclass
class BuildContext:
    """What every object of one build shares: the replayed tree and parsed files."""

    build_dir: Path
    tree: Tree
    replay: Replay = field(init=False)
    streams: dict[str, ParsedStream | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.replay = Replay(self.tree, self.build_dir)

    def stream(self, path: Path) -> ParsedStream | None:
        key = str(path)
        if key not in self.streams:
            self.streams[key] = read_shared_stream(path, self.tree.root)  # origins name files
        return self.streams[key]

    def root_file(self) -> Path | None:
        kustomization = self.tree.kustomizations.get(str(self.build_dir))
        return kustomization.file if kustomization is not None else None

    def describe_safely(self, data: Any, origin: Any, transformations: Any) -> BuiltObject:
        """:meth:`describe`; an unexpected tree keeps the object, with its origin file only."""
        try:
            return self.describe(data, origin, transformations)
        except Exception:  # a bad tree must not lose the object
            data = data if isinstance(data, dict) else {}
            metadata = as_mapping(data.get("metadata"))
            origin = as_mapping(origin)
            where = origin.get("path") or origin.get("configuredIn")
            return BuiltObject(
                str(data.get("kind") or ""),
                str(metadata.get("name") or ""),
                str(metadata.get("namespace") or ""),
                Path(join_entry(str(self.build_dir), where)) if isinstance(where, str) else None,
                generated="path" not in origin and "configuredIn" in origin,
                api_version=str(data.get("apiVersion") or ""),
                data=data,
            )

    def describe(self, data: Any, origin: Any, transformations: Any) -> BuiltObject:
        """A :class:`BuiltObject` for one rendered document."""
        data = data if isinstance(data, dict) else {}
        metadata = as_mapping(data.get("metadata"))
        kind = str(data.get("kind") or "")
        name = str(metadata.get("name") or "")
        namespace = str(metadata.get("namespace") or "")
        api_version = str(data.get("apiVersion") or "")
        origin = origin if isinstance(origin, dict) else {}
        generated = "configuredIn" in origin and "path" not in origin
        origin_file: Path | None = None
        source_key: str | None = None
        generator: tuple[Kustomization, str, int] | None = None
        if isinstance(origin.get("repo"), str):
            origin_file = self.root_file()
        elif isinstance(origin.get("path"), str):
            origin_file = Path(join_entry(str(self.build_dir), origin["path"]))
            source_key = str(origin_file)
        elif isinstance(origin.get("configuredIn"), str):
            origin_file = Path(join_entry(str(self.build_dir), origin["configuredIn"]))
            source_key, generator = self._generator(origin_file, kind, name)
        trace = Trace(self, kind, name, namespace, api_version, origin_file, generator)
        instance = self._instance(source_key, trace) if source_key is not None else None
        edits, patch_files = self._edits(trace, instance, data, transformations)
        trace.edits = tuple(edits)
        return BuiltObject(
            kind,
            name,
            namespace,
            origin_file,
            tuple(patch_files),
            generated,
            api_version,
            data,
            trace,
        )

    def _generator(
        self, kfile: Path, kind: str, name: str
    ) -> tuple[str | None, tuple[Kustomization, str, int] | None]:
        """The generator entry that made ``name`` (prefixes, suffixes and hash included)."""
        prefix = generated_key(kfile, kind, "")
        unhashed = _HASH_SUFFIX.sub("", name)
        best: tuple[int, str] | None = None
        for key in self.replay.generators:
            if not key.startswith(prefix):
                continue
            base = key[len(prefix) :]
            for instance in self.replay.instances.get(key, [key]):
                before, after = self._affixes(instance)
                if before + base + after in (name, unhashed):
                    return key, self.replay.generators[key]
            if base in name and (best is None or len(base) > best[0]):
                best = (len(base), key)
        if best is not None:
            return best[1], self.replay.generators[best[1]]
        return None, None

    def _affixes(self, instance: str) -> tuple[str, str]:
        """The name prefix and suffix that kustomize added to objects reached as ``instance``."""
        prefix = suffix = ""
        for event in self.replay.events_for(instance):
            if isinstance(event, Rename):
                prefix, suffix = event.prefix + prefix, suffix + event.suffix
        return prefix, suffix

    def _instance(self, key: str, trace: Trace) -> str:
        """Which path through the tree made this object (a base reached twice makes two).

        Each path adds its own name prefixes and suffixes; the one whose affixes turn a
        declared name into the built name is the object's. With one path, that one.
        """
        instances = self.replay.instances.get(key)
        if not instances:
            return key
        if len(instances) == 1:
            return instances[0]
        names = {trace.name, _HASH_SUFFIX.sub("", trace.name)}
        declared = self._declared_names(trace)
        for instance in instances:
            prefix, suffix = self._affixes(instance)
            for name in names:
                stem = name[len(prefix) : len(name) - len(suffix)]
                if name.startswith(prefix) and name.endswith(suffix) and stem in declared:
                    return instance
        return instances[0]

    def _declared_names(self, trace: Trace) -> set[str]:
        """Names the object may have been declared with (generator entry or origin file)."""
        if trace.generator is not None:
            kustomization, field_name, index = trace.generator
            return {str(kustomization.data[field_name][index].get("name", ""))}
        stream = self.stream(trace.origin_file) if trace.origin_file is not None else None
        names: set[str] = set()
        for document in stream.documents if stream is not None else []:
            data = document.data
            if not isinstance(data, dict):
                continue
            items = data.get("items") if str(data.get("kind", "")).endswith("List") else None
            for item in items if isinstance(items, list) else [data]:
                if isinstance(item, dict) and item.get("kind") == trace.kind:
                    names.add(_name_of(item))
        return names

    def _edits(
        self, trace: Trace, key: str | None, data: Mapping[str, Any], transformations: Any
    ) -> tuple[list[Edit], list[Path]]:
        """The edits that apply to the object, in the order kustomize made them."""
        if key is None:
            return [], []
        declared = trace.declared_name(*self._affixes(key))
        names = [declared] if declared else []
        if not names or (trace.generator is None and trace.origin() is None):
            names.append(trace.name)
        namespaces = {"", "default", trace.namespace}
        origin = trace.origin()
        if origin is not None:
            metadata = origin[0].data
            namespaces.add(str(value_at(metadata, (*origin[1], "metadata", "namespace")) or ""))
        ran = patch_kustomizations(transformations, self.build_dir)
        edits: list[Edit] = []
        files: list[Path] = []
        for event in self.replay.events_for(key):
            if isinstance(event, Rename):
                if names:
                    names.append(event.prefix + names[-1] + event.suffix)
            elif isinstance(event, Namespace):
                namespaces.add(event.value)
                edits.append(event.edit)
            elif isinstance(event, Replicas):
                if event.name in names:
                    edits.append(event.edit)
            elif isinstance(event, Other):
                edits.append(event.edit)
            elif ran is None or event.kustomization in ran:
                matched = select_edits(
                    event, trace.kind, trace.api_version, names, namespaces, data
                )
                if not matched and trace.declared_kind() not in ("", trace.kind):
                    # the patch that changed the kind targets the declared kind
                    matched = select_edits(
                        event, trace.declared_kind(), trace.api_version, names, namespaces, data
                    )
                edits.extend(matched)
                if matched and event.source.is_file and event.source.file not in files:
                    files.append(event.source.file)
        trace.names = tuple(names)
        return edits, files


class Trace:
    """How to locate fields of one built object: its origin and the edits applied to it."""

    def __init__(
        self,
        context: BuildContext,
        kind: str,
        name: str,
        namespace: str,
        api_version: str,
        origin_file: Path | None,
        generator: tuple[Kustomization, str, int] | None,
    ) -> None:
        self.context = context
        self.kind = kind
        self.name = name
        self.namespace = namespace
        self.api_version = api_version
        self.origin_file = origin_file
        self.generator = generator
        self.edits: tuple[Edit, ...] = ()
        self.names: tuple[str, ...] = (name,)
        self._origin: tuple[Document, tuple[str | int, ...]] | None = None
        self._origin_searched = False
        self._hint = ""

    def declared_name(self, prefix: str, suffix: str) -> str:
        """The object's name where it was declared (kustomize added ``prefix``/``suffix``)."""
        if self.generator is not None:
            kustomization, field_name, index = self.generator
            entry = kustomization.data[field_name][index]
            return str(entry.get("name", ""))
        if (
            self.name.startswith(prefix)
            and self.name.endswith(suffix)
            and len(self.name) > len(prefix) + len(suffix)
        ):
            self._hint = self.name[len(prefix) : len(self.name) - len(suffix)]
        found = self.origin()
        if found is None:
            return ""
        return str(value_at(found[0].data, (*found[1], "metadata", "name")) or "")

    def declared_kind(self) -> str:
        """The kind the object was declared with (a patch may have changed it)."""
        found = self.origin()
        if found is None:
            return ""
        return str(value_at(found[0].data, (*found[1], "kind")) or "")

    def origin(self) -> tuple[Document, tuple[str | int, ...]] | None:
        """The declaring document (and the path of the object inside it, for ``List`` kinds)."""
        if self._origin_searched:
            return self._origin
        self._origin_searched = True
        if self.origin_file is None or self.generator is not None:
            return None
        stream = self.context.stream(self.origin_file)
        if stream is None:
            return None
        candidates: list[tuple[Document, tuple[str | int, ...], str]] = []
        for document in stream.documents:
            data = document.data
            if not isinstance(data, dict):
                continue
            if str(data.get("kind", "")).endswith("List") and isinstance(data.get("items"), list):
                for index, item in enumerate(data["items"]):
                    if isinstance(item, dict) and item.get("kind") == self.kind:
                        candidates.append((document, ("items", index), _name_of(item)))
            elif data.get("kind") == self.kind:
                candidates.append((document, (), _name_of(data)))
        if not candidates:
            # a JSON 6902 patch may have changed the kind (ClusterRole → Role): the object
            # declared under the same name, of whatever kind, is the one
            candidates = [
                (document, (), _name_of(document.data))
                for document in stream.documents
                if isinstance(document.data, dict)
                and _name_of(document.data) in (self._hint or self.name, self.name)
            ]
        for wanted in (self._hint or self.name, self.name):
            for document, base, name in candidates:
                if name == wanted:
                    self._origin = (document, base)
                    return self._origin
        partial = [item for item in candidates if item[2] and item[2] in self.name]
        if partial:
            document, base, _ = max(partial, key=lambda item: len(item[2]))
            self._origin = (document, base)
        elif len(candidates) == 1:
            self._origin = (candidates[0][0], candidates[0][1])
        return self._origin


def _name_of(data: Mapping[str, Any]) -> str:
    metadata = data.get("metadata")
    return str(metadata.get("name") or "") if isinstance(metadata, dict) else ""

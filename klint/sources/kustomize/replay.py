"""Replay of the order in which kustomize runs patches and field-setting transformers."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from klint.documents import Document
from klint.sources.kustomize.edits import Edit, ImageEdit, KeyEdit
from klint.sources.kustomize.files import (
    Kustomization,
    as_mapping,
    as_strings,
    indexed_dicts,
    is_inline,
    join_entry,
)
from klint.sources.kustomize.patches import (
    PatchSource,
    file_patch,
    inline_patch,
    nested_patch,
    own_source,
)
from klint.sources.kustomize.tree import Tree


@dataclass(frozen=True, eq=False)
class Rename:
    prefix: str
    suffix: str
    scope: frozenset[str]


@dataclass(frozen=True, eq=False)
class Namespace:
    value: str
    edit: KeyEdit
    scope: frozenset[str]


@dataclass(frozen=True, eq=False)
class Patch:
    source: PatchSource
    target: Mapping[str, Any] | None
    kustomization: str
    scope: frozenset[str]


@dataclass(frozen=True, eq=False)
class Replicas:
    name: str
    edit: KeyEdit
    scope: frozenset[str]


@dataclass(frozen=True, eq=False)
class Other:
    edit: Edit
    scope: frozenset[str]


Event = Rename | Namespace | Patch | Replicas | Other


MAX_WALKS = 100_000
"""Kustomization visits replayed per build; beyond, patches are not traced (fields still map)."""


def generated_key(kustomization_file: Path, kind: str, name: str) -> str:
    return f"generated:{kustomization_file}:{kind}:{name}"


class Replay:
    """The order in which kustomize applies transformers, with the sources each one sees."""

    def __init__(self, tree: Tree, build_dir: Path) -> None:
        self.tree = tree
        self.events: list[Event] = []
        self.generators: dict[str, tuple[Kustomization, str, int]] = {}
        self.instances: dict[str, list[str]] = {}
        """Each resource file or generator → one key per path the build reached it by."""
        self.truncated = False
        self._walks = 0
        self._patches: dict[tuple[str, Any], PatchSource | None] = {}
        self._walk(str(build_dir), [], ())
        self._by_instance: dict[str, list[Event]] = {}
        for event in self.events:
            for instance in event.scope:
                self._by_instance.setdefault(instance, []).append(event)

    def events_for(self, instance: str) -> list[Event]:
        """The events whose scope holds ``instance``, in the order kustomize ran them."""
        return self._by_instance.get(instance, [])

    def _instance(self, key: str) -> str:
        """A new key for one more path by which the build reaches ``key``."""
        seen = self.instances.setdefault(key, [])
        seen.append(f"{key}#{len(seen)}")
        return seen[-1]

    def _walk(self, directory: str, accumulated: list[str], stack: tuple[str, ...]) -> None:
        kustomization = self.tree.kustomizations.get(directory)
        if kustomization is None or directory in stack:
            return
        self._walks += 1
        if self._walks > MAX_WALKS:
            self.truncated = True  # fields then map to their declaring files only
            return
        stack = (*stack, directory)
        data = kustomization.data
        for entry in [*as_strings(data.get("resources")), *as_strings(data.get("bases"))]:
            target = join_entry(directory, entry)
            if os.path.isfile(target):
                accumulated.append(self._instance(target))
            elif os.path.isdir(target):
                below: list[str] = []
                self._walk(target, below, stack)
                accumulated.extend(below)
        for entry in as_strings(data.get("components")):
            self._walk(join_entry(directory, entry), accumulated, stack)
        for kind, name in (("ConfigMap", "configMapGenerator"), ("Secret", "secretGenerator")):
            for index, item in indexed_dicts(data.get(name)):
                if isinstance(item.get("name"), str):
                    key = generated_key(kustomization.file, kind, item["name"])
                    accumulated.append(self._instance(key))
                    self.generators[key] = (kustomization, name, index)
        self._transformers(kustomization, frozenset(accumulated))

    def _file_patch(self, path: str) -> PatchSource | None:
        """A patch file, parsed once however many paths reach its kustomization."""
        key = ("file", path)
        if key not in self._patches:
            self._patches[key] = file_patch(path)
        return self._patches[key]

    def _inline_patch(
        self, kustomization: Kustomization, path: tuple[str | int, ...], text: str
    ) -> PatchSource:
        key = ("inline", (str(kustomization.file), path))
        found = self._patches.get(key)
        if found is None:
            found = self._patches[key] = inline_patch(kustomization, path, text)
        return found

    def _own_source(self, kustomization: Kustomization) -> PatchSource | None:
        key = ("own", str(kustomization.file))
        if key not in self._patches:
            self._patches[key] = own_source(kustomization)
        return self._patches[key]

    def _transformers(self, kustomization: Kustomization, scope: frozenset[str]) -> None:
        """Events for one kustomization, in kustomize's builtin transformer order."""
        data = kustomization.data
        directory = kustomization.directory
        kfile = str(kustomization.file)
        for index, entry in enumerate(as_strings(data.get("patchesStrategicMerge"))):
            if is_inline(entry):
                source: PatchSource | None = self._inline_patch(
                    kustomization, ("patchesStrategicMerge", index), entry
                )
            else:
                source = self._file_patch(join_entry(directory, entry))
            if source is not None:
                self.events.append(Patch(source, None, kfile, scope))
        for index, item in indexed_dicts(data.get("patches")):
            self._patch(kustomization, ("patches", index), item, "path", "patch", scope)
        own = self._own_source(kustomization)
        if own is not None:
            self._settings(own, own.documents[0], (), data, scope, kfile, ("namespace",))
        for index, item in indexed_dicts(data.get("patchesJson6902")):
            self._patch(kustomization, ("patchesJson6902", index), item, "path", "patch", scope)
        if own is not None:
            self._settings(own, own.documents[0], (), data, scope, kfile, ("replicas", "images"))
        # kustomize runs inline transformer configs first, then those in files.
        entries = list(enumerate(as_strings(data.get("transformers"))))
        for index, entry in [item for item in entries if is_inline(item[1])]:
            config = self._inline_patch(kustomization, ("transformers", index), entry)
            for document in config.documents:
                self._builtin(kustomization, config, document, scope)
        for _, entry in [item for item in entries if not is_inline(item[1])]:
            found = self._file_patch(join_entry(directory, entry))
            if found is None:
                continue
            for document in found.documents:
                self._builtin(kustomization, found, document, scope)

    def _settings(
        self,
        source: PatchSource,
        document: Document,
        where: tuple[str | int, ...],
        data: Mapping[str, Any],
        scope: frozenset[str],
        kfile: str,
        only: tuple[str, ...],
    ) -> None:
        """Events for the kustomization fields that set object fields, in kustomize's order."""
        if "namespace" in only:
            namespace = data.get("namespace")
            if isinstance(namespace, str) and namespace:
                edit = KeyEdit(source, document, (*where, "namespace"), NAMESPACE_PATHS)
                self.events.append(Namespace(namespace, edit, scope))
            prefix, suffix = data.get("namePrefix"), data.get("nameSuffix")
            if isinstance(prefix, str) or isinstance(suffix, str):
                self.events.append(
                    Rename(
                        prefix if isinstance(prefix, str) else "",
                        suffix if isinstance(suffix, str) else "",
                        scope,
                    )
                )
            for edit in _label_edits(source, document, where, data):
                self.events.append(Other(edit, scope))
        if "replicas" in only:
            for index, item in indexed_dicts(data.get("replicas")):
                if isinstance(item.get("name"), str) and "count" in item:
                    edit = KeyEdit(
                        source,
                        document,
                        (*where, "replicas", index, "count"),
                        (("spec", "replicas"),),
                    )
                    self.events.append(Replicas(item["name"], edit, scope))
        if "images" in only:
            for index, item in indexed_dicts(data.get("images")):
                image = ImageEdit(source, document, (*where, "images", index), item)
                self.events.append(Other(image, scope))

    def _builtin(
        self,
        kustomization: Kustomization,
        source: PatchSource,
        document: Document,
        scope: frozenset[str],
    ) -> None:
        """Events for a builtin transformer configured in a ``transformers:`` entry."""
        config = document.data
        if not isinstance(config, dict):
            return
        kind = config.get("kind")
        kfile = str(source.file)  # what kustomize records as configuredIn
        metadata = as_mapping(config.get("metadata"))
        if kind == "PatchTransformer":
            self._patch(kustomization, None, config, "path", "patch", scope, source, document)
        elif kind == "PatchJson6902Transformer":
            self._patch(kustomization, None, config, "path", "jsonOp", scope, source, document)
        elif kind == "PatchStrategicMergeTransformer":
            for entry in as_strings(config.get("paths")):
                patch = self._file_patch(join_entry(kustomization.directory, entry))
                if patch is not None:
                    self.events.append(Patch(patch, None, kfile, scope))
            if isinstance(config.get("patches"), str):
                self._patch(kustomization, None, config, "", "patches", scope, source, document)
        elif kind == "NamespaceTransformer" and isinstance(metadata.get("namespace"), str):
            edit = KeyEdit(source, document, ("metadata", "namespace"), NAMESPACE_PATHS)
            self.events.append(Namespace(metadata["namespace"], edit, scope))
        elif kind in ("PrefixSuffixTransformer", "PrefixTransformer", "SuffixTransformer"):
            prefix, suffix = config.get("prefix"), config.get("suffix")
            self.events.append(
                Rename(
                    prefix if isinstance(prefix, str) else "",
                    suffix if isinstance(suffix, str) else "",
                    scope,
                )
            )
        elif kind == "LabelTransformer" and isinstance(config.get("labels"), dict):
            for key in config["labels"]:
                edit = KeyEdit(source, document, ("labels", key), _label_paths(key))
                self.events.append(Other(edit, scope))
        elif kind == "AnnotationsTransformer" and isinstance(config.get("annotations"), dict):
            for key in config["annotations"]:
                edit = KeyEdit(source, document, ("annotations", key), (("*", "annotations", key),))
                self.events.append(Other(edit, scope))
        elif kind == "ImageTagTransformer" and isinstance(config.get("imageTag"), dict):
            image = ImageEdit(source, document, ("imageTag",), config["imageTag"])
            self.events.append(Other(image, scope))
        elif kind == "ReplicaCountTransformer":
            replica = as_mapping(config.get("replica"))
            if isinstance(replica.get("name"), str) and "count" in replica:
                edit = KeyEdit(source, document, ("replica", "count"), (("spec", "replicas"),))
                self.events.append(Replicas(replica["name"], edit, scope))

    def _patch(
        self,
        kustomization: Kustomization,
        where: tuple[str | int, ...] | None,
        item: Mapping[str, Any],
        path_key: str,
        patch_key: str,
        scope: frozenset[str],
        config: PatchSource | None = None,
        document: Document | None = None,
    ) -> None:
        """A patch given by a file path or inline text (in the kustomization or a config)."""
        source: PatchSource | None = None
        if path_key and isinstance(item.get(path_key), str):
            source = self._file_patch(join_entry(kustomization.directory, item[path_key]))
        elif isinstance(item.get(patch_key), str):
            text = item[patch_key]
            if where is not None:
                source = self._inline_patch(kustomization, (*where, patch_key), text)
            elif config is not None and document is not None:
                key = ("nested", (id(document), patch_key))
                source = self._patches.get(key)
                if source is None:
                    source = self._patches[key] = nested_patch(config, document, (patch_key,), text)
        target = item.get("target")
        configured_in = config.file if config is not None else kustomization.file
        if source is not None:
            self.events.append(
                Patch(
                    source, target if isinstance(target, dict) else None, str(configured_in), scope
                )
            )


NAMESPACE_PATHS: tuple[tuple[str | int, ...], ...] = (
    ("metadata", "namespace"),
    ("subjects", "#", "namespace"),
)


def _label_paths(key: str) -> tuple[tuple[str | int, ...], ...]:
    return tuple(("*", parent, key) for parent in ("labels", "matchLabels", "selector"))


def _label_edits(
    source: PatchSource, document: Document, where: tuple[str | int, ...], data: Mapping[str, Any]
) -> Iterator[KeyEdit]:
    """Edits for ``commonLabels``, ``labels`` and ``commonAnnotations``."""
    common = data.get("commonLabels")
    if isinstance(common, dict):
        for key in common:
            yield KeyEdit(source, document, (*where, "commonLabels", key), _label_paths(key))
    for index, item in indexed_dicts(data.get("labels")):
        pairs = item.get("pairs")
        if not isinstance(pairs, dict):
            continue
        for key in pairs:
            patterns: list[tuple[str | int, ...]] = [("metadata", "labels", key)]
            if item.get("includeTemplates"):
                patterns.append(("*", "metadata", "labels", key))
            if item.get("includeSelectors"):
                patterns += [
                    ("*", "matchLabels", key),
                    ("*", "selector", key),
                    ("*", "metadata", "labels", key),
                ]
            yield KeyEdit(
                source, document, (*where, "labels", index, "pairs", key), tuple(patterns)
            )
    annotations = data.get("commonAnnotations")
    if isinstance(annotations, dict):
        for key in annotations:
            yield KeyEdit(
                source, document, (*where, "commonAnnotations", key), (("*", "annotations", key),)
            )

"""Objects that builds delete (``$patch: delete``), found without building.

Every manifest file is linted through the builds that read it; an object that every one of
those builds deletes reaches no output, so it is linted from its own file instead (the other
objects of the file stay with the builds). A kustomization deletes an object with a
strategic-merge patch whose document carries ``$patch: delete``: a ``patchesStrategicMerge``
entry or a ``patches:`` entry, a file or an inline string; a ``patches:`` entry's ``target:``
names the object when it gives a kind and a plain name. A delete applies to what the
kustomization's own build reads (a Component's, to what the kustomizations including it
read). The scan is bounded: patch files over ``_PATCH_BYTES`` or that do not parse delete
nothing here (the build says what is wrong with them), and a resource file over
``_RESOURCE_BYTES`` keeps its deleted objects with the builds (unlinted, as before).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import yaml

from klint.sources.base import Picked, display_path
from klint.sources.confine import read_inside
from klint.sources.kustomize.files import (
    Kustomization,
    as_strings,
    indexed_dicts,
    is_inline,
    join_entry,
)
from klint.sources.kustomize.tree import Tree
from klint.sources.scans import once

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_PATCH_BYTES = 1024 * 1024
_RESOURCE_BYTES = 8 * 1024 * 1024  # a larger file keeps its deleted objects unlinted
_MAX_DOCUMENTS = 10_000
_ANY = "*"  # a target selector without a namespace selects every namespace
_TARGET_KEYS = frozenset({"group", "version", "kind", "name", "namespace"})
_PLAIN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]*")


@dataclass(frozen=True)
class Deletion:
    """An object a kustomization deletes (``namespace`` None: none given, which kustomize
    reads as ``default``; ``_ANY``: a ``target:`` selector that names none)."""

    kind: str
    name: str
    namespace: str | None
    by: str  # the kustomization file, absolute

    def matches(self, kind: str, name: str, namespace: str | None) -> bool:
        """As kustomize matches a patch: no namespace is the ``default`` namespace."""
        return (
            self.kind == kind
            and self.name == name
            and (
                self.namespace == _ANY or (self.namespace or "default") == (namespace or "default")
            )
        )


def deletions(kustomization: Kustomization, root: Path) -> tuple[Deletion, ...]:
    """The objects ``kustomization`` deletes with its patches (once per run)."""
    key = f"{kustomization.directory}\0{root}"
    return once("deletions", key, partial(_deletions, kustomization, root))


def _deletions(kustomization: Kustomization, root: Path) -> tuple[Deletion, ...]:
    data = kustomization.data
    by = os.path.normpath(os.path.abspath(kustomization.file))
    found: list[Deletion] = []
    for entry in as_strings(data.get("patchesStrategicMerge")):
        found += _from_documents(_patch_documents(kustomization, entry, root), None, by)
    for _, item in indexed_dicts(data.get("patches")):
        text, path = item.get("patch"), item.get("path")
        if isinstance(text, str):
            documents = _load(text) if len(text) <= _PATCH_BYTES else []
        elif isinstance(path, str):
            documents = _patch_documents(kustomization, path, root)
        else:
            continue
        found += _from_documents(documents, item.get("target"), by)
    return tuple(dict.fromkeys(found))


def _patch_documents(kustomization: Kustomization, entry: str, root: Path) -> list[Any]:
    """The documents of a patch entry: inline text, or the file it names (bounded)."""
    if is_inline(entry):
        if len(entry) > _PATCH_BYTES:
            return []
        return _load(entry)
    raw = read_inside(Path(join_entry(kustomization.directory, entry)), root, _PATCH_BYTES)
    return _load(raw) if raw is not None else []


def _load(data: str | bytes) -> list[Any]:
    try:
        documents = []
        for document in yaml.load_all(data, Loader=_LOADER):
            documents.append(document)
            if len(documents) >= _MAX_DOCUMENTS:
                break
        return documents
    except (yaml.YAMLError, ValueError, TypeError, RecursionError):
        return []


def _from_documents(documents: Iterable[Any], target: Any, by: str) -> list[Deletion]:
    found = []
    for document in documents:
        if not isinstance(document, dict) or document.get("$patch") != "delete":
            continue
        named = _identity(document) if target is None else _target(target)
        if named is not None:
            found.append(Deletion(*named, by))
    return found


def _identity(document: dict[Any, Any]) -> tuple[str, str, str | None] | None:
    """Kind, name and namespace of an object (None: it names no kind or name)."""
    kind = document.get("kind")
    metadata = document.get("metadata")
    if not isinstance(kind, str) or not isinstance(metadata, dict):
        return None
    name, namespace = metadata.get("name"), metadata.get("namespace")
    if not isinstance(name, str) or not name:
        return None
    return kind, name, namespace if isinstance(namespace, str) and namespace else None


def _target(target: Any) -> tuple[str, str, str | None] | None:
    """A ``target:`` selector that names one object by kind and plain name (not a pattern,
    not labels); None for any other."""
    if not isinstance(target, dict) or set(target) - _TARGET_KEYS:
        return None
    kind, name, namespace = target.get("kind"), target.get("name"), target.get("namespace")
    if not isinstance(kind, str) or not isinstance(name, str):
        return None
    if not _PLAIN_NAME.fullmatch(kind) or not _PLAIN_NAME.fullmatch(name):
        return None  # a pattern (kustomize reads them as regular expressions)
    return kind, name, namespace if isinstance(namespace, str) and namespace else _ANY


def orphans(
    trees: dict[Path, Tree], built: Sequence[Path], files: Iterable[str], cwd: Path
) -> dict[str, tuple[tuple[Picked, ...], tuple[str, ...]]]:
    """For each of ``files`` (resource files, normalised absolute paths) that some of the
    ``built`` overlays read: its objects that every one of those builds deletes, and the
    kustomization files of those builds (which decided it)."""
    deleting = {overlay: _deleting(trees[overlay]) for overlay in built}
    readers: dict[str, list[Path]] = {}
    for overlay in built:
        if deleting[overlay]:  # a build that deletes nothing keeps every file it reads
            for file in trees[overlay].files:
                readers.setdefault(os.path.normpath(file), []).append(overlay)
    kept = {os.path.normpath(f) for o in built if not deleting[o] for f in trees[o].files}
    found: dict[str, tuple[tuple[Picked, ...], tuple[str, ...]]] = {}
    for file in sorted(set(files) - kept):
        using = readers.get(file, [])
        applying = [_applying(trees[overlay], deleting[overlay], file) for overlay in using]
        if not using or not all(applying):
            continue  # some build reads the file and deletes nothing of it
        picked = _deleted_everywhere(Path(file), applying, trees[using[0]].root, cwd)
        if picked:
            deciders = {
                os.path.normpath(os.path.abspath(k.file))
                for o in using
                for k in trees[o].kustomizations.values()
            }
            found[file] = (picked, tuple(sorted(deciders)))
    return found


def _deleting(tree: Tree) -> list[tuple[str, Kustomization, tuple[Deletion, ...]]]:
    """The kustomizations of ``tree`` that delete objects, with what they delete."""
    found = []
    for directory, kustomization in sorted(tree.kustomizations.items()):
        deleted = deletions(kustomization, tree.root)
        if deleted:
            found.append((directory, kustomization, deleted))
    return found


def _applying(
    tree: Tree, deleting: list[tuple[str, Kustomization, tuple[Deletion, ...]]], file: str
) -> list[Deletion]:
    """The deletions of ``tree``'s kustomizations that apply to what ``file`` holds."""
    found: list[Deletion] = []
    for directory, kustomization, deleted in deleting:
        if _in_scope(tree, directory, kustomization, file):
            found += deleted
    return found


def _in_scope(tree: Tree, directory: str, kustomization: Kustomization, file: str) -> bool:
    """Whether ``file`` is read by the build of ``directory`` (a Component: by the build of
    a kustomization of ``tree`` that includes it)."""
    if kustomization.data.get("kind") != "Component":
        return file in _reads(directory, tree.root)
    for includer, other in tree.kustomizations.items():
        entries = as_strings(other.data.get("components"))
        includes = any(join_entry(includer, e) == os.path.normpath(directory) for e in entries)
        if (
            includes
            and other.data.get("kind") != "Component"
            and file in _reads(includer, tree.root)
        ):
            return True
    return False


def _reads(directory: str, root: Path) -> frozenset[str]:
    """The files the build of ``directory`` reads (once per run)."""
    return once("reads", f"{directory}\0{root}", partial(_scan_reads, directory, root))


def _scan_reads(directory: str, root: Path) -> frozenset[str]:
    return frozenset(os.path.normpath(f) for f in Tree.scan(Path(directory), root).files)


def _deleted_everywhere(
    file: Path, deleting: list[list[Deletion]], root: Path, cwd: Path
) -> tuple[Picked, ...]:
    """The objects of ``file`` that one deletion of each build matches."""
    names = {d.name for group in deleting for d in group}
    raw = read_inside(file, root, _RESOURCE_BYTES)
    if raw is None or not any(name.encode() in raw for name in names):
        return ()
    picked: list[Picked] = []
    for document, lines in _load_lines(raw):
        named = _identity(document) if isinstance(document, dict) else None
        if named is None:
            continue
        by = [next((d for d in group if d.matches(*named)), None) for group in deleting]
        if all(by):
            deleters = sorted({display_path(Path(d.by), cwd) for d in by if d is not None})
            note = (
                f"{named[0]} {named[1]} deleted by {', '.join(deleters)} in every build "
                "that reads it: linted from its file"
            )
            picked.append(Picked(*named, note, lines))
    return tuple(dict.fromkeys(picked))


def _load_lines(data: bytes) -> list[tuple[Any, tuple[int, int]]]:
    """The documents of a file, each with its lines (from the line after the previous
    document: the comments above an object are its own)."""
    found: list[tuple[Any, tuple[int, int]]] = []
    loader = _LOADER(data)
    try:
        first = 1
        while loader.check_node() and len(found) < _MAX_DOCUMENTS:
            node = loader.get_node()
            if node is None:
                break
            end = node.end_mark.line + (1 if node.end_mark.column else 0)
            found.append((loader.construct_document(node), (first, max(first, end))))
            first = max(first, end) + 1
    except (yaml.YAMLError, ValueError, TypeError, RecursionError):
        return []
    finally:
        loader.dispose()
    return found

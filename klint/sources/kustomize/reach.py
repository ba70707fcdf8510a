"""Which kustomizations of a tree are built, and which manifest files their builds cover.

Every manifest file of a tree is linted exactly once: as part of the builds that read it, else
on its own. A kustomization is built unless it is a ``kind: Component`` (linted through the
overlays that use it) or sits inside another kustomization's folder and is read by some build
(then it is linted through that build). An overlay that cannot be built (a remote base that
klint will not fetch, a link out of the repository) still reports why, and its local resource
files are linted on their own (one whose build fails only when it runs, say a generator's
missing ``.env``, lints them in its own unit: :func:`local_resources`, and reports only those
that no other build of the run reads, the others being read as context); its patches, and those
of a Component that no overlay uses, are fragments of objects and are skipped with the reason
(``--verbose`` lists them).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import yaml

from klint.sources.base import Picked, display_path
from klint.sources.confine import is_inside, read_inside
from klint.sources.kustomize.build import lexical_root
from klint.sources.kustomize.deleted import orphans
from klint.sources.kustomize.files import (
    as_strings,
    is_inline,
    join_entry,
    load_kustomization,
    patch_files,
)
from klint.sources.kustomize.tree import Tree
from klint.sources.names import KUSTOMIZATION_FILES, kustomization_file
from klint.sources.scans import once


@dataclass
class KustomizeReach:
    """The overlays to build, the files their builds read, and files skipped with a reason."""

    overlays: list[Path] = field(default_factory=list)
    reached: set[str] = field(default_factory=set)
    skipped: dict[str, str] = field(default_factory=dict)
    # For each overlay to build: its resource files that other overlays of the run read,
    # with those readers in walk order. Should its build fail, a file is left to the first
    # reader that builds (the same answer in serial and parallel runs: builds are pure).
    elsewhere: dict[str, dict[str, tuple[str, ...]]] = field(default_factory=dict)
    # Reached files with objects that every build reading them deletes: those objects (linted
    # from the file) and the kustomization files that decided it (deleted.py).
    picked: dict[str, tuple[tuple[Picked, ...], tuple[str, ...]]] = field(default_factory=dict)
    # For each overlay to build: those of its files, with the lines of the picked objects.
    foreign: dict[str, tuple[tuple[str, tuple[tuple[int, int], ...]], ...]] = field(
        default_factory=dict
    )


def is_component(directory: Path) -> bool:
    """Whether the kustomization in ``directory`` is a ``kind: Component``."""
    loaded = once("kustomization", str(directory), partial(load_kustomization, str(directory)))
    return loaded is not None and loaded.data.get("kind") == "Component"


def is_kustomization_file(path: Path) -> bool:
    """A kustomization file of its folder: configuration of a build, not an object."""
    return path.name in KUSTOMIZATION_FILES and kustomization_file(path.parent) == path


def plan_reach(
    directories: Sequence[Path], root: Path, cwd: Path, files: Sequence[Path] = ()
) -> KustomizeReach:
    """Plan a walk's kustomization folders (absolute, in walk order) within ``root``.

    ``files`` are the walk's manifest files: one that no build reads, in a kustomization's
    folder, and named as a patch (``patches/``, ``*patch*``) is a patch no build applies
    (an entry commented out of the kustomization): a fragment, skipped with the reason.
    """
    plan = KustomizeReach()
    known = {os.path.normpath(d) for d in directories}
    trees = {d: Tree.scan(d, lexical_root(d, root)) for d in directories}
    components = {d for d in directories if is_component(d)}
    overlays = [d for d in directories if d not in components]
    readers = _readers(trees, [d for d in overlays if _clean(trees[d])])
    used_at_all = _used(trees, overlays)
    for directory in overlays:
        name = os.path.normpath(directory)
        if _folded(directory, readers.get(name, ()), trees):
            continue  # linted through a clean build that reads it, wherever it sits
        nested = any(str(parent) in known for parent in directory.parents)
        if nested and name in used_at_all and not _clean(trees[directory]):
            # read by a build that cannot run either: its files are handled with that
            # build's (resources on their own, patches skipped)
            continue
        plan.overlays.append(directory)
        if _clean(trees[directory]):
            plan.reached |= {os.path.normpath(f) for f in trees[directory].files}
    built = [d for d in plan.overlays if _clean(trees[d])]
    plan.elsewhere = _read_elsewhere(trees, built)
    objects = {f for d in built for f in resource_files(trees[d])}
    plan.picked = orphans(trees, built, objects & plan.reached, cwd)
    for overlay in built if plan.picked else ():
        mine = sorted(f for f in map(os.path.normpath, trees[overlay].files) if f in plan.picked)
        if mine:
            lines = (tuple(p.lines for p in plan.picked[f][0]) for f in mine)
            plan.foreign[os.path.normpath(overlay)] = tuple(zip(mine, lines, strict=True))
    for directory in directories:
        tree = trees[directory]
        shown = display_path(directory, cwd)
        if directory in components and os.path.normpath(directory) not in used_at_all:
            reason = f"a patch of Kustomize Component {shown}, which no overlay in the tree uses"
        elif directory not in components and not _clean(tree) and directory in plan.overlays:
            reason = (
                f"read by Kustomize overlay {shown}, which cannot be built offline: "
                "linted with it once it builds"
            )
        else:
            continue
        resources = resource_files(tree)
        for file in sorted(tree.files):
            name = os.path.normpath(file)
            if name not in plan.reached and name not in resources:
                plan.skipped.setdefault(name, reason)
    known_dirs = [str(d) for d in directories]
    for walked in files:
        name = os.path.normpath(walked)
        if name in plan.reached or name in plan.skipped:
            continue
        if not _patch_name(Path(name)) and not is_fragment(Path(name)):
            continue
        owner = next((d for d in known_dirs if name.startswith(d + os.sep)), None)
        if owner is not None:
            plan.skipped[name] = (
                f"a Kustomize patch that no build in the tree applies (under "
                f"{display_path(Path(owner), cwd)}): a fragment of an object, not linted alone"
            )
    return plan


def _patch_name(path: Path) -> bool:
    """Named as a patch: in a ``patches`` folder or with ``patch`` in its name."""
    return "patch" in path.name.lower() or "patches" in path.parent.parts[-2:]


_WORKLOADS = frozenset({"Deployment", "DaemonSet", "StatefulSet", "ReplicaSet", "Job"})
_FRAGMENT_MAX_BYTES = 256 * 1024
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def is_fragment(path: Path) -> bool:
    """A strategic-merge patch however it is named (``kustomize edit add patch`` in a
    Makefile): every document is a workload with no ``spec.selector`` (Jobs aside) whose
    containers name no image, which the API server would refuse as an object."""
    data = read_inside(path, None, _FRAGMENT_MAX_BYTES)
    if data is None:
        return False
    try:
        documents = [d for d in yaml.load_all(data, Loader=_LOADER) if d is not None]
    except (yaml.YAMLError, ValueError, TypeError, RecursionError):
        return False
    return bool(documents) and all(_workload_fragment(d) for d in documents)


def _workload_fragment(document: object) -> bool:
    if not isinstance(document, dict):
        return False
    kind = document.get("kind")
    if not isinstance(kind, str) or kind not in _WORKLOADS:
        return False
    spec = document.get("spec")
    if not isinstance(spec, dict) or (kind != "Job" and "selector" in spec):
        return False
    pod = spec.get("template")
    pod_spec = pod.get("spec") if isinstance(pod, dict) else None
    containers = pod_spec.get("containers") if isinstance(pod_spec, dict) else None
    return (
        isinstance(containers, list)
        and bool(containers)
        and all(isinstance(c, dict) and "image" not in c for c in containers)
    )


def owning_overlay(path: Path, top: Path, cwd: Path) -> Path | str | None:
    """For a file named on the command line: the nearest enclosing kustomization whose build
    reads it (its unit), a reason to skip it (a patch of a Component), or None (lint it on its
    own). Folders above ``top`` are not looked at.

    A base read by an overlay beside it (``../base``) is linted, for a named file, through its
    own nearest build, as ``klint check <that folder>`` would: the walk folds a base into its
    readers only among the kustomizations it walks, and a named file's walk is its folders
    up to its nearest kustomization; overlays elsewhere in the tree are not searched."""
    target = os.path.normpath(os.path.abspath(path))
    start = Path(os.path.abspath(path)).parent
    for directory in [start, *start.parents]:
        if directory != top and top not in directory.parents:
            break
        loaded = load_kustomization(str(directory))
        if loaded is None:
            continue
        if loaded.data.get("kind") == "Component":
            if target in patch_files(loaded):
                shown = display_path(directory, cwd)
                return f"a patch of Kustomize Component {shown}: linted with the overlays using it"
            continue
        tree = Tree.scan(directory, lexical_root(directory, top))
        if _clean(tree) and target in {os.path.normpath(f) for f in tree.files}:
            return directory
        if target in patch_files(loaded):
            return directory
        if is_fragment(Path(target)):
            shown = display_path(directory, cwd)
            return f"a Kustomize patch that no build under {shown} applies: not linted alone"
    return None


def picked_in(
    path: Path, overlay: Path, top: Path, cwd: Path
) -> tuple[tuple[Picked, ...], tuple[str, ...]] | None:
    """For a file named on the command line and linted through ``overlay`` (its
    :func:`owning_overlay`): the objects of it that this build deletes, with the
    kustomization files that decided it; None when it deletes none."""
    tree = Tree.scan(overlay, lexical_root(overlay, top))
    name = os.path.normpath(os.path.abspath(path))
    if not _clean(tree) or name not in resource_files(tree):
        return None
    return orphans({overlay: tree}, [overlay], [name], cwd).get(name)


def _read_elsewhere(
    trees: dict[Path, Tree], built: Sequence[Path]
) -> dict[str, dict[str, tuple[str, ...]]]:
    """For each of the ``built`` overlays, its resource files that others of them read,
    each with those readers (in walk order)."""
    readers: dict[str, list[str]] = {}
    for overlay in built:
        for file in trees[overlay].files:
            readers.setdefault(os.path.normpath(file), []).append(os.path.normpath(overlay))
    found: dict[str, dict[str, tuple[str, ...]]] = {}
    for overlay in built:
        name = os.path.normpath(overlay)
        for file in sorted(resource_files(trees[overlay])):
            others = tuple(r for r in readers.get(file, ()) if r != name)
            if others:
                found.setdefault(name, {})[file] = others
    return found


def _used(trees: dict[Path, Tree], users: Sequence[Path]) -> set[str]:
    """Kustomization folders that the builds of ``users`` read (besides their own)."""
    return {os.path.normpath(k) for d in users for k in trees[d].kustomizations if Path(k) != d}


def _readers(trees: dict[Path, Tree], users: Sequence[Path]) -> dict[str, list[Path]]:
    """For each kustomization folder, the builds of ``users`` that read it (not itself)."""
    found: dict[str, list[Path]] = {}
    for user in users:
        for read in trees[user].kustomizations:
            if Path(read) != user:
                found.setdefault(os.path.normpath(read), []).append(user)
    return found


def _folded(directory: Path, readers: Sequence[Path], trees: dict[Path, Tree]) -> bool:
    """Linted only through a reader's build: one reader builds cleanly and is not read back
    by ``directory`` (a cycle, which kustomize refuses, leaves both to build alone)."""
    own = {os.path.normpath(k) for k in trees[directory].kustomizations}
    return any(os.path.normpath(reader) not in own for reader in readers)


def _clean(tree: Tree) -> bool:
    return not tree.remote and not tree.refused


def local_resources(directory: Path, root: Path) -> list[Path]:
    """The resource files of the overlay at ``directory`` and every kustomization it reads,
    sorted, when the planner counted them as reached by its build (it reads nothing remote
    and nothing refused); else none, because they are already linted on their own."""
    tree = Tree.scan(directory, lexical_root(directory, root))
    if not _clean(tree):
        return []
    return [Path(name) for name in sorted(resource_files(tree)) if is_inside(Path(name), root)]


def resource_files(tree: Tree) -> set[str]:
    """Files named as resources (objects) by the tree's kustomizations."""
    found: set[str] = set()
    for directory, kustomization in tree.kustomizations.items():
        for key in ("resources", "bases"):
            for entry in as_strings(kustomization.data.get(key)):
                if not is_inline(entry):
                    target = join_entry(directory, entry)
                    if os.path.isfile(target):
                        found.add(os.path.normpath(target))
    return found

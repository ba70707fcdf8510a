"""The files a build reads, found before building (remote references refused), and their copy."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from klint.sources.kustomize.files import (
    Kustomization,
    as_strings,
    indexed_dicts,
    is_inline,
    join_entry,
    load_kustomization,
)
from klint.sources.names import kustomization_file

_MAX_SIBLING_BYTES = 8 * 1024 * 1024


_REMOTE_QUERY = re.compile(r"\?(?:.*&)?(?:ref|version|submodules|timeout)=")
_REMOTE_HOSTS = ("github.com/", "gitlab.com/", "bitbucket.org/", "dev.azure.com/")


_PATH_FIELDS = (
    "resources",
    "bases",
    "components",
    "generators",
    "transformers",
    "validators",
    "crds",
    "configurations",
)
_FETCHED_FIELDS = frozenset(
    {"resources", "bases", "components", "generators", "transformers", "validators"}
)
_NOT_PATH_FIELDS = frozenset(
    {
        "apiVersion",
        "kind",
        "metadata",
        "namePrefix",
        "nameSuffix",
        "namespace",
        "images",
        "labels",
        "commonLabels",
        "commonAnnotations",
        "replicas",
        "buildMetadata",
        "vars",
        "sortOptions",
        "patches",
        "patchesStrategicMerge",
        "patchesJson6902",
    }
)


def _looks_remote(directory: str, entry: str) -> bool:
    """Whether a resource entry names something kustomize would fetch over the network."""
    entry = entry.strip()
    if not entry or is_inline(entry) or os.path.exists(join_entry(directory, entry)):
        return False
    if "://" in entry or entry.startswith(("git@", "git::", "ssh:", *_REMOTE_HOSTS)):
        return True
    if _REMOTE_QUERY.search(entry):
        return True
    first = entry.split("/", 1)[0]
    return "/" in entry and "." in first.strip(".") and not first.startswith(".")


@dataclass
class Tree:
    """Every kustomization and file a build reads, found before building."""

    root: Path
    kustomizations: dict[str, Kustomization]
    files: set[str]
    remote: list[tuple[Path, str]]

    @classmethod
    def scan(cls, build_dir: Path) -> Tree:
        kustomizations: dict[str, Kustomization] = {}
        files: set[str] = set()
        remote: list[tuple[Path, str]] = []
        pending = [str(build_dir)]
        while pending:
            directory = pending.pop()
            if directory in kustomizations:
                continue
            loaded = load_kustomization(directory)
            if loaded is None:
                continue
            kustomizations[directory] = loaded
            files.add(str(loaded.file))
            for entry, fetched in _references(loaded):
                if fetched and _looks_remote(directory, entry):
                    remote.append((loaded.file, entry))
                    continue
                target = join_entry(directory, entry.split("=", 1)[-1] if "=" in entry else entry)
                if not os.path.exists(target):
                    target = join_entry(directory, entry)
                if os.path.isdir(target):
                    if kustomization_file(Path(target)) is not None:
                        pending.append(target)
                elif os.path.isfile(target):
                    files.add(target)
        places = [*kustomizations, *(os.path.dirname(name) for name in files)]
        root = Path(os.path.commonpath(places)) if places else build_dir
        return cls(root, kustomizations, files, remote)

    def copy_to(self, destination: Path) -> None:
        """Copy the tree under ``destination`` with the same layout (content only, no modes).

        Kustomization directories are copied shallowly (their regular files) so that
        references klint does not know about still resolve; symlinks are followed only
        when they stay inside the copied root.
        """
        destination.mkdir(parents=True)
        real_root = os.path.realpath(self.root)
        wanted = set(self.files)
        for directory in self.kustomizations:
            try:
                entries = list(os.scandir(directory))
            except OSError:
                continue
            for entry in entries:
                try:
                    if entry.is_file() and entry.stat().st_size <= _MAX_SIBLING_BYTES:
                        wanted.add(os.path.normpath(entry.path))
                except OSError:
                    continue
            (destination / os.path.relpath(directory, self.root)).mkdir(parents=True, exist_ok=True)
        for name in sorted(wanted):
            real = os.path.realpath(name)
            if real != real_root and not real.startswith(real_root.rstrip(os.sep) + os.sep):
                continue  # a symlink out of the tree: not copied
            target = destination / os.path.relpath(name, self.root)
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                shutil.copyfile(real, target)
            except OSError:
                continue


def _references(kustomization: Kustomization) -> Iterator[tuple[str, bool]]:
    """Every path a kustomization may read, and whether kustomize would fetch it if remote."""
    data = kustomization.data
    for name in _PATH_FIELDS:
        for entry in as_strings(data.get(name)):
            if not is_inline(entry):
                yield entry, name in _FETCHED_FIELDS
    for entry in _other_references(kustomization):
        yield entry, False


def _other_references(kustomization: Kustomization) -> Iterator[str]:
    """Local files named by patches, generators and fields klint does not know."""
    data = kustomization.data
    for name in ("patches", "patchesJson6902", "replacements"):
        for _, item in indexed_dicts(data.get(name)):
            if isinstance(item.get("path"), str):
                yield item["path"]
    for entry in as_strings(data.get("patchesStrategicMerge")):
        if not is_inline(entry):
            yield entry
    openapi = data.get("openapi")
    if isinstance(openapi, dict) and isinstance(openapi.get("path"), str):
        yield openapi["path"]
    for name in ("configMapGenerator", "secretGenerator"):
        for _, item in indexed_dicts(data.get(name)):
            yield from as_strings(item.get("files"))
            yield from as_strings(item.get("envs"))
            yield from as_strings(item.get("env"))
    for key, value in data.items():  # fields klint does not know: any string naming a file
        if key not in _NOT_PATH_FIELDS and key not in _PATH_FIELDS:
            for text in _scalars(value):
                if (
                    not is_inline(text)
                    and len(text) < 1024
                    and text not in (".", "..")
                    and os.path.isfile(join_entry(kustomization.directory, text))
                ):
                    yield text


def _scalars(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from _scalars(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _scalars(item)

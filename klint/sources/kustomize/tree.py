"""The files a build reads, found before building (remote references refused), and their copy."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from klint.sources.confine import OutsideRoot, confine, is_inside, read_inside, real_path
from klint.sources.kustomize.files import (
    Kustomization,
    as_strings,
    indexed_dicts,
    is_inline,
    join_entry,
    load_kustomization,
)
from klint.sources.kustomize.plugin_configs import UnreadableConfig, config_references
from klint.sources.names import kustomization_file
from klint.sources.scans import once

_MAX_SIBLING_BYTES = 8 * 1024 * 1024
_GIT_NAMED = (
    "is a local folder whose name kustomize reads as a remote repository (it would run "
    "git instead of reading the folder); write it as ./{entry}"
)


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
_PLUGIN_FIELDS = ("generators", "transformers", "validators")
_MAX_CONFIG_BYTES = 1024 * 1024
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
    return _git_like(entry)


def _git_like(entry: str) -> bool:
    """Whether kustomize reads ``entry`` as a remote (git or URL) reference; it does so
    before looking for a local folder of that name."""
    if "://" in entry or entry.startswith(("git@", "git::", "ssh:", *_REMOTE_HOSTS)):
        return True
    if _REMOTE_QUERY.search(entry):
        return True
    first = entry.split("/", 1)[0]
    return "/" in entry and "." in first.strip(".") and not first.startswith(".")


@dataclass(frozen=True)
class _Visit:
    """What one kustomization folder adds to any tree with the same root that reaches it
    (None: nothing, it is not read); refusals are added even then."""

    kustomization: Kustomization | None
    files: set[str]
    remote: list[tuple[Path, str]]
    refused: list[tuple[Path, str, str]]
    pending: list[str]


@dataclass
class Tree:
    """Every kustomization and file a build reads, found before building.

    ``root`` is the confinement root (the repository): nothing outside it is read or copied,
    whatever the kustomizations name. ``remote`` lists references kustomize would fetch and
    ``refused`` references that leave the root or that kustomize's load restrictor refuses
    (a symbolic link out of the kustomization's directory); each is (kustomization, entry,
    reason) and stops the build before the tool runs.
    """

    root: Path
    kustomizations: dict[str, Kustomization]
    files: set[str]
    remote: list[tuple[Path, str]]
    refused: list[tuple[Path, str, str]] = field(default_factory=list)
    _real_root: str | None = field(default=None, repr=False, compare=False)

    @classmethod
    def scan(cls, build_dir: Path, root: Path | None = None) -> Tree:
        """The tree of the kustomization in ``build_dir``, confined to ``root``."""
        return once("tree", f"{build_dir}\0{root}", lambda: cls._scan(build_dir, root))

    @classmethod
    def _scan(cls, build_dir: Path, root: Path | None) -> Tree:
        tree = cls(root if root is not None else build_dir, {}, set(), [])
        pending = [str(build_dir)]
        while pending:
            directory = pending.pop()
            if directory in tree.kustomizations:
                continue
            # a folder adds the same to every tree with this root: looked at once per run
            part = once("visit", f"{directory}\0{tree.root}", partial(tree._visit, directory))
            tree.refused.extend(part.refused)
            if part.kustomization is None:
                continue
            tree.kustomizations[directory] = part.kustomization
            tree.files.update(part.files)
            tree.remote.extend(part.remote)
            pending.extend(part.pending)
        return tree

    def _visit(self, directory: str) -> _Visit:
        """What the kustomization in ``directory`` adds to this tree: itself, the files and
        folders it names that may be read, and the references that stop the build."""
        part = Tree(self.root, {}, set(), [], _real_root=self._real_root)
        pending: list[str] = []
        loaded = part._read(directory, pending)
        return _Visit(loaded, part.files, part.remote, part.refused, pending)

    def _read(self, directory: str, pending: list[str]) -> Kustomization | None:
        if self._real_inside(directory) is None:
            return None  # refused where it was referenced
        own = kustomization_file(Path(directory))
        if own is not None and not self._allowed_file(own):
            return None  # a link out of the root: never read
        loaded = once("kustomization", directory, partial(load_kustomization, directory))
        if loaded is None:
            return None
        self.files.add(str(loaded.file))
        for entry, fetched in _references(loaded):
            if _is_url(entry) or (fetched and _looks_remote(directory, entry)):
                self.remote.append((loaded.file, entry))
                continue
            target = join_entry(directory, entry.split("=", 1)[-1] if "=" in entry else entry)
            if not os.path.exists(target):
                target = join_entry(directory, entry)
            if fetched and os.path.isdir(target) and _git_like(entry.strip()):
                self.refused.append((loaded.file, entry, _GIT_NAMED.format(entry=entry.strip())))
                continue
            if os.path.isdir(target):
                is_kustomization = kustomization_file(Path(target)) is not None
                if is_kustomization and self._allowed(loaded, entry, target, within=None):
                    pending.append(target)
                elif not is_kustomization and fetched and is_inside(Path(target), self.root):
                    self.refused.append((loaded.file, entry, _no_kustomization(target)))
            elif os.path.isfile(target) and self._allowed(loaded, entry, target, directory):
                self.files.add(target)
        self._scan_plugin_configs(loaded)
        for entry in _unknown_field_files(loaded):
            target = join_entry(directory, entry)
            if is_inside(Path(target), Path(directory)):
                self.files.add(target)  # a guess: copied only when it stays in place
        return loaded

    def _allowed_file(self, file: Path) -> bool:
        """Whether a kustomization file may be read (a link out of the root is refused)."""
        try:
            confine(file, self.root)
        except OutsideRoot as error:
            self.refused.append((file, file.name, error.reason))
            return False
        return True

    def _scan_plugin_configs(self, kustomization: Kustomization) -> None:
        """Plugin configs (files or inline) name files and URLs like kustomization fields:
        URLs are remote, local files are confined and copied."""
        directory = kustomization.directory
        for field_name in _PLUGIN_FIELDS:
            for entry in as_strings(kustomization.data.get(field_name)):
                if is_inline(entry):
                    text: str | None = entry
                else:
                    target = join_entry(directory, entry)
                    if not os.path.isfile(target) or target not in self.files:
                        continue  # a kustomization folder, remote or refused: seen above
                    raw = read_inside(Path(target), self.root, _MAX_CONFIG_BYTES)
                    text = raw.decode("utf-8", "replace") if raw is not None else None
                try:
                    if text is None:
                        raise UnreadableConfig("is not a regular file of at most 1 MiB")
                    references = config_references(text)
                except UnreadableConfig as error:
                    reason = f"is a plugin config that {error}: not built unscanned"
                    self.refused.append((kustomization.file, _shown(entry), reason))
                    continue
                for reference in references:
                    reference = reference.strip()
                    if not reference:
                        continue
                    if _is_url(reference):
                        self.remote.append((kustomization.file, reference))
                        continue
                    target = join_entry(directory, reference)
                    if os.path.isfile(target) and self._allowed(
                        kustomization, reference, target, directory
                    ):
                        self.files.add(target)
                    elif os.path.lexists(target) and not os.path.isfile(target):
                        self._allowed(kustomization, reference, target, None)

    def _allowed(
        self, kustomization: Kustomization, entry: str, target: str, within: str | None
    ) -> bool:
        """Whether a referenced path may be read; a refusal is recorded with its reason.

        Everything must stay inside the root. A file must also stay inside ``within`` (its
        kustomization's directory) when it is reached through a symbolic link: kustomize
        refuses that itself, and the copy (which holds no links) must not lift the limit.
        """
        real = self._real_inside(target) if os.path.isabs(target) and "\x00" not in target else None
        if real is None:  # outside (confine says why), or a path confine reads otherwise
            try:
                confine(Path(target), self.root)
            except OutsideRoot as error:
                self.refused.append((kustomization.file, entry, error.reason))
                return False
            real = real_path(target)
        linked = real != os.path.abspath(target)
        if within is not None and linked and not is_inside(Path(target), Path(within)):
            reason = (
                "is a symbolic link that leads outside the kustomization's directory, "
                "which kustomize's load restrictor refuses"
            )
            self.refused.append((kustomization.file, entry, reason))
            return False
        return True

    def _real_inside(self, path: str) -> str | None:
        """``path`` with every link followed when that lies within the root, else None
        (:func:`~klint.sources.confine.is_inside`, the root resolved once per tree)."""
        try:
            real = real_path(path)
            if self._real_root is None:
                self._real_root = real_path(self.root)
        except (OSError, ValueError):
            return None
        top = self._real_root
        return real if real == top or real.startswith(top.rstrip("/") + "/") else None

    def stays_inside(self) -> bool:
        """Whether every string of every kustomization, read as a path from its folder
        (and the part after ``=``, as generators read ``key=path``), stays inside the root,
        and none uses plugins (whose configs name files of their own): then building the
        copy with ``--load-restrictor LoadRestrictionsNone`` reads only the copy."""
        top = os.path.normpath(self.root)
        for directory, kustomization in self.kustomizations.items():
            if any(kustomization.data.get(name) for name in _PLUGIN_FIELDS):
                return False
            for text in _scalars(kustomization.data):
                for candidate in {text.strip(), text.split("=", 1)[-1].strip()}:
                    target = os.path.normpath(os.path.join(directory, candidate))
                    if candidate and target != top and not target.startswith(top + os.sep):
                        return False
        return True

    def copy_to(self, destination: Path, texts: Mapping[str, str] | None = None) -> None:
        """Copy the tree under ``destination`` with the same layout (content only, no modes);
        a file whose root-relative path is in ``texts`` is written with that text instead.

        Kustomization directories are copied shallowly (their regular files) so that
        references klint does not know about still resolve. Nothing outside the root is
        copied: a sibling file that is a link out of the root is left out, never copied as
        a regular file (referenced ones were refused by :meth:`scan`).
        """
        destination.mkdir(parents=True)
        folders, files = self._copied()
        for directory in folders:
            (destination / os.path.relpath(directory, self.root)).mkdir(parents=True, exist_ok=True)
        for real, relative in files:
            target = destination / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                if texts is not None and relative in texts:
                    target.write_text(texts[relative], encoding="utf-8")
                else:
                    shutil.copyfile(real, target)
            except OSError:
                continue

    def stamp(self) -> tuple[tuple[str, int, int, int], ...]:
        """Path, size, modification time and inode of each file :meth:`copy_to` copies:
        a copy made earlier is of the same files while the stamp is the same."""
        stamps = []
        for real, relative in self._copied()[1]:
            try:
                info = os.stat(real)
            except OSError:
                continue
            stamps.append((relative, info.st_size, info.st_mtime_ns, info.st_ino))
        return tuple(stamps)

    def _copied(self) -> tuple[list[str], list[tuple[Path, str]]]:
        """The kustomization folders a copy makes, and (the file read, its path relative
        to the root) of each file it holds."""
        wanted = set(self.files)
        folders = []
        for directory in self.kustomizations:
            try:
                entries = list(os.scandir(directory))
            except OSError:
                continue
            folders.append(directory)
            for entry in entries:
                try:
                    if entry.is_file() and entry.stat().st_size <= _MAX_SIBLING_BYTES:
                        wanted.add(os.path.normpath(entry.path))
                except OSError:
                    continue
        copied = []
        for name in sorted(wanted):
            try:
                real = confine(Path(name), self.root)
            except OutsideRoot:
                continue
            relative = os.path.relpath(os.path.abspath(name), self.root)
            if relative.startswith(".."):
                continue  # reached through a link from outside: not part of the copy
            copied.append((real, relative))
        return folders, copied


def _shown(entry: str) -> str:
    """An entry for a message: an inline config by its first line."""
    return entry.strip().split("\n", 1)[0][:80] + (" …" if is_inline(entry) else "")


def _no_kustomization(folder: str) -> str:
    """Why a folder named as a resource does not build (kustomize would only say it cannot
    read it): it has no kustomization file, and what it has instead when that looks like one
    a script copies into place (``kustomization_base.yaml``)."""
    try:
        names = sorted(n for n in os.listdir(folder) if n.lower().startswith("kustomization"))
    except OSError:
        names = []
    instead = (
        f"; it holds {', '.join(names[:3])}, which a script may copy into place" if names else ""
    )
    return (
        "is a folder without a kustomization file (kustomization.yaml, kustomization.yml or "
        f"Kustomization), which kustomize needs to build it{instead}"
    )


def _is_url(entry: str) -> bool:
    """A reference with a URL scheme: kustomize's loader fetches ``http(s)://`` files too."""
    return "://" in entry.strip()


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
    """Local files named by patches, generators, replacements and openapi."""
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


def _unknown_field_files(kustomization: Kustomization) -> Iterator[str]:
    """Strings in fields klint does not know that name an existing file (a guess)."""
    for key, value in kustomization.data.items():
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

"""The result cache: a unit whose every input is unchanged is not linted again.

An entry is keyed by a hash of everything that shaped the unit's results (the bytes of every
file it reads, the run's options, rules and configuration, klint's version and sources) and
holds its findings as JSON. A pull request controls the repository, so ``.klint_cache/`` is
untrusted input: every entry carries an HMAC made with a per-user secret kept outside the
repository (``$XDG_CACHE_HOME/klint/result-cache.key``, mode 0600), and an entry whose MAC,
key or format does not match is ignored. Writes go to a temporary file then ``os.replace``,
so a concurrent reader sees a whole entry or none; the folder is bounded (oldest entries
are removed first) and never followed through a symbolic link.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import re
import stat
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from klint.cache_codec import CodecError, decode_result, encode_result
from klint.engine import UnitResult
from klint.sources.base import LintUnit
from klint.sources.confine import read_limited, real_path
from klint.user_cache import is_private, user_cache_folder

if TYPE_CHECKING:
    from klint.cache_inputs import UnitInputs

FORMAT = "klint-result-cache-1"
DEFAULT_DIR = ".klint_cache"
DEFAULT_MAX_BYTES = 512 * 1024 * 1024
MAX_ENTRY_BYTES = 256 * 1024 * 1024
MAX_INPUT_BYTES = 256 * 1024 * 1024  # a larger file is not hashed: its unit is not cached
_MAGIC = b"KLINT1 "
# What suppressions react to: ``# klint:`` comments and ``klint.dev/`` annotations (or an
# escape in a quoted string, which could spell one).
_KLINT = re.compile(rb"klint:|klint\.dev")
_ESCAPE = re.compile(rb"\\[uUx/]")


class CacheUnavailable(Exception):
    """The cache cannot be used in this run (the reason is a warning for stderr)."""


def secret_key() -> bytes:
    """The per-user HMAC key, created on first use (0600, outside any repository)."""
    found = user_cache_folder()
    if found is None:
        raise CacheUnavailable(
            "no absolute user cache folder (no home directory): the cache is off"
        )
    folder = Path(found)
    path = folder / "result-cache.key"
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(handle, "wb") as out:
                out.write(os.urandom(32).hex().encode())
        handle = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        with os.fdopen(handle, "rb") as source:
            info = os.fstat(source.fileno())
            secret = source.read(256)
    except OSError as error:
        raise CacheUnavailable(f"no result cache key in {folder}: {error.strerror}") from None
    if not is_private(info) or len(secret) < 32:
        raise CacheUnavailable(f"{path} is readable by others or damaged: the cache is off")
    return secret


def cache_directory(given: Path | None, root: Path) -> Path:
    """``--cache-dir``, else ``KLINT_CACHE_DIR``, else ``<root>/.klint_cache`` (never a link)."""
    chosen = given or (
        Path(os.environ["KLINT_CACHE_DIR"]) if os.environ.get("KLINT_CACHE_DIR") else None
    )
    if chosen is not None:
        return chosen if chosen.is_absolute() else Path.cwd() / chosen
    directory = root / DEFAULT_DIR
    try:
        info = os.lstat(directory)
    except FileNotFoundError:
        return directory
    except OSError as error:
        raise CacheUnavailable(f"{directory}: {error.strerror}") from None
    if not stat.S_ISDIR(info.st_mode):
        raise CacheUnavailable(f"{directory} is not a folder (a link?): the cache is off")
    return directory


class ResultCache:
    """The engine's cache hook for one run (see :class:`klint.engine.ResultCache`)."""

    def __init__(self, directory: Path, run_key: str, secret: bytes, max_bytes: int) -> None:
        self.directory = directory
        self.run_key = run_key
        self.secret = secret
        self.max_bytes = max_bytes
        self.keys: dict[int, str] = {}
        self.written = 0
        self.hits = 0
        self._digests: dict[str, tuple[str, bool]] = {}

    # -- keys --------------------------------------------------------------------------

    def prepare(self, units: Sequence[LintUnit], cwd: Path, helm_values: tuple[str, ...]) -> None:
        """Key every unit whose inputs are known.

        Suppressions connect units through files (a comment directive used by one unit is
        not "unused" in the next; a note is reported once, wherever it is located). Only a
        unit that may have a directive takes part: one that reads a file mentioning klint, a
        chart (its templates may write one anywhere) or a file of a chart. Such units that
        share any file form a group, keyed by the whole group, so they are replayed or
        linted together, never half and half (if one of them cannot be keyed, none is); the
        others are keyed alone. A unit whose inputs are unknown may read any file: then
        every unit that may have a directive is linted.
        """
        from klint.cache_inputs import unit_inputs

        found = [unit_inputs(unit, cwd, helm_values) for unit in units]
        own = [self._key(inputs) if inputs is not None else None for inputs in found]
        unknown = any(inputs is None for inputs in found)
        charted = {n for i in found if i is not None and i.mentions_klint for n in i.files}
        exposed = [
            i is not None
            and (i.mentions_klint or any(n in charted or self._mentions(n) for n in i.files))
            for i in found
        ]
        groups = _groups(
            [i.files if i is not None and up else () for i, up in zip(found, exposed, strict=True)]
        )
        members: dict[int, list[int]] = {}
        for index, group in enumerate(groups):
            members.setdefault(group, []).append(index)
        for indexes in members.values():
            keys = [own[i] if _cacheable(found[i]) else None for i in indexes]
            if (unknown and any(exposed[i] for i in indexes)) or None in keys:
                continue  # linted every time, together
            if len(indexes) == 1:
                self.keys[id(units[indexes[0]])] = str(keys[0])
                continue
            whole = hashlib.sha256("\n".join(str(key) for key in keys).encode()).hexdigest()
            for i, key in zip(indexes, keys, strict=True):
                self.keys[id(units[i])] = hashlib.sha256(f"{whole}|{key}".encode()).hexdigest()

    def _mentions(self, name: str) -> bool:
        """Whether a file may hold a klint directive (True when it could not be read)."""
        return (self._digests.get(name) or ("", True))[1]

    def _key(self, inputs: UnitInputs) -> str | None:
        digest = hashlib.sha256(
            f"{FORMAT}\n{self.run_key}\n{inputs.identity}\n".encode(errors="surrogatepass")
        )
        for name in inputs.files:
            found = self._digest(name)
            if found is None:
                return None
            digest.update(f"{name}\0{found[0]}\n".encode(errors="surrogatepass"))
        if inputs.buffer is not None:
            digest.update(hashlib.sha256(inputs.buffer).hexdigest().encode())
        elif not inputs.files and not inputs.reads_nothing:
            return None  # a unit that reads no file it names (a chart path that is gone)
        return digest.hexdigest()

    def _digest(self, name: str) -> tuple[str, bool] | None:
        """A file's content hash and whether it mentions klint; None: too large to key."""
        if name not in self._digests:
            try:
                if not _readable(name):
                    return None  # a FIFO, a device or a link out of the repository
                with open(name, "rb") as handle:
                    size = os.fstat(handle.fileno()).st_size
                    data = read_limited(handle, size, MAX_INPUT_BYTES)
            except FileNotFoundError:
                self._digests[name] = ("missing", False)
                return self._digests[name]
            except OSError:
                return None
            if len(data) > MAX_INPUT_BYTES:
                return None
            mentions = _mentions_klint(data)
            self._digests[name] = (hashlib.sha256(data).hexdigest(), mentions)
        return self._digests[name]

    # -- entries -----------------------------------------------------------------------

    def _entry(self, key: str) -> Path:
        return self.directory / FORMAT / key[:2] / key

    def _mac(self, key: str, body: bytes) -> str:
        return hmac.new(self.secret, key.encode() + b"\0" + body, hashlib.sha256).hexdigest()

    def get(self, unit: LintUnit) -> UnitResult | None:
        """The stored results of ``unit`` when its entry is present and authentic."""
        key = self.keys.get(id(unit))
        if key is None:
            return None
        path = self._entry(key)
        if not _real_folders(path.parent.parent, path.parent):
            return None  # a committed link would make the read leave the repository
        try:
            handle = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
            with os.fdopen(handle, "rb") as source:
                info = os.fstat(source.fileno())
                if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_ENTRY_BYTES:
                    return None
                data = read_limited(source, info.st_size, MAX_ENTRY_BYTES)
        except OSError:
            return None
        head, _, body = data.partition(b"\n")
        if not head.startswith(_MAGIC):
            return None
        if not hmac.compare_digest(head[len(_MAGIC) :], self._mac(key, body).encode()):
            return None  # forged, damaged or written with another key
        try:
            parsed = json.loads(body)
            if parsed.get("key") != key:
                return None
            result = decode_result(parsed["result"])
        except (ValueError, KeyError, TypeError, AttributeError, CodecError):
            return None
        with contextlib.suppress(OSError):
            os.utime(path)  # recently used: evicted last
        self.hits += 1
        return result

    def put(self, unit: LintUnit, result: UnitResult) -> None:
        """Store the results of a keyed unit, unless a problem of it depends on the machine or
        the moment (a time or memory limit, a child killed, an internal error): such a unit
        is linted again next time. Input problems (a YAML error, a chart that does not
        render, a refused base) are results of the unit's inputs: stored like findings."""
        key = self.keys.get(id(unit))
        notes = (*result.notifications, *result.skipped)
        if key is None or not all(n.repeatable for n in notes):
            return
        try:
            payload = {"key": key, "result": encode_result(result)}
        except CodecError:
            return
        body = json.dumps(payload, separators=(",", ":")).encode()  # ASCII: lone surrogates survive
        data = _MAGIC + self._mac(key, body).encode() + b"\n" + body
        path = self._entry(key)
        try:
            self._folder(path.parent)
            temporary = path.parent / f".{key}.{os.getpid()}.tmp"
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
            handle = os.open(temporary, flags, 0o600)
            try:
                with os.fdopen(handle, "wb") as out:
                    out.write(data)
                os.replace(temporary, path)
            except OSError:
                os.unlink(temporary)
                raise
        except OSError:
            return
        self.written += len(data)

    def _folder(self, folder: Path) -> None:
        """Create ``folder`` below the cache directory; a link anywhere on the way refuses."""
        if not self.directory.exists():
            self.directory.mkdir(parents=True, exist_ok=True)
            (self.directory / ".gitignore").write_text("# created by klint\n*\n")
            (self.directory / "CACHEDIR.TAG").write_text(
                "Signature: 8a477f597d28d172789f06886806bc55\n# klint's result cache\n"
            )
        for part in (folder.parent, folder):
            with contextlib.suppress(FileExistsError):
                os.mkdir(part, 0o700)
            if not stat.S_ISDIR(os.lstat(part).st_mode):
                raise OSError(f"{part} is not a folder")

    def close(self) -> None:
        """Keep the folder under its size bound: the least recently used entries go first."""
        if not self.written:
            return
        entries: list[tuple[float, int, str]] = []
        root = self.directory / FORMAT
        if not _real_folders(root):
            return
        try:
            for group in os.scandir(root):
                if not group.is_dir(follow_symlinks=False):
                    continue
                for entry in os.scandir(group.path):
                    if entry.is_file(follow_symlinks=False):
                        info = entry.stat(follow_symlinks=False)
                        entries.append((info.st_mtime, info.st_size, entry.path))
        except OSError:
            return
        total = sum(size for _, size, _ in entries)
        if total <= self.max_bytes:
            return
        for _, size, name in sorted(entries):
            if total <= self.max_bytes * 0.8:
                break
            try:
                os.unlink(name)
            except OSError:
                continue
            total -= size


def _mentions_klint(data: bytes) -> bool:
    """Whether a file's bytes may hold a directive (``in`` first: it is many times faster)."""
    return (b"klint" in data and _KLINT.search(data) is not None) or (
        b"\\" in data and _ESCAPE.search(data) is not None
    )


def _cacheable(inputs: UnitInputs | None) -> bool:
    return inputs is not None and inputs.cacheable


def _groups(files: Sequence[Sequence[str]]) -> list[int]:
    """For each unit, the smallest index of the units it shares a file with, transitively."""
    parent = list(range(len(files)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    owner: dict[str, int] = {}
    for index, names in enumerate(files):
        for name in names:
            other = owner.setdefault(name, index)
            a, b = find(index), find(other)
            if a != b:
                parent[max(a, b)] = min(a, b)
    return [find(i) for i in range(len(files))]


def _readable(name: str) -> bool:
    """Whether the cache may read ``name`` to key a unit: a regular file that a link does not
    take out of its repository (the unit's own confinement root)."""
    from klint.sources.confine import unit_root

    absolute = os.path.abspath(name)
    mode = os.lstat(name).st_mode
    if stat.S_ISLNK(mode):
        mode = os.stat(name).st_mode
    if not stat.S_ISREG(mode):
        return False
    real = real_path(absolute)  # each folder resolved once (scans_shared)
    if real == absolute:
        return True  # no link on the way
    root = unit_root(Path(os.path.dirname(absolute)))
    return Path(real).is_relative_to(real_path(root))


def _real_folders(*folders: Path) -> bool:
    """Whether each of ``folders`` is a folder itself, not a symbolic link to one."""
    try:
        return all(stat.S_ISDIR(os.lstat(folder).st_mode) for folder in folders)
    except OSError:
        return False


def source_stamp() -> str:
    """klint's version and the size and time of its own modules (a checkout changes them)."""
    from klint import __version__

    package = Path(__file__).resolve().parent
    digest = hashlib.sha256(__version__.encode())
    for directory, folders, names in os.walk(package):
        folders[:] = sorted(f for f in folders if f != "__pycache__")
        for name in sorted(names):
            if name.endswith((".py", ".json", ".gz", ".yaml")):
                info = os.stat(os.path.join(directory, name))
                digest.update(
                    f"{directory}/{name}|{info.st_size}|{info.st_mtime_ns}\n".encode(
                        errors="surrogatepass"
                    )
                )
    return f"{__version__}|{digest.hexdigest()}"


def files_digest(paths: Sequence[str]) -> str:
    """The content of files and folders named on the command line (``--crd``, ``--policy``)."""
    digest = hashlib.sha256()
    for given in paths:
        found = (
            [given]
            if not os.path.isdir(given)
            else sorted(os.path.join(d, n) for d, _, names in os.walk(given) for n in names)
        )
        for name in found:
            try:
                digest.update(
                    f"{name}\0{Path(name).read_bytes().hex()}\n".encode(errors="surrogatepass")
                )
            except OSError as error:
                digest.update(f"{name}\0{error.errno}\n".encode(errors="surrogatepass"))
    return digest.hexdigest()


def tool_stamp() -> str:
    """Which kustomize (or kubectl) builds overlays: another one may build other objects."""
    import shutil

    stamps = []
    for name in ("kustomize", "kubectl"):
        found = shutil.which(name)
        if found is not None:
            info = os.stat(found)
            stamps.append(f"{found}|{info.st_size}|{info.st_mtime_ns}")
    return ";".join(stamps)


def open_cache(
    given_dir: Path | None, root: Path, key_parts: Sequence[str]
) -> tuple[ResultCache | None, list[str]]:
    """The result cache for a run, or None with a warning when it cannot be used."""
    try:
        directory = cache_directory(given_dir, root)
        secret = secret_key()
    except CacheUnavailable as error:
        return None, [f"klint: warning: {error}"]
    limit = os.environ.get("KLINT_CACHE_MAX_MB", "")
    max_bytes = int(limit) * 1024 * 1024 if limit.isdigit() else DEFAULT_MAX_BYTES
    run_key = hashlib.sha256(
        "\n".join([source_stamp(), tool_stamp(), *key_parts]).encode(errors="surrogatepass")
    ).hexdigest()
    return ResultCache(directory, run_key, secret, max_bytes), []

"""Reading kustomization files: the parsed file and the small value helpers every step shares."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from klint.documents import Document, ParsedStream, decode, parse_stream
from klint.sources.confine import read_inside
from klint.sources.names import find_kustomization_root as _find_root
from klint.sources.names import kustomization_file

try:
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]


def safe_yaml_strict(text: str) -> Any:
    return yaml.load(text, Loader=_Loader)


def safe_yaml(text: str) -> Any:
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.YAMLError:
        return None


@dataclass
class Kustomization:
    """A parsed kustomization file (``data`` is empty when it does not parse)."""

    directory: str
    file: Path
    data: dict[str, Any]
    document: Document | None


def load_kustomization(directory: str, root: Path | None = None) -> Kustomization | None:
    """The kustomization in ``directory``; None when there is none, or when it is a link
    that leads outside ``root`` (never read)."""
    path = kustomization_file(Path(directory))
    if path is None:
        return None
    stream = read_stream(path, root)
    document = stream.documents[0] if stream is not None and stream.documents else None
    data = document.data if document is not None and isinstance(document.data, dict) else {}
    return Kustomization(directory, path, data, document)


def read_stream(path: Path, root: Path | None = None) -> ParsedStream | None:
    """A kustomization, patch or resource file parsed; None when it is not a regular file
    (a FIFO never blocks), is over 32 MiB, lies outside ``root`` or does not decode."""
    raw = read_inside(path, root)
    if raw is None:
        return None
    text, _ = decode(raw, str(path))
    return parse_stream(text, str(path)) if text is not None else None


SHARED_MIN_BYTES = 64 * 1024
_SHARED_MAX_BYTES = 16 * 1024 * 1024
_SHARED: dict[str, tuple[bytes, ParsedStream | None]] = {}


def read_shared_stream(path: Path, root: Path | None = None) -> ParsedStream | None:
    """:func:`read_stream` for origin files, which callers only read: a large file whose
    bytes are unchanged since an earlier build of this process (a base that many overlays
    include) is parsed once."""
    raw = read_inside(path, root)
    if raw is None:
        return None
    if len(raw) < SHARED_MIN_BYTES:
        text, _ = decode(raw, str(path))
        return parse_stream(text, str(path)) if text is not None else None
    return shared_parse(path, raw)


def shared_parse(path: Path, raw: bytes) -> ParsedStream | None:
    """The parse of ``raw``, the bytes just read from ``path`` (at least
    ``SHARED_MIN_BYTES``), done once per process while they stay the same."""
    key = str(path)
    hit = _SHARED.get(key)
    if hit is not None and hit[0] == raw:
        return hit[1]
    text, _ = decode(raw, str(path))
    parsed = parse_stream(text, key) if text is not None else None
    if sum(len(held) for held, _ in _SHARED.values()) + len(raw) <= _SHARED_MAX_BYTES:
        _SHARED[key] = (raw, parsed)
    return parsed


def join_entry(directory: str, entry: str) -> str:
    return os.path.normpath(os.path.join(directory, entry))


def as_mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [item for item in value if isinstance(item, str)]
    return []


def indexed_dicts(value: Any) -> list[tuple[int, dict[str, Any]]]:
    if not isinstance(value, list):
        return []
    return [(index, item) for index, item in enumerate(value) if isinstance(item, dict)]


def is_inline(entry: str) -> bool:
    return "\n" in entry.strip()


def is_kustomization_dir(path: Path) -> bool:
    """Whether ``path`` is a directory holding a kustomization file."""
    return path.is_dir() and kustomization_file(path) is not None


def find_kustomization_root(path: Path) -> Path | None:
    """The nearest directory (``path`` itself, or above it) holding a kustomization file."""
    return _find_root(path if path.is_dir() else path.parent)


def patch_files(kustomization: Kustomization) -> set[str]:
    """The files a kustomization applies as patches (normalised absolute paths).

    Such a file holds a fragment of an object, not an object: linted alone it would report
    missing selectors and templates that the overlay build never has.
    """
    data = kustomization.data
    entries = [e for e in as_strings(data.get("patchesStrategicMerge")) if not is_inline(e)]
    for key in ("patches", "patchesJson6902"):
        entries += [
            item["path"]
            for _, item in indexed_dicts(data.get(key))
            if isinstance(item.get("path"), str)
        ]
    base = os.path.abspath(kustomization.directory)
    return {join_entry(base, entry) for entry in entries}


def overlay_patching(path: Path, root: Path) -> Path | None:
    """The kustomization directory (``path``'s folder or above, inside ``root``) patching it."""
    target = os.path.normpath(os.path.abspath(path))
    top = Path(os.path.abspath(root))
    for directory in [Path(os.path.abspath(path)).parent, *Path(os.path.abspath(path)).parents]:
        if directory != top and top not in directory.parents:
            break
        kustomization = load_kustomization(str(directory), top)
        if kustomization is not None and target in patch_files(kustomization):
            return directory
    return None

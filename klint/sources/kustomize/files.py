"""Reading kustomization files: the parsed file and the small value helpers every step shares."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from klint.documents import Document, ParsedStream, decode, parse_stream
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


def load_kustomization(directory: str) -> Kustomization | None:
    path = kustomization_file(Path(directory))
    if path is None:
        return None
    stream = read_stream(path)
    document = stream.documents[0] if stream is not None and stream.documents else None
    data = document.data if document is not None and isinstance(document.data, dict) else {}
    return Kustomization(directory, path, data, document)


def read_stream(path: Path) -> ParsedStream | None:
    try:
        raw = path.read_bytes()
    except OSError:
        return None
    text, _ = decode(raw, str(path))
    return parse_stream(text, str(path)) if text is not None else None


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

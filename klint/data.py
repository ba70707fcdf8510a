"""Find klint's data folders (``rules/``, ``schemas/``) installed or in a checkout."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def data_path(*parts: str) -> Path:
    """Path of a file or folder under ``rules/`` or ``schemas/``.

    An installed wheel carries them in ``klint/_data``; a checkout or editable install has
    them beside the package.
    """
    installed = _PACKAGE / "_data"
    base = installed if installed.is_dir() else _PACKAGE.parent
    return base.joinpath(*parts)

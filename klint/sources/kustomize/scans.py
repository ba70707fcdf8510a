"""Kustomize trees scanned once per run where a run asks twice: discovery plans the overlays
of a walk and the result cache keys them, both from :meth:`Tree.scan` of the same folder and
root (a repository does not change under one run; builds still scan for themselves)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

_remembered: dict[tuple[str, str], Any] | None = None


@contextlib.contextmanager
def scans_shared() -> Iterator[None]:
    """Within the block, a folder scanned with the same root is scanned once."""
    global _remembered
    outer = _remembered
    _remembered = {} if outer is None else outer
    try:
        yield
    finally:
        _remembered = outer


def remembered() -> dict[tuple[str, str], Any] | None:
    """The scans of the current block (None outside one)."""
    return _remembered

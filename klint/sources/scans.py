"""Kustomize trees scanned once per run where a run asks again: discovery plans the overlays
of a walk and the result cache keys them, both from :meth:`Tree.scan` of the same folders,
and overlays that share bases read each base's kustomization once (a repository does not
change under one run; builds, later, still scan for themselves)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from klint.sources.confine import real_paths_remembered

T = TypeVar("T")
_remembered: dict[tuple[str, str], Any] | None = None


@contextlib.contextmanager
def scans_shared() -> Iterator[None]:
    """Within the block, :func:`once` computes each value once, and
    :func:`~klint.sources.confine.real_path` resolves each folder once."""
    global _remembered
    outer = _remembered
    _remembered = {} if outer is None else outer
    try:
        with real_paths_remembered():
            yield
    finally:
        _remembered = outer


def once(kind: str, key: str, compute: Callable[[], T]) -> T:
    """``compute()``; within a :func:`scans_shared` block, what it gave for ``(kind, key)``
    the first time."""
    if _remembered is None:
        return compute()
    if (kind, key) not in _remembered:
        _remembered[kind, key] = compute()
    found: T = _remembered[kind, key]
    return found

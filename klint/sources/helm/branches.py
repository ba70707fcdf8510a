"""Template branches that write the same key: which one rendered the object.

The arms of an ``if``/``else`` or ``with``/``else`` often write the same key
(``securityContext:`` from values in one arm, a literal rootless block in the next, a
privileged one in the last). Masked into a key tree they are sibling keys of one name, and
the first is not always the one that rendered. The arm whose literal text agrees with the
rendered value is: a literal scalar that differs from what rendered, or a rendered key an
arm cannot write (it has no block action), rules the arm out; among the others, the one
whose literal keys the rendered mapping holds best wins, then the first. A literal key the
rendered mapping lacks rules the arm out too, unless an ``if`` inside the arm writes it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol


class Branch(Protocol):
    """A key of the template's key tree (template_map's entries)."""

    @property
    def kind(self) -> str: ...
    @property
    def key(self) -> str | None: ...
    @property
    def value(self) -> str | None: ...
    @property
    def block_depth(self) -> int: ...
    @property
    def children(self) -> Sequence[Branch]: ...


def pick_branch(candidates: Sequence[Branch], rendered: object, nothing: object) -> Branch:
    """The candidate (keys of one name under one parent) that rendered ``rendered``; the
    first when nothing tells them apart (``rendered`` is ``nothing``: not known)."""
    if rendered is nothing:
        return candidates[0]
    scored = [(fit, i) for i, c in enumerate(candidates) if (fit := fits(c, rendered)) is not None]
    if not scored:
        return candidates[0]
    _, best = max(scored, key=lambda pair: (pair[0], -pair[1]))  # the first of the best
    return candidates[best]


def fits(entry: Branch, rendered: object) -> int | None:
    """How well ``entry``'s literal text agrees with ``rendered`` (None: it cannot have
    rendered it)."""
    if entry.value is not None:
        if isinstance(rendered, (dict, list)) or not _same_scalar(entry.value, rendered):
            return None
        return 1
    if isinstance(rendered, list):
        return _list_fit(entry, rendered)
    keys = [c for c in entry.children if c.kind == "key" and c.key is not None]
    if not keys or not isinstance(rendered, dict):
        return 0  # blocks only, list items, or nothing literal to compare
    blocks = any(c.kind == "inject" for c in entry.children)
    literal = {c.key for c in keys}
    if not blocks and any(key not in literal for key in rendered):
        return None
    score = 0
    for child in keys:
        if child.key not in rendered:
            if child.block_depth <= entry.block_depth:
                return None  # written on no condition, yet not rendered
            continue
        inner = fits(child, rendered[child.key])
        if inner is None:
            return None
        score += 1 + inner
    return score


def _list_fit(entry: Branch, rendered: list[object]) -> int | None:
    """A list written as literal scalar items (``- pods/exec``) on no condition of its own
    agrees with ``rendered`` only when the items are the same; any other list may have."""
    items = [c for c in entry.children if c.kind == "item"]
    literal = [c.value for c in items if c.value is not None]
    if (
        not items
        or len(items) != len(entry.children)
        or any(c.block_depth > entry.block_depth for c in items)
        or len(literal) != len(items)
    ):
        return 0
    if len(literal) != len(rendered):
        return None
    same = all(_same_scalar(v, r) for v, r in zip(literal, rendered, strict=True))
    return len(literal) if same else None


def _same_scalar(literal: str, rendered: object) -> bool:
    """Whether the plain scalar ``literal`` reads as ``rendered`` (YAML 1.1 as Helm's output
    is parsed: ``true``, ``1000``, ``Unconfined``)."""
    if isinstance(rendered, bool):
        return literal.lower() in ("true", "false") and (literal.lower() == "true") == rendered
    if isinstance(rendered, (int, float)):
        try:
            return float(literal) == rendered
        except ValueError:
            return False
    if rendered is None:
        return literal in ("null", "~", "Null", "NULL")
    return literal == rendered

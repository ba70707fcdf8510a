"""Template branches that write the same key, and list items inside `if` blocks: which one
rendered the object.

The arms of an ``if``/``else`` or ``with``/``else`` often write the same key
(``securityContext:`` from values in one arm, a literal rootless block in the next, a
privileged one in the last). Masked into a key tree they are sibling keys of one name, and
the first is not always the one that rendered. The arm whose literal text agrees with the
rendered value is: a literal scalar that differs from what rendered, or a rendered key an
arm cannot write (it has no block action), rules the arm out; among the others, the one
whose literal keys the rendered mapping holds best wins, then the first. A literal key the
rendered mapping lacks rules the arm out too, unless an ``if`` inside the arm writes it.

List items are matched the same way: an item with a templated ``name`` by the literal text
around its actions, and items inside ``if`` blocks (an RBAC rule only some values render) by
aligning the template's items with the rendered list in order.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Sequence
from typing import Protocol

from klint.sources.helm.actions import HOLE


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
    def range_depth(self) -> int: ...
    @property
    def pattern(self) -> str | None: ...
    @property
    def children(self) -> Sequence[Branch]: ...


def pick_branch(
    candidates: Sequence[Branch],
    rendered: object,
    nothing: object,
    by_values: Callable[[Branch], object] | None = None,
) -> Branch:
    """The candidate (keys of one name under one parent) that rendered ``rendered``; the
    first when nothing tells them apart (``rendered`` is ``nothing``: not known). Arms the
    text cannot tell apart (``toYaml .Values.a`` in one, ``toYaml .Values.b`` in the other)
    are told apart by ``by_values``, the values an arm prints (``nothing``: not known):
    the one arm whose values are what rendered."""
    if rendered is nothing:
        return candidates[0]
    scored = [(fit, i) for i, c in enumerate(candidates) if (fit := fits(c, rendered)) is not None]
    if not scored:
        return candidates[0]
    best = max(fit for fit, _ in scored)
    top = [i for fit, i in scored if fit == best]  # in order: the first of the best
    if len(top) > 1 and by_values is not None:
        agreeing = [i for i in top if by_values(candidates[i]) == rendered]
        if len(agreeing) == 1:
            return candidates[agreeing[0]]
    return candidates[top[0]]


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


def aligned_item(node: Branch, part: int, rendered: object) -> Branch | None:
    """The template item that rendered item ``part`` of the rendered list, when items
    inside ``if`` blocks may not have rendered: the template's items are matched to the
    rendered ones in order, and a conditional item whose literal text cannot have rendered
    the next rendered item is taken to be one its ``if`` dropped. Items of a ``range``
    stand for its first pass (how many it made is not known: past it, nothing is aligned).
    None when the list has no conditional item or nothing rendered is known."""
    items = [c for c in node.children if c.kind == "item"]
    if not isinstance(rendered, list) or not 0 <= part < len(rendered):
        return None
    if any(c.kind == "inject" for c in node.children):
        return None
    if not any(c.block_depth > node.block_depth for c in items):
        return None
    position = 0
    for index, item in enumerate(items):
        if position >= len(rendered):
            return None
        if item.range_depth > node.range_depth:
            group = list(
                itertools.takewhile(lambda c: c.range_depth > node.range_depth, items[index:])
            )
            offset = part - position
            return group[offset] if 0 <= offset < len(group) else None
        if item.block_depth > node.block_depth and fits(item, rendered[position]) is None:
            continue  # its ``if`` dropped it
        if position == part:
            return item
        position += 1
    return None


def name_pattern_fit(item: Branch, name: str) -> int | None:
    """How many literal characters of the item's templated ``name`` match ``name`` (None
    when it cannot have rendered it)."""
    pattern = next(
        (c.pattern for c in item.children if c.kind == "key" and c.key == "name" and c.pattern),
        None,
    )
    if pattern is None:
        return None
    pieces = [p for p in re.split(f"{HOLE}+", pattern)]
    regex = ".*".join(re.escape(p) for p in pieces)
    return sum(len(p) for p in pieces) if re.fullmatch(regex, name, re.DOTALL) else None


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

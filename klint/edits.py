"""Fix plans → text edits of the scanned file, from the node positions the scan already has.

A plan says *what* changes (set a field, delete a key, add a list item, in object field
paths); this module says *where in the text*: setting a scalar replaces its span, adding a
key inserts a line after the last line of its mapping with that mapping's indentation
(block style) or ``, key: value`` after its last value (flow style and JSON), adding a list
item likewise, deleting a key removes its lines. Nothing is parsed or dumped again, so
comments, quoting and layout outside the edited spans stay byte for byte.

What text edits cannot express safely raises :class:`NoEdit` (the finding then has no fix):
a value reached through an alias or a merge key (editing it would change other objects),
block scalars, list items that do not exist.
"""

from __future__ import annotations

import itertools
import json
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from klint.catalog import Rule
from klint.documents import Document
from klint.findings import FieldPath, Fix, Span, TextEdit
from klint.fixes import Edit, FixPlan, applicability, describe_fix, plan_for

_PLAIN = re.compile(r"^[A-Za-z][A-Za-z0-9_.\-/]*$")
_NULLS = frozenset(["", "~", "null", "Null", "NULL"])
_RESERVED = frozenset(
    [
        "y",
        "Y",
        "yes",
        "Yes",
        "YES",
        "n",
        "N",
        "no",
        "No",
        "NO",
        "true",
        "True",
        "TRUE",
        "false",
        "False",
        "FALSE",
        "on",
        "On",
        "ON",
        "off",
        "Off",
        "OFF",
        "null",
        "Null",
        "NULL",
    ]
)


class NoEdit(Exception):
    """The plan cannot be written as text edits here; the message says why."""


def scan_fix(
    rule: Rule, document: Document, obj: Any, base: FieldPath, path: FieldPath
) -> Fix | None:
    """The fix of a finding of ``rule`` at ``path`` of ``obj`` (at ``base`` in ``document``)."""
    plan = plan_for(rule, obj, path)
    if plan is None:
        return None
    try:
        return fix_from_plan(rule, plan, document, base)
    except NoEdit:
        return None


def fix_from_plan(rule: Rule, plan: FixPlan, document: Document, base: FieldPath) -> Fix | None:
    """``plan`` as a :class:`Fix` of ``document``'s file; None when nothing changes."""
    edits = plan_edits(document, base, plan)
    if not edits:
        return None
    level = applicability(rule, plan)
    shared = tuple(TextEdit(edit.span, sys.intern(edit.text)) for edit in edits)
    return Fix(sys.intern(describe_fix(plan, level)), level, shared)


def plan_edits(document: Document, base: FieldPath, plan: FixPlan) -> tuple[TextEdit, ...]:
    """The text edits of every change of ``plan`` (paths relative to ``base``)."""
    writer = _Writer(document)
    found: list[TextEdit] = []
    for change in plan.edits:
        edit = writer.edit(change, (*base, *change.path))
        if edit is not None:
            found.append(edit)
    spans = sorted(found, key=lambda e: (e.span.start_line, e.span.start_column))
    for first, second in itertools.pairwise(spans):
        if _end(first) > _start(second) or _start(first) == _start(second):
            raise NoEdit("the changes of this fix overlap")
    return tuple(spans)


def _start(edit: TextEdit) -> tuple[int, int]:
    return edit.span.start_line, edit.span.start_column


def _end(edit: TextEdit) -> tuple[int, int]:
    return edit.span.end_line, edit.span.end_column


# --- rendering values -----------------------------------------------------------------


def render_scalar(value: Any, *, quoted: bool = False) -> str:
    """A value as YAML (or JSON with ``quoted``) writes it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    text = str(value)
    if quoted or not _PLAIN.match(text) or text in _RESERVED:
        return json.dumps(text, ensure_ascii=False)
    return text


def _flow(keys: Sequence[str], leaf: str, quoted: bool) -> str:
    """``a: {b: leaf}`` for the missing ``keys`` (the first one outside braces)."""
    text = leaf
    for key in reversed(keys[1:]):
        text = f"{{{render_scalar(key, quoted=quoted)}: {text}}}"
    return f"{render_scalar(keys[0], quoted=quoted)}: {text}"


# --- positions ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Step:
    """One node on the way down a field path and the key node that led to it."""

    node: yaml.Node
    key: yaml.Node | None


def _pos(mark: yaml.Mark) -> tuple[int, int]:
    return mark.line, mark.column


class _Writer:
    """Edits for one document: resolves paths strictly and renders insertions."""

    def __init__(self, document: Document) -> None:
        self.document = document
        self.offset = document.line_offset
        self.lines = document.text_lines

    # positions are 0-based (line in the document's text, column); spans are 1-based
    def span(self, start: tuple[int, int], end: tuple[int, int]) -> Span:
        line = start[0] + 1 + self.offset
        end_line = line if end[0] == start[0] else end[0] + 1 + self.offset  # one int object
        return Span(line, start[1] + 1, end_line, end[1] + 1)

    def line_text(self, line: int) -> str:
        index = line + self.offset
        return self.lines[index] if 0 <= index < len(self.lines) else ""

    def edit(self, change: Edit, path: FieldPath) -> TextEdit | None:
        steps, rest = self.walk(path)
        if change.op == "delete":
            if rest:
                return None  # nothing to delete
            return self.delete(steps)
        if change.op == "set":
            if not rest:
                return self.replace(steps[-1], change.value)
            return self.insert(steps, rest, change.value, sequence=False)
        if not rest:
            return self.append(steps[-1], change.value)
        return self.insert(steps, rest, change.value, sequence=True)

    def walk(self, path: FieldPath) -> tuple[list[_Step], FieldPath]:
        """The nodes along ``path`` that exist and the steps that do not."""
        steps = [_Step(self.document.root, None)]
        for depth, part in enumerate(path):
            node = steps[-1].node
            child: _Step | None = None
            if isinstance(node, yaml.MappingNode) and isinstance(part, str):
                for key, value in node.value:
                    if isinstance(key, yaml.ScalarNode) and key.value == part:
                        child = _Step(value, key)
                if child is None and any(_is_merge(key) for key, _ in node.value):
                    raise NoEdit("the mapping takes keys from a YAML merge key (<<)")
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
                if not 0 <= part < len(node.value):
                    raise NoEdit("the list item is not in this file")
                child = _Step(node.value[part], None)
            elif isinstance(node, yaml.SequenceNode) or (
                isinstance(node, yaml.ScalarNode) and node.value not in _NULLS
            ):
                raise NoEdit("the field's parent is not a mapping")
            if child is None:
                return steps, path[depth:]
            anchor = child.key.end_mark if child.key is not None else node.start_mark
            if _pos(child.node.start_mark) < _pos(anchor):
                raise NoEdit("the value is an alias: editing it would change other places")
            steps.append(child)
        return steps, ()

    # --- replace / delete -----------------------------------------------------------

    def replace(self, step: _Step, value: Any) -> TextEdit | None:
        node = step.node
        if not isinstance(node, yaml.ScalarNode):
            raise NoEdit("the field holds a list or mapping, not a value")
        if node.style in ("|", ">"):
            raise NoEdit("the value is a block scalar")
        quoted = node.style == '"' and not isinstance(value, bool | int)
        text = render_scalar(value, quoted=quoted)
        start, end = _pos(node.start_mark), _pos(node.end_mark)
        if start[0] == end[0] and self.line_text(start[0])[start[1] : end[1]] == text:
            return None
        if not node.value and not node.style:
            text = " " + text if start == end and not self._space_before(start) else text
        return TextEdit(self.span(start, end), text)

    def _space_before(self, at: tuple[int, int]) -> bool:
        line = self.line_text(at[0])
        return at[1] > 0 and line[at[1] - 1 : at[1]] == " "

    def delete(self, steps: list[_Step]) -> TextEdit:
        mapping, key = steps[-2].node, steps[-1].key
        assert isinstance(mapping, yaml.MappingNode) and key is not None
        pairs = mapping.value
        index = next(i for i, (k, _) in enumerate(pairs) if k is key)
        value = pairs[index][1]
        if mapping.flow_style:
            if index > 0:
                return TextEdit(
                    self.span(_pos(pairs[index - 1][1].end_mark), _pos(value.end_mark)), ""
                )
            if len(pairs) > 1:
                return TextEdit(self.span(_pos(key.start_mark), _pos(pairs[1][0].start_mark)), "")
            return TextEdit(self.span(_pos(key.start_mark), _pos(value.end_mark)), "")
        first_line = key.start_mark.line
        if self.line_text(first_line)[: key.start_mark.column].strip():
            # the first key of a list item (``- hostPort: 80``): keep the dash
            if len(pairs) < 2:
                raise NoEdit("the key is the list item's only key")
            return TextEdit(self.span(_pos(key.start_mark), _pos(pairs[1][0].start_mark)), "")
        last = self.last_line(value)
        return self.remove_lines(first_line, last)

    def remove_lines(self, first: int, last: int) -> TextEdit:
        """Delete whole lines ``first``..``last`` (0-based, document lines)."""
        if last + 1 + self.offset < len(self.lines):
            return TextEdit(self.span((first, 0), (last + 1, 0)), "")
        if first + self.offset == 0:
            return TextEdit(self.span((0, 0), (last, len(self.line_text(last)))), "")
        previous = first - 1
        end = (last, len(self.line_text(last)))
        return TextEdit(self.span((previous, len(self.line_text(previous))), end), "")

    def last_line(self, node: yaml.Node) -> int:
        """The last line (0-based) holding text of ``node`` (block nodes end later)."""
        while isinstance(node, yaml.MappingNode | yaml.SequenceNode) and not node.flow_style:
            if not node.value:
                break
            last = node.value[-1]
            node = last[1] if isinstance(node, yaml.MappingNode) else last
        end = node.end_mark
        line = end.line - 1 if end.column == 0 and end.line > node.start_mark.line else end.line
        while line > node.start_mark.line and not self.line_text(line).strip():
            line -= 1
        return line

    # --- insert ---------------------------------------------------------------------

    def insert_after(self, line: int, block: str) -> TextEdit:
        """Insert the lines ``block`` (ending in a newline) after document line ``line``."""
        if line + 1 + self.offset < len(self.lines):
            return TextEdit(self.span((line + 1, 0), (line + 1, 0)), block)
        end = (line, len(self.line_text(line)))
        return TextEdit(self.span(end, end), "\n" + block.removesuffix("\n"))

    def insert(self, steps: list[_Step], rest: FieldPath, leaf: Any, *, sequence: bool) -> TextEdit:
        """Create the missing keys ``rest`` below the last node of ``steps``."""
        if not all(isinstance(part, str) for part in rest):
            raise NoEdit("the list item is not in this file")
        keys = [str(part) for part in rest]
        target = steps[-1]
        node = target.node
        if isinstance(node, yaml.ScalarNode):  # ``securityContext:`` or ``~``: no mapping yet
            if node.value not in _NULLS or node.style:
                raise NoEdit("the field's parent is not a mapping")
            return self.fill_null(steps, keys, leaf, sequence)
        if not isinstance(node, yaml.MappingNode):
            raise NoEdit("the field's parent is not a mapping")
        if node.flow_style:
            return self.insert_flow(node, keys, leaf, sequence)
        column = node.value[0][0].start_mark.column
        body = self.block(keys, leaf, sequence, column, steps)
        return self.insert_after(self.last_line(node), body)

    def block(
        self, keys: Sequence[str], value: Any, sequence: bool, column: int, steps: list[_Step]
    ) -> str:
        """Block lines for ``keys`` nested from ``column``, ending in ``value``."""
        step = self.indent_step(steps)
        leaf = render_scalar(value)
        lines = []
        for depth, key in enumerate(keys):
            pad = " " * (column + depth * step)
            last = depth == len(keys) - 1
            if last and not sequence:
                lines.append(f"{pad}{render_scalar(key)}: {leaf}")
            else:
                lines.append(f"{pad}{render_scalar(key)}:")
        if sequence:
            pad = " " * (column + (len(keys) - 1) * step + self.dash_offset(steps))
            lines.append(f"{pad}- {leaf}")
        return "\n".join(lines) + "\n"

    def insert_flow(
        self, node: yaml.MappingNode, keys: Sequence[str], value: Any, sequence: bool
    ) -> TextEdit:
        quoted = bool(node.value) and node.value[0][0].style == '"'
        leaf = render_scalar(value, quoted=quoted)
        pair = _flow(keys, f"[{leaf}]" if sequence else leaf, quoted)
        if not node.value:
            at = (node.start_mark.line, node.start_mark.column + 1)
            return TextEdit(self.span(at, at), pair)
        last_key, last_value = node.value[-1]
        at = _pos(last_value.end_mark)
        if last_key.start_mark.line > node.start_mark.line and at[0] > node.start_mark.line:
            pad = " " * last_key.start_mark.column
            return TextEdit(self.span(at, at), f",\n{pad}{pair}")
        return TextEdit(self.span(at, at), f", {pair}")

    def fill_null(
        self, steps: list[_Step], keys: Sequence[str], value: Any, sequence: bool
    ) -> TextEdit:
        node, key = steps[-1].node, steps[-1].key
        parent = steps[-2].node if len(steps) > 1 else None
        start, end = _pos(node.start_mark), _pos(node.end_mark)
        if node.value or key is None or parent is None or getattr(parent, "flow_style", True):
            quoted = key is not None and getattr(key, "style", None) == '"'
            leaf = render_scalar(value, quoted=quoted)
            inner = _flow(keys, f"[{leaf}]" if sequence else leaf, quoted)
            text = f"{{{inner}}}"
            if start == end and not self._space_before(start):
                text = " " + text
            return TextEdit(self.span(start, end), text)
        column = key.start_mark.column + self.indent_step(steps)
        body = self.block(keys, value, sequence, column, steps)
        return self.insert_after(key.start_mark.line, body)

    def append(self, step: _Step, value: Any) -> TextEdit | None:
        node = step.node
        item = render_scalar(value, quoted=getattr(step.key, "style", None) == '"')
        if isinstance(node, yaml.ScalarNode):
            if node.value not in _NULLS or node.style:
                raise NoEdit("the field is not a list")
            start, end = _pos(node.start_mark), _pos(node.end_mark)
            text = f"[{item}]"
            if start == end and not self._space_before(start):
                text = " " + text
            return TextEdit(self.span(start, end), text)
        if not isinstance(node, yaml.SequenceNode):
            raise NoEdit("the field is not a list")
        if any(isinstance(i, yaml.ScalarNode) and i.value == str(value) for i in node.value):
            return None
        if node.flow_style:
            quoted = bool(node.value) and getattr(node.value[0], "style", None) == '"'
            item = render_scalar(value, quoted=quoted)
            if not node.value:
                at = (node.start_mark.line, node.start_mark.column + 1)
                return TextEdit(self.span(at, at), item)
            at = _pos(node.value[-1].end_mark)
            return TextEdit(self.span(at, at), f", {item}")
        pad = " " * node.start_mark.column
        return self.insert_after(self.last_line(node), f"{pad}- {item}\n")

    # --- indentation ----------------------------------------------------------------

    def indent_step(self, steps: list[_Step]) -> int:
        """How far this document indents a mapping below its key (2 when unknown)."""
        for parent, child in itertools.pairwise(steps):
            if (
                isinstance(parent.node, yaml.MappingNode)
                and isinstance(child.node, yaml.MappingNode)
                and not parent.node.flow_style
                and not child.node.flow_style
                and child.key is not None
                and child.node.value
            ):
                step = child.node.value[0][0].start_mark.column - child.key.start_mark.column
                if step > 0:
                    return int(step)
        return 2

    def dash_offset(self, steps: list[_Step]) -> int:
        """How far this document indents a list's dashes below its key (0 or more)."""
        for step in steps[1:]:
            node = step.node
            if isinstance(node, yaml.SequenceNode) and not node.flow_style and step.key is not None:
                return max(0, int(node.start_mark.column - step.key.start_mark.column))
        return self.indent_step(steps)


def _is_merge(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode) and not node.style and node.value == "<<"


# --- applying edits -------------------------------------------------------------------


def line_starts(text: str) -> list[int]:
    """Offsets of the start of every line of ``text`` (``\\n`` ends a line)."""
    starts = [0]
    index = text.find("\n")
    while index != -1:
        starts.append(index + 1)
        index = text.find("\n", index + 1)
    return starts


def apply_edits(text: str, edits: Sequence[TextEdit]) -> str:
    """``text`` with ``edits`` (non-overlapping, file coordinates) applied bottom-up.

    Inserted line ends follow the file's (CRLF stays CRLF).
    """
    starts = line_starts(text)
    crlf = "\r\n" in text

    def offset(line: int, column: int) -> int:
        if line - 1 >= len(starts):
            return len(text)
        return min(starts[line - 1] + column - 1, len(text))

    for edit in sorted(edits, key=lambda e: (_start(e), _end(e)), reverse=True):
        begin = offset(edit.span.start_line, edit.span.start_column)
        end = offset(edit.span.end_line, edit.span.end_column)
        inserted = edit.text.replace("\n", "\r\n") if crlf else edit.text
        text = text[:begin] + inserted + text[end:]
    return text


def overlaps(
    edits: Sequence[TextEdit], taken: Sequence[tuple[tuple[int, int], tuple[int, int]]]
) -> bool:
    """Whether any of ``edits`` touches a region in ``taken`` (insertions at one point too)."""
    for edit in edits:
        start, end = _start(edit), _end(edit)
        for other_start, other_end in taken:
            if start < other_end and other_start < end:
                return True
            if start == other_start or (start == end and other_start <= start <= other_end):
                return True
            if other_start == other_end and start <= other_start <= end:
                return True
    return False

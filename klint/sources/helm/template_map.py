"""Map a field of a Helm-rendered object back to its template line and to values.yaml.

Templates are Go-template text, not YAML. Each ``{{ }}`` action is masked: control actions
(``if``/``with``/``range``/``end``, comments, assignments) become blanks and output actions
(``include``, ``toYaml``, ``.Values.x``) become opaque placeholders, keeping every column. The
masked lines form a key tree by indentation, and a field path is matched down that tree. A
line that only outputs a block (``{{- toYaml .Values.x | nindent 8 }}``) is where any field
under its parent comes from, so a path that runs into it stops there.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import cast

from klint.sources.helm.actions import (
    HOLE,
    actions_on,
    block_depths,
    mask_actions,
    range_depths,
    scan_actions,
    to_lf,
)
from klint.sources.helm.branches import Branch, aligned_item, name_pattern_fit, pick_branch
from klint.sources.helm.output import split_sections
from klint.sources.helm.sections import index_sections, section_text
from klint.sources.helm.values_map import (
    common_reference,
    values_printer,
    values_reference,
    values_references,
)

_INDENT = re.compile(r"\b(n?indent)\s+(\d+)")
_LINE = re.compile(r"^(?P<indent> *)(?P<dashes>(?:-(?: +|$))*)(?P<rest>.*)$")
_KEY = re.compile(
    r"^(?P<key>\"(?:[^\"\\]|\\.)*\"|'(?:[^']|'')*'|[^\s#'\"{\[&*!|>%@`,\-?:][^#]*?|[-?:][^\s#][^#]*?)"
    r"[ \t]*:(?:[ \t]+|$)(?P<value>.*)$"
)
_BLOCK_SCALAR = re.compile(r"^[|>][-+0-9]*[ \t]*(?:#.*)?$")


@dataclass(frozen=True)
class FieldMatch:
    """Where a field path lands in a template.

    ``depth`` path steps were matched; ``exact`` when all of them were. ``injected`` when the
    rest of the path is rendered by a block action (toYaml/include) on ``line``.
    ``values_path`` is the dotted values key that sets the field, when the template shows it.
    """

    line: int
    column: int
    depth: int
    exact: bool
    injected: bool
    values_path: str | None
    choices: tuple[tuple[int, int], ...] = ()
    """When list item ``path[depth]`` may come from any of several block actions in one
    list: their (line, column), in order; ``line`` is the first until one is chosen."""
    owner: tuple[int, int] | None = None
    """(line, column) of the key that holds those block actions (the list's key)."""
    only_blocks: bool = False
    """The list holds no literal item beside those blocks (positions can be counted)."""


def template_line(
    template_text: str, field_path: Sequence[str | int], document_index: int = 0
) -> tuple[int, int] | None:
    """1-based (line, column) in the template source of the key at the end of ``field_path``.

    Falls back to the deepest matched ancestor, or to the block action the field is rendered
    from; None when nothing matched.
    """
    found = locate_field(template_text, field_path, document_index)
    return (found.line, found.column) if found is not None else None


def locate_field(
    template_text: str,
    field_path: Sequence[str | int],
    document_index: int = 0,
    item_names: Sequence[str | None] = (),
    rendered: object = None,
    values: Callable[[], object] | None = None,
) -> FieldMatch | None:
    """Match ``field_path`` (from the object root) in section ``document_index`` of a template.

    When that section matches nothing (for instance a ``range`` emitted more documents than
    the template has sections), the section that matches deepest is used instead.
    ``item_names[i]``, when given for a list index ``field_path[i]``, is the ``name`` of that
    rendered item: the template item with that literal name is the one, whatever ``if``
    blocks dropped before it. ``rendered``, when given, is the rendered object: a block
    action among literal fields that rendered none of that mapping's keys is not where a
    missing field under it comes from. ``values``, when given, reads the chart's values
    (only when arms that print different values must be told apart: branches.pick_branch).
    """
    text = to_lf(template_text)
    index = index_sections(mask_actions(text)[0])
    by_values = values_printer(text, values, _NOTHING) if values is not None else None

    def match(section: int) -> _Walk | None:
        return _walk(_tree(text, section), field_path, item_names, rendered, by_values)

    candidate = match(document_index) if 0 <= document_index < index.count else None
    if candidate is None:
        # only sections with content can match anything
        walks = [w for w in (match(i) for i in sorted(index.content)) if w is not None]
        if document_index >= index.count:
            walks.reverse()  # extra documents come from a range: prefer later sections
        candidate = max(walks, key=lambda w: (w.exact, w.depth), default=None)
    if candidate is None:
        return None
    return _field_match(text, field_path, candidate)


def section_indexes(template_text: str, rendered_text: str) -> list[int | None]:
    """For each document of a rendered template, the template section that produced it.

    ``rendered_text`` is :attr:`RenderedTemplate.text` (documents numbered as
    :func:`klint.documents.parse_stream` numbers them). Sections wrapped in a false ``if``
    vanish from the output, so documents are aligned to sections in order by their literal
    ``kind:``, a section whose kind is not literal matching any. A document that no later
    section explains gets the last earlier section that could (a ``range`` or an ``include``
    repeats one), else None.
    """
    index = index_sections(mask_actions(to_lf(template_text))[0])
    documents = [section for _, section in split_sections(to_lf(rendered_text))]
    if documents and not _has_content(documents[0]):
        documents = documents[1:]  # before the first "---": parse_stream makes no document
    indexes: list[int | None] = []
    next_section = 0
    for document in documents:
        kinds = _kinds(document)
        kind = next(iter(kinds)) if len(kinds) == 1 else None
        found = index.align(kind, next_section)
        indexes.append(found)
        if found is not None and found >= next_section:
            next_section = found + 1
    return indexes


_KIND = re.compile(r"^kind:[ \t]*[\"']?([A-Za-z0-9]+)[\"']?[ \t]*(?:#.*)?$", re.MULTILINE)


def _kinds(section: str) -> frozenset[str]:
    return frozenset(_KIND.findall(section))


def _has_content(section: str) -> bool:
    return any(line.strip() and not line.strip().startswith("#") for line in section.split("\n"))


@lru_cache(maxsize=256)
def _tree(template_text: str, section: int) -> _Entry:
    """The key tree of one section of a template (cached: one finding asks many times).

    Only that section is cut out and parsed, so a template of millions of sections costs
    what its sections with content cost.
    """
    masked = mask_actions(template_text)[0]
    found = index_sections(masked).content.get(section)
    if found is None:
        return _Entry("root", -1, 0, 1)
    ranges, blocks = _depths(template_text)
    source = template_text[found.start : found.end].split("\n")
    masked_lines = section_text(masked, found).split("\n")
    return _build_tree(masked_lines, found.offset, ranges, source, blocks)


@lru_cache(maxsize=16)
def _depths(template_text: str) -> tuple[list[int], list[int]]:
    """For each line: the ``range`` blocks and all blocks open at its start."""
    actions = scan_actions(template_text)
    return range_depths(template_text, actions), block_depths(template_text, actions)


@dataclass
class _Entry:
    kind: str  # "root", "key", "item" or "inject"
    indent: int
    line: int  # 1-based
    column: int  # 1-based
    key: str | None = None
    open: bool = False  # a key with no value on its line: children follow
    inline_output: bool = False  # a key whose value is an output action
    range_depth: int = 0
    block_depth: int = 0  # if/with/range blocks open: deeper than its parent is conditional
    value: str | None = None  # a literal scalar on the key's line (None when templated)
    pattern: str | None = None  # a templated scalar, output actions as holes
    children: list[_Entry] = field(default_factory=list)


def _build_tree(
    masked: Sequence[str],
    offset: int,
    ranges: Sequence[int],
    source: Sequence[str],
    blocks: Sequence[int] = (),
) -> _Entry:
    """The key tree of a section's masked lines; ``source`` holds the same lines unmasked."""
    root = _Entry("root", -1, 0, 1)
    stack = [root]
    scalar_indent: int | None = None  # inside a block scalar deeper than this
    for number, text in enumerate(masked):
        line = offset + number + 1
        stripped = text.strip(" ")
        if not stripped or stripped.startswith("#"):
            continue
        indent = len(text) - len(text.lstrip(" "))
        if scalar_indent is not None:
            if indent > scalar_indent:
                continue
            scalar_indent = None
        depth = ranges[line - 1] if line - 1 < len(ranges) else 0
        if not stripped.replace(HOLE, "").strip():
            _add_injection(stack, source[number], indent, line, depth)
            continue
        shape = _LINE.match(text)
        if shape is None:  # pragma: no cover - the pattern matches any line
            continue
        column = len(shape.group("indent"))
        for dash in re.finditer(r"-", shape.group("dashes")):
            item_column = column + dash.start()
            content = column + len(shape.group("dashes"))
            _pop(stack, item_column, "item")
            conditional = blocks[line - 1] if line - 1 < len(blocks) else 0
            item = _Entry(
                "item", item_column, line, content + 1, range_depth=depth, block_depth=conditional
            )
            stack[-1].children.append(item)
            stack.append(item)
        rest = shape.group("rest")
        key = _KEY.match(rest)
        if key is None:
            if shape.group("dashes") and _BLOCK_SCALAR.match(rest.strip()):
                scalar_indent = stack[-1].indent
            elif shape.group("dashes"):
                stack[-1].value = _literal(rest)  # a scalar list item (``- pods/exec``)
            continue
        key_column = column + len(shape.group("dashes"))
        value = key.group("value").strip()
        name = _unquote(key.group("key"))
        _pop(stack, key_column, "key")
        entry = _Entry(
            "key",
            key_column,
            line,
            key_column + 1,
            key=None if HOLE in name else name,
            open=not value or value.startswith("#"),
            inline_output=HOLE in value,
            range_depth=depth,
            block_depth=blocks[line - 1] if line - 1 < len(blocks) else 0,
            value=_literal(value),
            pattern=_templated(value),
        )
        stack[-1].children.append(entry)
        stack.append(entry)
        if _BLOCK_SCALAR.match(value):
            scalar_indent = key_column
    return root


def _add_injection(stack: list[_Entry], source: str, indent: int, line: int, depth: int) -> None:
    """A line that only outputs: its text lands at the nindent/indent width, or where it is."""
    width = _INDENT.search(source)
    level = int(width.group(2)) if width else indent
    after_item = False  # right after an item at this column: it continues that list
    while len(stack) > 1:
        top = stack[-1]
        # blocks at the key's own column are items of its list: the next one continues it
        blocks = bool(top.children) and all(
            c.kind == "inject" and c.indent == level for c in top.children
        )
        continues = top.kind == "key" and top.open and (after_item or blocks or not top.children)
        if top.indent < level or (top.indent == level and continues):
            break
        after_item = after_item or (top.indent == level and top.kind == "item")
        stack.pop()
    entry = _Entry("inject", level, line, indent + 1, range_depth=depth)
    stack[-1].children.append(entry)


def _pop(stack: list[_Entry], column: int, kind: str) -> None:
    """Close the entries that a new key or list item at ``column`` ends."""
    while len(stack) > 1:
        top = stack[-1]
        indentless_child = kind == "item" and top.kind == "key"
        if top.indent < column or (top.indent == column and indentless_child):
            break
        stack.pop()


def _literal(value: str) -> str | None:
    """The plain scalar a key line sets (``name: cni-net-dir``), without a comment."""
    text = re.sub(r"(^|\s)#.*$", "", value).strip()
    if not text or HOLE in text or text[0] in "[{|>&*!":
        return None
    return _unquote(text)


def _templated(value: str) -> str | None:
    """A scalar with output actions in it (``{{ .Chart.Name }}-reload``), holes kept."""
    text = re.sub(r"(^|\s)#.*$", "", value).strip()
    if HOLE not in text or text[0] in "[{|>&*!":
        return None
    return _unquote(text)


def _unquote(key: str) -> str:
    if len(key) >= 2 and key[0] == key[-1] and key[0] in "\"'":
        inner = key[1:-1]
        return inner.replace("''", "'") if key[0] == "'" else inner.replace('\\"', '"')
    return key.strip()


@dataclass(frozen=True)
class _Walk:
    entry: _Entry
    depth: int
    exact: bool
    injected: bool
    choices: tuple[_Entry, ...] = ()
    owner: _Entry | None = None


def _walk(
    root: _Entry,
    path: Sequence[str | int],
    names: Sequence[str | None] = (),
    rendered: object = None,
    by_values: Callable[[Branch], object] | None = None,
) -> _Walk | None:
    node = root
    for depth, part in enumerate(path):
        child = _child(node, part, names[depth] if depth < len(names) else None, rendered)
        if child is not None and isinstance(part, str):
            arms = [c for c in node.children if c.kind == "key" and c.key == part]
            if len(arms) > 1:  # if/else arms writing one key: the one that rendered
                picked = pick_branch(arms, _step(rendered, part), _NOTHING, by_values)
                child = cast(_Entry, picked)
        if child is None:
            if node.kind == "key" and node.inline_output:
                return _Walk(node, depth, False, True)
            injections = tuple(c for c in node.children if c.kind == "inject")
            if injections and not _rendered_nothing(node, rendered):
                # a list item among several blocks: which one rendered it is decided later
                several = isinstance(part, int) and len(injections) > 1
                choices = injections if several else ()
                return _Walk(injections[0], depth, False, True, choices, node)
            return _Walk(node, depth, False, False) if depth else None
        node = child
        rendered = _step(rendered, part)
    return _Walk(node, len(path), True, False) if path else None


_NOTHING = object()  # no rendered object to compare with


def _step(rendered: object, part: str | int) -> object:
    """The rendered value one path step down, or ``_NOTHING``."""
    if isinstance(part, int) and isinstance(rendered, list) and 0 <= part < len(rendered):
        return rendered[part]
    if isinstance(part, str) and isinstance(rendered, dict) and part in rendered:
        return rendered[part]
    return _NOTHING


def _rendered_nothing(node: _Entry, rendered: object) -> bool:
    """Whether the block actions among ``node``'s literal keys rendered none of its keys: the
    rendered mapping holds only keys the template writes literally (a ``with`` that was
    empty, or a block that belongs to a list above it), so no block is the field's place. A
    block that is the mapping's whole content keeps it: the values it reads are the place."""
    literal = {c.key for c in node.children if c.kind == "key" and c.key is not None}
    if not literal or not isinstance(rendered, dict):
        return False
    return set(rendered) <= literal


def _child(
    node: _Entry, part: str | int, name: str | None = None, rendered: object = None
) -> _Entry | None:
    if isinstance(part, str):
        return next((c for c in node.children if c.kind == "key" and c.key == part), None)
    if name is not None:
        for child in node.children:
            if child.kind == "item" and any(
                c.kind == "key" and c.key == "name" and c.value == name for c in child.children
            ):
                return child
        # templated names (``{{ .Chart.Name }}-reload``): the item whose name can have
        # rendered this one, the most literal first; an ``if`` may have dropped items before
        scored = [
            (score, -index, child)
            for index, child in enumerate(node.children)
            if child.kind == "item"
            and (score := name_pattern_fit(child, name)) is not None
            and child.range_depth <= node.range_depth + 1
        ]
        if scored:
            best = max(score for score, _, _ in scored)
            top = [child for score, _, child in scored if score == best]
            if len(top) == 1:
                return top[0]
    aligned = aligned_item(node, part, rendered)
    if aligned is not None:
        return cast(_Entry, aligned)
    position = 0
    for child in node.children:
        if child.kind != "item":
            continue
        if child.range_depth > node.range_depth or position == part:
            return child  # an item inside a range stands for every item it generates
        position += 1
    return None


def _field_match(text: str, path: Sequence[str | int], walk: _Walk) -> FieldMatch:
    entry = walk.entry
    values: str | None = None
    if walk.exact or walk.injected:
        values = _supplier(text, entry.line, path if walk.exact else ())
    if values is None and walk.exact and entry.kind == "key":
        # ``key:`` whose whole value is one block action: the action's value is the key's.
        blocks = [c for c in entry.children if c.kind == "inject"]
        if len(blocks) == len(entry.children) == 1 and _renders_value(text, blocks[0].line):
            values = values_reference(text, blocks[0].line)
    if values is not None and walk.injected:
        if _renders_value(text, entry.line):
            values = ".".join([values, *(str(p) for p in path[walk.depth :])])
        else:
            values = None
    choices = tuple((c.line, c.column) for c in walk.choices)
    holder = walk.owner if walk.choices else None
    owner = (holder.line, holder.column) if holder is not None else None
    only_blocks = holder is not None and all(c.kind == "inject" for c in holder.children)
    return FieldMatch(
        entry.line,
        entry.column,
        walk.depth,
        walk.exact,
        walk.injected,
        values,
        choices,
        owner,
        only_blocks,
    )


def injection_match(
    text: str, path: Sequence[str | int], match: FieldMatch, pick: int
) -> FieldMatch:
    """``match`` moved to its block choice ``pick``, with that block's values key."""
    line, column = match.choices[pick]
    entry = _Entry("inject", column - 1, line, column)
    return _field_match(text, path, _Walk(entry, match.depth, False, True))


def top_item_name_lines(template_text: str) -> list[int | None]:
    """For each list item at the top of a template (a ``define`` body), the line of its
    ``name:`` key (None when it has none)."""
    root = _tree(to_lf(template_text), 0)
    return [
        next((c.line for c in item.children if c.kind == "key" and c.key == "name"), None)
        for item in root.children
        if item.kind == "item"
    ]


_IMAGE_PINS = ("tag", "digest")


def _supplier(text: str, line: int, path: Sequence[str | int]) -> str | None:
    """The values key that supplies the field on ``line``.

    Several references give their common prefix, except for an ``image`` built from a
    repository and a tag (``{{ .Values.image.repository }}:{{ .Values.image.tag }}``): the
    image rules judge its tag or digest, so that is the key a person edits.
    """
    references = values_references(text, line)
    if path and path[-1] == "image" and len(set(references)) > 1:
        pins = [r for r in references if r and r[-1] in _IMAGE_PINS]
        if pins:
            return ".".join(pins[0])
    return common_reference(references)


def _renders_value(text: str, line: int) -> bool:
    """Whether the output actions on ``line`` print a value (toYaml, a field), not a template."""
    for action in actions_on(text, line):
        words = re.findall(r"[\w$.]+", action.body) if action.outputs else ()
        if any(word in ("include", "template", "tpl") for word in words):
            return False
    return True

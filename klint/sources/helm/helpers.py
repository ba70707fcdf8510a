"""Follow ``include``/``template`` into the helper that renders a block (``_helpers.tpl``).

A template line such as ``{{- include "app.podSpec" . | nindent 6 }}`` renders a whole pod
spec; a finding under it belongs on the helper's line that wrote the field, with that line's
values key. Each ``define`` body is cut out of its file with everything before it blanked
(lines and columns kept), and the rest of the field path is matched in it as in a template.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from klint.sources.confine import read_inside
from klint.sources.helm.actions import HOLE, actions_on, mask_actions, scan_actions, to_lf
from klint.sources.helm.template_map import (
    FieldMatch,
    injection_match,
    locate_field,
    top_item_name_lines,
)
from klint.sources.helm.values_map import values_references

_INCLUDE = re.compile(r"\b(?:include|template)\s+\"([^\"]+)\"")
_DEFINE = re.compile(r"^(?:define|block)\s+\"([^\"]+)\"")
_OPENERS = frozenset({"if", "with", "range", "define", "block"})
_MAX_DEPTH = 4  # helpers that include helpers
_MAX_HELPER_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True)
class HelperMatch:
    """Where a field lands inside a helper: its file and the match there."""

    file: Path
    match: FieldMatch


@dataclass(frozen=True)
class Define:
    """A ``define`` body: ``text[start:end]`` of ``file``."""

    file: Path
    text: str
    start: int
    end: int

    def fragment(self) -> str:
        """The body with the text before it blanked: lines and columns are the file's."""
        before = self.text[: self.start]
        last = before.rfind("\n")
        return (
            "\n" * before.count("\n")
            + " " * (self.start - last - 1)
            + self.text[self.start : self.end]
        )


Defines = dict[str, Define]


def follow_include(
    text: str,
    match: FieldMatch,
    path: Sequence[str | int],
    names: Sequence[str | None],
    defines: Defines,
    rendered: object = None,
) -> HelperMatch | None:
    """The helper line behind ``match`` when the block there comes from an include.

    ``match`` must already have its block chosen (:func:`choose_block`); so is every
    match inside a helper. ``rendered`` is the rendered object ``path`` starts from.
    """
    found: HelperMatch | None = None
    for _ in range(_MAX_DEPTH):
        if not match.injected:
            break
        name = included_name(text, match.line)
        if name is None or name not in defines:
            break
        define = defines[name]
        fragment = define.fragment()
        rendered = _descend(rendered, path[: match.depth])
        rest, rest_names = path[match.depth :], names[match.depth :]
        inner = locate_field(fragment, rest, 0, rest_names, rendered) if rest else None
        if inner is None:
            break
        inner = choose_block(fragment, inner, rest, rest_names, defines, rendered)
        if inner.injected and _passes_through(fragment, inner.line):
            break  # it prints what its caller gave it: the caller's line is the one to edit
        found = HelperMatch(define.file, inner)
        text, match, path, names = fragment, inner, rest, rest_names
    return found


def choose_block(
    text: str,
    match: FieldMatch,
    path: Sequence[str | int],
    names: Sequence[str | None],
    defines: Defines,
    rendered: object = None,
) -> FieldMatch:
    """Which of several blocks in one list rendered list item ``path[match.depth]``.

    Decided by the rendered item's name (the included helper whose item name can render
    it, helpers that only print a constant name read as that name), else by position when
    each block is an include of a helper that writes exactly one item, the list has no
    literal item and the rendered list has one item per block. Undecided: the list's key,
    which is never the wrong block.
    """
    if len(match.choices) < 2:
        return match
    index = path[match.depth] if match.depth < len(path) else None
    name = names[match.depth] if match.depth < len(names) else None
    helpers = [_helper(text, line, defines) for line, _ in match.choices]
    if name is not None:
        scores = [_name_score(d, name, defines) if d else None for d in helpers]
        best = max((s for s in scores if s is not None), default=0)
        if best > 0 and scores.count(best) == 1:
            return injection_match(text, path, match, scores.index(best))
    items = _descend(rendered, path[: match.depth])
    counts = [len(top_item_name_lines(d.fragment())) if d else 0 for d in helpers]
    if (
        isinstance(index, int)
        and match.only_blocks
        and isinstance(items, list)
        and len(items) == len(helpers)
        and all(count == 1 for count in counts)
        and 0 <= index < len(helpers)
    ):
        return injection_match(text, path, match, index)
    line, column = match.owner or match.choices[0]
    return FieldMatch(line, column, match.depth, False, False, None)


def included_item(
    text: str,
    match: FieldMatch,
    names: Sequence[str | None],
    defines: Defines,
) -> FieldMatch:
    """For a list item that is one include (``- {{ include "p.validator" . }}``) among
    sibling items of the same kind (``if``/``else`` arms): the item whose helper can have
    rendered the rendered item's name, when the one matched cannot and exactly one can."""
    step = match.depth - 1
    name = names[step] if 0 <= step < len(names) else None
    current = _helper(text, match.line, defines) if name is not None else None
    if name is None or current is None or _name_score(current, name, defines) is not None:
        return match
    scored = []
    for line in _sibling_items(text, match.line):
        helper = _helper(text, line, defines)
        score = _name_score(helper, name, defines) if helper is not None else None
        if score is not None:
            scored.append((score, line))
    best = max((score for score, _ in scored), default=0)
    lines = [line for score, line in scored if score == best]
    if len(lines) != 1:
        return match
    source = to_lf(text).split("\n")[lines[0] - 1]
    column = len(source) - len(source.lstrip(" ")) + 1
    return FieldMatch(lines[0], column, match.depth, match.exact, match.injected, None)


def _sibling_items(text: str, line: int) -> list[int]:
    """The lines of the list items beside the item on ``line`` (same indentation, up to a
    line indented less), template actions on lines of their own skipped."""
    masked = mask_actions(to_lf(text))[0].split("\n")
    source = masked[line - 1]
    indent = len(source) - len(source.lstrip(" "))
    found = [line]
    for direction in (-1, 1):
        number = line + direction
        while 1 <= number <= len(masked):
            content = masked[number - 1].replace(HOLE, "").strip()
            width = len(masked[number - 1]) - len(masked[number - 1].lstrip(" "))
            if content and (width < indent or (width == indent and content[0] != "-")):
                break  # the list's key (items may sit at its indentation) or its parent
            if width == indent and content.startswith("-"):
                found.append(number)
            number += direction
    return sorted(found)


def _helper(text: str, line: int, defines: Defines) -> Define | None:
    name = included_name(text, line)
    return defines.get(name) if name is not None else None


_ACTION = re.compile(r"\{\{-?(.*?)-?\}\}", re.DOTALL)
_CONSTANT = re.compile(r"^\s*(?:print\s+)?\"([^\"\\{}]*)\"\s*$")


def _name_score(define: Define, name: str, defines: Defines) -> int | None:
    """How many known characters of a helper's item name match ``name``, its best item
    (None: no item of it can have rendered ``name``; 0: an item's name is not known)."""
    lines = top_item_name_lines(define.fragment())
    if not lines:  # one mapping: the content of the item that includes it (``- {{ include }}``)
        found = locate_field(define.fragment(), ("name",))
        lines = [found.line] if found is not None and found.exact else []
    scores = [_line_score(define, line, name, defines) if line else 0 for line in lines]
    if not scores:
        return 0  # no item written literally: whatever it renders is unknown
    known = [score for score in scores if score is not None]
    return max(known) if known else None


def _line_score(define: Define, line: int, name: str, defines: Defines) -> int | None:
    """The known characters of the ``name:`` value on ``line`` when it matches ``name``."""
    source = define.text.split("\n")[line - 1]
    value = source.split(":", 1)[1].strip() if ":" in source else ""
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        value = value[1:-1]
    pattern, known, position = "", 0, 0
    for action in _ACTION.finditer(value):
        literal = value[position : action.start()]
        constant = _constant(action.group(1), defines)
        pattern += re.escape(literal) + (".*" if constant is None else re.escape(constant))
        known += len(literal) + len(constant or "")
        position = action.end()
    pattern += re.escape(value[position:])
    known += len(value) - position
    return known if re.fullmatch(pattern, name, re.DOTALL) else None


def _constant(body: str, defines: Defines) -> str | None:
    """The text an action prints when it is fixed: an include of a helper that only
    prints a string (``{{- print "tetragon" -}}``) or plain text."""
    found = _INCLUDE.search(body)
    if found is None or found.group(1) not in defines:
        return None
    define = defines[found.group(1)]
    inner = define.text[define.start : define.end]
    actions = list(_ACTION.finditer(inner))
    if not actions:
        return inner.strip() or None
    if len(actions) == 1 and not inner.replace(actions[0].group(0), "").strip():
        printed = _CONSTANT.match(actions[0].group(1))
        return printed.group(1) if printed else None
    return None


def _descend(rendered: object, path: Sequence[str | int]) -> object:
    for step in path:
        if isinstance(step, int) and isinstance(rendered, list) and 0 <= step < len(rendered):
            rendered = rendered[step]
        elif isinstance(step, str) and isinstance(rendered, dict):
            rendered = rendered.get(step)
        else:
            return None
    return rendered


def passed_values(
    text: str, match: FieldMatch, path: Sequence[str | int], defines: Defines
) -> str | None:
    """The values key behind an include of a helper that prints what it is handed
    (``include "vm.securityContext" (dict "securityContext" $app.securityContext)`` whose
    helper is ``toYaml``): the one values reference among the include's arguments, with
    the rest of ``path``; None for anything else."""
    name = included_name(text, match.line)
    define = defines.get(name) if name is not None else None
    rest = path[match.depth :]
    if define is None or not rest:
        return None
    fragment = define.fragment()
    inner = locate_field(fragment, rest, 0, [None] * len(rest), None)
    if inner is None or not inner.injected or not _passes_through(fragment, inner.line):
        return None
    references = set(values_references(text, match.line))
    if len(references) != 1:
        return None
    return ".".join([*references.pop(), *(str(step) for step in rest)])


def _passes_through(text: str, line: int) -> bool:
    """Whether the output action on ``line`` prints a block the helper was handed
    (``toYaml $sc``, ``toYaml .securityContext``): no include, no values of its own (nor
    through ``with .Values.x`` … ``toYaml .``)."""
    for action in actions_on(to_lf(text), line):
        if action.outputs:
            return _INCLUDE.search(action.body) is None and not values_references(text, line)
    return False


def included_name(text: str, line: int) -> str | None:
    """The template an output action on ``line`` includes, when there is one."""
    for action in actions_on(to_lf(text), line):
        found = _INCLUDE.search(action.body)
        if found is not None:
            return found.group(1)
    return None


def chart_defines(chart_dir: Path, root: Path | None) -> Defines:
    """Every ``define`` of a chart, its subchart folders and its ``file://`` dependencies
    in the repository (a shared library chart): name → (file, fragment)."""
    from klint.sources.helm.local_deps import local_dependencies

    defines: Defines = {}
    folders = [chart_dir]
    if root is not None:
        folders += [d.target for d in local_dependencies(chart_dir, root)]
    for file in (f for folder in folders for f in _helper_files(folder)):
        raw = read_inside(file, root, _MAX_HELPER_BYTES)
        if raw is None:
            continue
        text = to_lf(raw.decode("utf-8", "replace"))
        for name, start, end in _bodies(text):
            defines.setdefault(name, Define(file, text, start, end))
    return defines


def _helper_files(chart_dir: Path) -> list[Path]:
    files: list[Path] = []
    for folder, directories, names in os.walk(chart_dir):
        directories[:] = sorted(d for d in directories if not d.startswith("."))
        inside_templates = "templates" in Path(folder).relative_to(chart_dir).parts
        for name in sorted(names):
            if name.endswith(".tpl") or (inside_templates and name.endswith((".yaml", ".yml"))):
                path = Path(folder) / name
                if not path.is_symlink():
                    files.append(path)
    return files


def _bodies(text: str) -> list[tuple[str, int, int]]:
    """Each ``define``: its name and where its body starts and ends in ``text``."""
    actions = scan_actions(text)
    found: list[tuple[str, int, int]] = []
    for index, action in enumerate(actions):
        define = _DEFINE.match(action.body)
        if define is None:
            continue
        depth = 0
        for closing in actions[index + 1 :]:
            keyword = closing.body.split(None, 1)[0] if closing.body else ""
            if keyword in _OPENERS:
                depth += 1
            elif keyword == "end":
                if depth == 0:
                    found.append((define.group(1), action.end, closing.start))
                    break
                depth -= 1
    return found

"""Which ``.Values`` key a template line reads, and where that key sits in a values file."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import yaml

from klint.documents import Document, parse_stream
from klint.sources.helm.actions import scan_actions, to_lf

_STRING = re.compile(r"\"(?:\\.|[^\"\\])*\"|`[^`]*`")
_REFERENCE = re.compile(r"(?<![\w.)\]$])(\$?)((?:\.[A-Za-z_]\w*)+|\.(?![\w.]))")
_INDEX = re.compile(r"\bindex\s+(\$?\.Values(?:\.[A-Za-z_]\w*)*)((?:\s+\"[^\"]*\")+)")


def values_reference(template_text: str, line: int) -> str | None:
    """The dotted ``.Values`` path (``a.b``) that the actions on ``line`` (1-based) read.

    Direct references (``.Values.a.b | quote``, ``default x .Values.a.b``, ``$.Values.a.b``,
    ``index .Values.a "b"``), references relative to an enclosing ``with``/``range`` over
    values (``with .Values.a`` … ``.b``) and variables bound to values (``range $k, $v :=
    .Values.env`` … ``$v``, ``$x := .Values.a``) count; inside ``range`` the collection is
    given. Several references give their common prefix; None when there is none.
    """
    return common_reference(values_references(template_text, line))


def common_reference(references: list[tuple[str, ...]]) -> str | None:
    """The common prefix of several values paths, dotted; None when they share nothing."""
    if not references:
        return None
    common = list(references[0])
    for reference in references[1:]:
        size = next(
            (i for i, (a, b) in enumerate(zip(common, reference, strict=False)) if a != b),
            min(len(common), len(reference)),
        )
        common = common[:size]
    return ".".join(common) or None


def values_references(template_text: str, line: int) -> list[tuple[str, ...]]:
    """Every values path the actions on ``line`` read (see :func:`values_reference`)."""
    references: list[tuple[str, ...]] = []
    scopes: list[_Scope] = []
    dot: _Dot = _ROOT
    variables: dict[str, _Dot] = {}
    for action in scan_actions(to_lf(template_text)):
        words = action.body.split(None, 1)
        keyword = words[0] if words else ""
        argument = words[1] if len(words) > 1 else ""
        on_line = action.first_line <= line <= action.last_line
        if on_line and keyword != "end" and not action.body.startswith("/*"):
            references.extend(_references(action.body, dot, variables))
        if keyword in ("if", "with", "range", "define", "block"):
            scopes.append(_Scope(keyword, dot, dict(variables)))
            if keyword in ("with", "range"):
                dot = _resolve_pipeline(argument, dot, keyword == "range", variables)
                _bind(argument, dot, keyword == "range", variables)
            elif keyword in ("define", "block"):
                dot = None
                variables = {}
        elif keyword == "else" and scopes:
            dot = scopes[-1].outer
            variables = dict(scopes[-1].variables)
            rest = argument.split(None, 1)
            if rest and rest[0] in ("with", "range"):
                pipeline = rest[1] if len(rest) > 1 else ""
                dot = _resolve_pipeline(pipeline, dot, rest[0] == "range", variables)
                _bind(pipeline, dot, rest[0] == "range", variables)
        elif keyword == "end" and scopes:
            scope = scopes.pop()
            dot, variables = scope.outer, scope.variables
        else:
            assigned = _ASSIGNED.match(action.body)
            if assigned is not None:
                variables[assigned.group(1)] = _resolve_pipeline(
                    assigned.group(2), dot, False, variables
                )
        if action.first_line > line:
            break
    return references


def values_line(values_text: str, dotted: str) -> tuple[int, int] | None:
    """1-based (line, column) of key ``a.b`` in a values.yaml; list indexes are numbers.

    When the full key is absent, the deepest key of it that exists; None when none does.
    """
    found = values_key(values_text, dotted)
    return (found[0], found[1]) if found is not None else None


def values_key(values_text: str, dotted: str) -> tuple[int, int, int] | None:
    """Like :func:`values_line`, with how many parts of ``dotted`` the values file has."""
    document = _values_document(values_text)
    if document is None or not dotted:
        return None
    node: yaml.Node = document.root
    mark: yaml.Mark | None = None
    depth = 0
    for part in dotted.split("."):
        child: tuple[yaml.Node, yaml.Node] | None = None
        if isinstance(node, yaml.MappingNode):
            child = _keys(node).get(part)
        elif isinstance(node, yaml.SequenceNode) and part.isdigit() and int(part) < len(node.value):
            item = node.value[int(part)]
            child = (item, item)
        if child is None:
            break
        mark, node = child[0].start_mark, child[1]
        depth += 1
    if mark is None:
        return None
    return mark.line + 1 + document.line_offset, mark.column + 1, depth


@lru_cache(maxsize=8)
def _values_document(values_text: str) -> Document | None:
    """The first mapping document of a values file, parsed once per text (a chart's findings
    all ask the same file)."""
    parsed = parse_stream(values_text, "values.yaml")
    return next((d for d in parsed.documents if isinstance(d.root, yaml.MappingNode)), None)


_KEY_INDEXES: dict[int, tuple[yaml.MappingNode, dict[str, tuple[yaml.Node, yaml.Node]]]] = {}


def _keys(node: yaml.MappingNode) -> dict[str, tuple[yaml.Node, yaml.Node]]:
    """A mapping's keys → (key node, value node), built once per node; the last duplicate
    wins, as in Helm."""
    cached = _KEY_INDEXES.get(id(node))
    if cached is not None and cached[0] is node:
        return cached[1]
    keys: dict[str, tuple[yaml.Node, yaml.Node]] = {
        key.value: (key, value) for key, value in node.value if isinstance(key, yaml.ScalarNode)
    }
    if len(_KEY_INDEXES) > 4096:
        _KEY_INDEXES.clear()
    _KEY_INDEXES[id(node)] = (node, keys)
    return keys


_Dot = tuple[str, ...] | None  # the path of ``.`` inside .Values; None when not in .Values
_ROOT: _Dot = None
_ELEMENT = "[]"  # marks a range element in a _Dot: references stop at its collection


@dataclass(frozen=True)
class _Scope:
    keyword: str
    outer: _Dot
    variables: dict[str, _Dot]


def _references(body: str, dot: _Dot, variables: dict[str, _Dot]) -> list[tuple[str, ...]]:
    found: list[tuple[str, ...]] = []
    for match in _INDEX.finditer(body):
        base = _chain(match.group(1).lstrip("$"), dot, absolute=True)
        keys = re.findall(r"\"([^\"]*)\"", match.group(2))
        if base is not None:
            found.append((*base, *keys))
    body = _STRING.sub('""', _INDEX.sub(" ", body))
    body = _ASSIGNMENT_TARGET.sub("", body)
    for match in _REFERENCE.finditer(body):
        resolved = _chain(match.group(2), dot, absolute=bool(match.group(1)))
        if resolved is not None:
            found.append(resolved)
    for match in _VARIABLE.finditer(body):
        bound = variables.get(match.group(1))
        chain = tuple(p for p in match.group(2).split(".") if p)
        if bound is not None:
            resolved = _cut((*bound, *chain))
            if resolved:
                found.append(resolved)
        elif chain[:1] == ("Values",) and len(chain) > 1:
            # only the top context has .Values: ``$root.Values.a`` in a helper given it
            found.append(chain[1:])
    return found


_VARIABLE = re.compile(r"\$([A-Za-z_]\w*)((?:\.[A-Za-z_]\w*)*)")
_ASSIGNED = re.compile(r"^\$([A-Za-z_]\w*)\s*:?=\s*(.*)$", re.DOTALL)
_ASSIGNMENT_TARGET = re.compile(r"^(?:\$\w*\s*,\s*)?\$\w*\s*:?=")
_RANGE_VARIABLES = re.compile(r"^\s*(?:\$(\w+)\s*,\s*)?\$(\w+)\s*:=")


def _bind(argument: str, dot: _Dot, is_range: bool, variables: dict[str, _Dot]) -> None:
    """Variables declared by ``range $k, $v := …`` / ``with $x := …``: bound to the new dot
    (a range's key variable names the collection too)."""
    declared = _RANGE_VARIABLES.match(argument)
    if declared is None:
        return
    for name in declared.groups():
        if name is not None:
            variables[name] = dot


def _cut(resolved: tuple[str, ...]) -> tuple[str, ...]:
    """A values path stops at a range element: which item is not known here."""
    return resolved[: resolved.index(_ELEMENT)] if _ELEMENT in resolved else resolved


def _chain(chain: str, dot: _Dot, absolute: bool) -> tuple[str, ...] | None:
    """Values path of a field chain such as ``.Values.a.b`` or ``.b`` (relative to ``dot``)."""
    parts = tuple(p for p in chain.split(".") if p)
    if parts[:1] == ("Values",):
        return parts[1:] or None
    if absolute or dot is None:
        return None
    resolved = (*dot, *parts)
    if _ELEMENT in resolved:
        resolved = resolved[: resolved.index(_ELEMENT)]
    return resolved or None


def _resolve_pipeline(
    argument: str, dot: _Dot, is_range: bool, variables: dict[str, _Dot] | None = None
) -> _Dot:
    """The new ``.`` of ``with``/``range`` when the pipeline is one values field chain (or a
    variable bound to one).

    A ``range`` element is represented by its collection: the index is not known here.
    """
    pipeline = argument.split(":=", 1)[1] if ":=" in argument else argument
    pipeline = pipeline.strip()
    resolved: tuple[str, ...] | None
    variable = re.fullmatch(r"\$([A-Za-z_]\w*)((?:\.[A-Za-z_]\w*)*)", pipeline)
    if variable is not None and variables and variables.get(variable.group(1)) is not None:
        bound = variables[variable.group(1)] or ()
        resolved = _cut((*bound, *(p for p in variable.group(2).split(".") if p))) or None
    else:
        match = re.fullmatch(r"(\$?)((?:\.[A-Za-z_]\w*)+|\.)", pipeline)
        if match is None:
            return None
        resolved = _chain(match.group(2), dot, absolute=bool(match.group(1)))
    return (*resolved, _ELEMENT) if resolved is not None and is_range else resolved


def values_printer(
    text: str, values: Callable[[], object], nothing: object
) -> Callable[[Any], object]:
    """For an arm of a template's key tree (template_map's entries): the values it prints
    when it is one block action of one values key (``toYaml .Values.a`` on the key's line,
    or as its only content), found in ``values()`` (read only then); ``nothing``
    otherwise."""

    def printed(arm: Any) -> object:
        blocks = [child.line for child in arm.children if child.kind == "inject"]
        lines = [arm.line] if arm.inline_output else blocks
        if len(lines) != 1 or len(arm.children) != len(blocks):
            return nothing
        references = set(values_references(text, lines[0]))
        if len(references) != 1:
            return nothing
        value = values()
        for step in references.pop():
            if not isinstance(value, dict) or step not in value:
                return nothing
            value = value[step]
        return value

    return printed

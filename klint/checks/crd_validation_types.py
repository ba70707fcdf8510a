"""Type-checking CRD validation rules against the schema, as the API server compiles them.

The API server compiles each ``x-kubernetes-validations`` rule with ``self`` (and
``oldSelf``) typed by the schema node the rule sits on, and refuses the CRD when the rule
does not type-check. The CEL runtime klint uses can declare scalar, list and map types
but not object types, so the check is partial and sound (it reports only what the API
server also refuses):

- ``self`` is typed by its node when that node is a scalar (``integer`` → int, ``number``
  → double, ``boolean`` → bool, ``string`` without ``format`` → string), a list (``array``,
  element typed the same way) or a map (``additionalProperties``); an object with
  ``properties`` is a map of ``dyn``;
- every ``self.a.b`` / ``oldSelf.a.b`` chain is walked through ``properties``: a name the
  object does not declare is "undefined field" (names unescaped as Kubernetes escapes them:
  ``__dash__``, ``__dot__``, ``__slash__``, ``__underscores__``, ``__keyword__``); where the
  walk reaches a scalar, list or map node, that part of the chain is replaced by a variable
  of the node's type before compiling, so ``self.replicas == true`` fails as on the server;
- anything uncertain is ``dyn`` (``nullable``, ``x-kubernetes-int-or-string``,
  ``x-kubernetes-preserve-unknown-fields``, embedded resources, formatted strings, the
  root's ``apiVersion``/``kind``/``metadata``), and only errors the API server's checker
  also raises are reported: no matching overload of a standard operator or function (not
  between two numeric types, which Kubernetes compares across types, nor with ``null``
  or ``dyn``) and a select on a scalar or list.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_RESERVED = frozenset(
    {
        "true", "false", "null", "in", "as", "break", "const", "continue", "else", "for",
        "function", "if", "import", "let", "loop", "package", "namespace", "return", "var",
        "void", "while",
    }
)  # fmt: skip
_OPERATORS = frozenset(
    {
        "_==_", "_!=_", "_<_", "_<=_", "_>_", "_>=_", "_+_", "_-_", "_*_", "_/_", "_%_",
        "!_", "-_", "_&&_", "_||_", "_?_:_", "@in", "_[_]", "size", "contains",
        "startsWith", "endsWith", "matches",
    }
)  # fmt: skip
_OVERLOAD = re.compile(r"found no matching overload for '([^']+)' applied to '\((.*)\)'")
_NUMERIC = frozenset({"int", "uint", "double"})
_ROOT_ONLY = frozenset({"apiVersion", "kind", "metadata"})


def schema_type(node: Any) -> str:
    """The CEL type signature of a schema node (``dyn`` when uncertain)."""
    if not isinstance(node, dict) or node.get("nullable") is True:
        return "dyn"
    if node.get("x-kubernetes-int-or-string") or node.get("x-kubernetes-preserve-unknown-fields"):
        return "dyn"
    if node.get("x-kubernetes-embedded-resource"):
        return "dyn"
    kind = node.get("type")
    if kind in ("integer", "number", "boolean"):
        return {"integer": "int", "number": "double", "boolean": "bool"}[kind]
    if kind == "string":
        return "dyn" if node.get("format") else "string"
    if kind == "array":
        return f"list({schema_type(node.get('items'))})"
    if kind == "object" and isinstance(node.get("additionalProperties"), dict):
        return f"map({schema_type(node['additionalProperties'])})"
    if kind == "object" and isinstance(node.get("properties"), dict):
        return "map(dyn)"
    return "dyn"


def _is_struct(node: Any) -> bool:
    return (
        isinstance(node, dict)
        and isinstance(node.get("properties"), dict)
        and node.get("type", "object") == "object"
        and "additionalProperties" not in node
        and not node.get("x-kubernetes-preserve-unknown-fields")
        and not node.get("x-kubernetes-embedded-resource")
    )


def unescape(name: str) -> str:
    """A property name as Kubernetes escapes it in CEL, back to the name."""
    if name.startswith("__") and name.endswith("__") and name[2:-2] in _RESERVED:
        return name[2:-2]
    for escaped, plain in (("__underscores__", "__"), ("__dot__", "."), ("__dash__", "-")):
        name = name.replace(escaped, plain)
    return name.replace("__slash__", "/")


@dataclass(frozen=True)
class Chain:
    """``self.a.b`` in the text: the root variable, the names with their end offsets."""

    root: str
    start: int
    names: tuple[tuple[str, int], ...]
    in_has: bool


def chains(text: str) -> list[Chain]:
    """Every ``self``/``oldSelf`` select chain outside string literals."""
    found: list[Chain] = []
    position = 0
    while position < len(text):
        char = text[position]
        if char in "'\"":
            position = _skip_string(text, position)
            continue
        match = _IDENT.match(text, position)
        if match is None:
            position += 1
            continue
        word, position = match.group(), match.end()
        before = text[: match.start()].rstrip()
        if word not in ("self", "oldSelf") or before.endswith("."):
            continue
        names, cursor = [], position
        while True:
            step = re.compile(r"\s*\.\s*([A-Za-z_][A-Za-z0-9_]*)").match(text, cursor)
            if step is None or re.match(r"\s*\(", text[step.end() :]):
                break
            names.append((step.group(1), step.end()))
            cursor = step.end()
        in_has = re.search(r"\bhas\s*\(\s*$", before) is not None
        found.append(Chain(word, match.start(), tuple(names), in_has))
        position = cursor
    return found


def _skip_string(text: str, start: int) -> int:
    quote = text[start]
    if text.startswith(quote * 3, start):
        end = text.find(quote * 3, start + 3)
        return len(text) if end < 0 else end + 3
    position = start + 1
    while position < len(text) and text[position] != quote:
        position += 2 if text[position] == "\\" else 1
    return position + 1


def type_problem(text: str, node: Any, *, root: bool, optional_old_self: bool) -> str:
    """Why ``text`` does not type-check on ``node`` (empty: fine, or not decidable here)."""
    from klint.cel.environment import CelCompileError, compile_typed

    variables: dict[str, str] = {
        "self": schema_type(node),
        "oldSelf": "dyn" if optional_old_self else schema_type(node),
    }
    replacements: list[tuple[int, int, str]] = []
    for chain in chains(text):
        if chain.root == "oldSelf" and optional_old_self:
            continue
        current, used = node, 0
        for name, _end in chain.names:
            if not _is_struct(current):
                break
            plain = unescape(name)
            if root and plain in _ROOT_ONLY:
                current, used = None, 0
                break
            properties = current["properties"]
            if plain not in properties:
                return f"undefined field '{plain}'"
            current, used = properties[plain], used + 1
        kind = schema_type(current)
        if used and not chain.in_has and not _is_struct(current) and kind != "dyn":
            variable = f"klint_field_{len(replacements)}"
            variables[variable] = kind
            replacements.append((chain.start, chain.names[used - 1][1], variable))
    for start, end, variable in reversed(replacements):
        text = text[:start] + variable + text[end:]
    try:
        compile_typed(text, tuple(sorted(variables.items())))
    except CelCompileError as error:
        return _reported(str(error))
    return ""


def _reported(message: str) -> str:
    """The checker's message when the API server's checker would raise it too."""
    first = message.strip().splitlines()[0] if message.strip() else ""
    if "cannot be the operand of a select operation" in first:
        return re.sub(r"^[0-9]+:[0-9]+: ", "", first)
    match = _OVERLOAD.search(first)
    if match is None or match.group(1) not in _OPERATORS:
        return ""
    arguments = {a.strip() for a in match.group(2).split(",")}
    if arguments & {"dyn", "null_type"}:
        return ""
    if len(arguments) > 1 and arguments <= _NUMERIC:
        return ""  # Kubernetes compares int, uint and double across types
    return re.sub(r"^[0-9]+:[0-9]+: ", "", first)

"""Where in the object an expression looks: the field a finding should point at."""

from __future__ import annotations

import re
from typing import Any

from klint.findings import FieldPath

_OBJECT_PATH = re.compile(r"\bobject((?:\.[A-Za-z_][A-Za-z0-9_]*|\[[0-9]+\])+)")
_VARIABLE = re.compile(r"\bvariables\.([A-Za-z_][A-Za-z0-9_]*)")
_PART = re.compile(r"\.([A-Za-z_][A-Za-z0-9_]*)|\[([0-9]+)\]")


def traced_path(expression: str, data: Any, variables: dict[str, str], depth: int = 0) -> FieldPath:
    """The most specific existing field the expression reads (through its variables too)."""
    best: FieldPath = ()
    for match in _OBJECT_PATH.finditer(expression):
        found = _existing(match.group(1), data)
        if len(found) > len(best):
            best = found
    if depth < 5:
        for name in _VARIABLE.findall(expression):
            if name in variables:
                found = traced_path(variables[name], data, variables, depth + 1)
                if len(found) > len(best):
                    best = found
    return best


def _existing(text: str, data: Any) -> FieldPath:
    """The longest prefix of ``.a.b[0]`` that exists in ``data``."""
    path: list[str | int] = []
    current = data
    for part in _PART.findall(text):
        if part[0] and isinstance(current, dict) and part[0] in current:
            current = current[part[0]]
            path.append(part[0])
        elif part[1] and isinstance(current, list) and int(part[1]) < len(current):
            current = current[int(part[1])]
            path.append(int(part[1]))
        else:
            break
    return tuple(path)

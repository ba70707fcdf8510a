"""Where in the object an expression looks: the field a finding should point at."""

from __future__ import annotations

import re
from typing import Any

from klint.findings import FieldPath

_OBJECT_PATH = re.compile(r"\bobject((?:\.[A-Za-z_][A-Za-z0-9_]*|\[[0-9]+\])+)")
_VARIABLE = re.compile(r"\bvariables\.([A-Za-z_][A-Za-z0-9_]*)")
_PART = re.compile(r"\.([A-Za-z_][A-Za-z0-9_]*)|\[([0-9]+)\]")
MAX_DEPTH = 5  # variables followed through at most this many others


def traced_path(expression: str, data: Any, variables: dict[str, str]) -> FieldPath:
    """The most specific existing field the expression reads (through its variables too).

    Each variable is traced once (memoised) and a variable that reads itself, directly or
    through others, is not followed again: a policy whose variable names itself forty
    times costs forty lookups, not forty to the fifth.
    """
    return _Tracer(data, variables).trace(expression, 0)


class _Tracer:
    def __init__(self, data: Any, variables: dict[str, str]) -> None:
        self.data = data
        self.variables = variables
        self.done: dict[str, FieldPath] = {}
        self.active: set[str] = set()

    def trace(self, expression: str, depth: int) -> FieldPath:
        best: FieldPath = ()
        for match in _OBJECT_PATH.finditer(expression):
            found = _existing(match.group(1), self.data)
            if len(found) > len(best):
                best = found
        if depth < MAX_DEPTH:
            for name in dict.fromkeys(_VARIABLE.findall(expression)):
                found = self._variable(name, depth + 1)
                if len(found) > len(best):
                    best = found
        return best

    def _variable(self, name: str, depth: int) -> FieldPath:
        if name not in self.variables or name in self.active:
            return ()
        if name not in self.done:
            self.active.add(name)
            self.done[name] = self.trace(self.variables[name], depth)
            self.active.discard(name)
        return self.done[name]


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

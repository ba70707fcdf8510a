"""``json.dumps(value, indent=2, ensure_ascii=False)``, the same bytes several times faster.

The standard library writes indented JSON in pure Python, one generator step per token; the
SARIF rule descriptors and the JSON report's findings are most of a small run's output.
"""

from __future__ import annotations

import json
from json.encoder import encode_basestring as _string
from typing import Any


class Written(str):
    """Text already written as this module writes the value at its place in the output."""


def dump_indented(value: Any, indent: str) -> str:
    """``value`` as ``json.dumps(indent=2, ensure_ascii=False)`` writes it, every line after
    the first prefixed by ``indent``."""
    parts: list[str] = []
    _write(value, "\n" + indent, parts)
    return "".join(parts)


def _write(value: Any, newline: str, parts: list[str]) -> None:
    """Append ``value``; ``newline`` is a line break plus the current indent."""
    kind = type(value)
    if kind is str:
        parts.append(_string(value))
    elif kind is dict and value and all(type(key) is str for key in value):
        inner = newline + "  "
        separator = "{" + inner
        for key, item in value.items():
            parts.append(separator + _string(key) + ": ")
            _write(item, inner, parts)
            separator = "," + inner
        parts.append(newline + "}")
    elif kind is list and value:
        inner = newline + "  "
        separator = "[" + inner
        for item in value:
            parts.append(separator)
            _write(item, inner, parts)
            separator = "," + inner
        parts.append(newline + "]")
    elif kind is Written:
        parts.append(value)
    elif kind is int:  # exactly int (not bool, not a subclass): its digits, as the stdlib
        parts.append(int.__repr__(value))
    elif (kind is list or kind is dict) and not value:
        parts.append("[]" if kind is list else "{}")
    elif value is None:
        parts.append("null")
    elif value is True:
        parts.append("true")
    elif value is False:
        parts.append("false")
    else:  # floats, empty containers, anything unusual: the stdlib itself
        parts.append(json.dumps(value, indent=2, ensure_ascii=False).replace("\n", newline))

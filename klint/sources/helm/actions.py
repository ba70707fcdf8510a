"""The ``{{ }}`` actions of a Go template, and the template with them masked, columns kept."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

_ACTION = re.compile(
    r"\{\{-?\s*/\*.*?\*/\s*-?\}\}"  # a comment
    r"|\{\{(?:\"(?:\\.|[^\"\\])*\"|`[^`]*`|'(?:\\.|[^'\\])*'|[^\"`'}]|\}(?!\}))*\}\}",
    re.DOTALL,
)
_CONTROL_WORDS = frozenset({"if", "else", "end", "range", "with", "define", "break", "continue"})
_ASSIGNMENT = re.compile(r"^\$\w*\s*(?:,\s*\$\w*\s*)?:?=")
HOLE = "\0"


@dataclass(frozen=True)
class Action:
    start: int
    end: int
    first_line: int  # 1-based
    last_line: int
    body: str  # without delimiters and trim markers

    @property
    def outputs(self) -> bool:
        """Whether the action writes text (include, toYaml, a value), not control flow."""
        if self.body.startswith("/*") or _ASSIGNMENT.match(self.body):
            return False
        words = self.body.split(None, 1)
        return not words or words[0] not in _CONTROL_WORDS


def to_lf(text: str) -> str:
    """CRLF → LF: lines and columns stay the same."""
    return text.replace("\r\n", "\n")


@lru_cache(maxsize=32)
def scan_actions(text: str) -> tuple[Action, ...]:
    """Every ``{{ }}`` action of a template, in order (cached per template text)."""
    actions: list[Action] = []
    line = 1
    position = 0
    for match in _ACTION.finditer(text):
        line += text.count("\n", position, match.start())
        position = match.start()
        inner = match.group(0)[2:-2]
        inner = inner[1:] if inner.startswith("-") else inner
        inner = inner[:-1] if inner.endswith("-") and inner[-2:-1].isspace() else inner
        last = line + match.group(0).count("\n")
        actions.append(Action(match.start(), match.end(), line, last, inner.strip()))
    return tuple(actions)


def actions_on(text: str, line: int) -> list[Action]:
    """The actions of ``text`` (LF line ends) that span line ``line`` (1-based), in order."""
    found: list[Action] = []
    for action in scan_actions(text):
        if action.first_line > line:
            break
        if action.last_line >= line:
            found.append(action)
    return found


@lru_cache(maxsize=16)
def mask_actions(text: str) -> tuple[str, tuple[Action, ...]]:
    """Blank out control actions and fill output actions with holes, keeping newlines."""
    actions = scan_actions(text)
    pieces: list[str] = []
    position = 0
    for action in actions:
        pieces.append(text[position : action.start])
        filler = HOLE if action.outputs else " "
        pieces.append(re.sub(r"[^\n]", filler, text[action.start : action.end]))
        position = action.end
    pieces.append(text[position:])
    return "".join(pieces), actions


def range_depths(text: str, actions: Sequence[Action]) -> list[int]:
    """For each line (index 0 = line 1): how many ``range`` blocks are open at its start."""
    return _depths(text, actions, lambda stack: stack.count("range"))


def block_depths(text: str, actions: Sequence[Action]) -> list[int]:
    """For each line (index 0 = line 1): how many blocks (``if``, ``with``, ``range``, ...)
    are open at its start: a key deeper than its parent is written only on a condition."""
    return _depths(text, actions, len)


def _depths(text: str, actions: Sequence[Action], count: Callable[[list[str]], int]) -> list[int]:
    depths = [0] * (text.count("\n") + 2)
    stack: list[str] = []
    changes: list[tuple[int, int]] = []
    for action in actions:
        words = action.body.split(None, 1)
        keyword = words[0] if words else ""
        if keyword in ("if", "with", "range", "define", "block"):
            stack.append(keyword)
        elif keyword == "end" and stack:
            stack.pop()
        else:
            continue
        changes.append((action.last_line, count(stack)))
    current, index = 0, 0
    for line in range(1, len(depths)):
        while index < len(changes) and changes[index][0] < line:
            current = changes[index][1]
            index += 1
        depths[line - 1] = current
    return depths

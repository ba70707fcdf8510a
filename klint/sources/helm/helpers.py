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
from klint.sources.helm.actions import scan_actions, to_lf
from klint.sources.helm.template_map import FieldMatch, locate_field

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
) -> HelperMatch | None:
    """The helper line behind ``match`` when the block there comes from an include."""
    found: HelperMatch | None = None
    for _ in range(_MAX_DEPTH):
        if not match.injected:
            break
        name = included_name(text, match.line)
        if name is None or name not in defines:
            break
        define = defines[name]
        fragment = define.fragment()
        rest, rest_names = path[match.depth :], names[match.depth :]
        inner = locate_field(fragment, rest, 0, rest_names) if rest else None
        if inner is None:
            break
        found = HelperMatch(define.file, inner)
        text, match, path, names = fragment, inner, rest, rest_names
    return found


def included_name(text: str, line: int) -> str | None:
    """The template an output action on ``line`` includes, when there is one."""
    for action in scan_actions(to_lf(text)):
        if action.first_line <= line <= action.last_line:
            found = _INCLUDE.search(action.body)
            if found is not None:
                return found.group(1)
        elif action.first_line > line:
            break
    return None


def chart_defines(chart_dir: Path, root: Path | None) -> Defines:
    """Every ``define`` of a chart and its subchart folders: name → (file, fragment)."""
    defines: Defines = {}
    for file in _helper_files(chart_dir):
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

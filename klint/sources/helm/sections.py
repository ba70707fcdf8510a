"""A template's sections (Helm's ``---`` separators), indexed in one pass without copies.

A template may hold millions of empty sections (``---`` lines inside a false ``if``); only
the sections with content are described, so memory and time follow the lines that carry
something, and looking a section up is a dictionary access.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass
from functools import lru_cache

_SEPARATOR = "\n---"
# A line with content: not a bare separator (``---`` and blanks), the text after one counts.
_CONTENT_LINE = re.compile(r"^(?:(?!---)[ \t]*\S|---[ \t]*\S).*$", re.MULTILINE)
_KIND_LINE = re.compile(r"kind:[ \t]*[\"']?([A-Za-z0-9]+)[\"']?[ \t]*(?:#.*)?")


@dataclass(frozen=True)
class Section:
    """One section with content: ``text[start:end]`` is it, line 1 is line ``offset + 1``."""

    start: int
    end: int
    offset: int


@dataclass(frozen=True)
class SectionIndex:
    """How many sections a text has, which have content and which literal kinds they name."""

    count: int
    content: dict[int, Section]
    by_kind: dict[str, list[int]]
    kinded: frozenset[int]

    def next_kindless(self, start: int) -> int | None:
        """The first section at or after ``start`` that names no kind."""
        index = start
        while index in self.kinded:  # runs of kinded sections are as long as their content
            index += 1
        return index if index < self.count else None

    def previous_kindless(self, start: int) -> int | None:
        """The last section at or before ``start`` that names no kind."""
        index = start
        while index >= 0 and index in self.kinded:
            index -= 1
        return index if index >= 0 else None

    def align(self, kind: str | None, start: int) -> int | None:
        """The section a rendered document of ``kind`` comes from, searching from ``start``.

        The first later section naming the kind, else the first later one naming none, else
        the nearest earlier one naming it, else the nearest earlier one naming none.
        """
        if kind is None:
            return start if start < self.count else None
        sections = self.by_kind.get(kind, [])
        position = bisect_left(sections, start)
        if position < len(sections):
            return sections[position]
        if start < self.count:
            found = self.next_kindless(start)
            if found is not None:
                return found
        if position > 0:
            return sections[position - 1]
        return self.previous_kindless(min(start, self.count) - 1)


@lru_cache(maxsize=16)
def index_sections(text: str) -> SectionIndex:
    """Index the sections of ``text`` (LF line ends; actions already masked when wanted).

    Numbered as :func:`klint.sources.helm.output.split_sections` numbers them: the part
    before the first separator is section 0, even when empty.
    """
    leading = 1 if text.startswith("---") else 0
    count = text.count(_SEPARATOR) + leading + 1
    content: dict[int, Section] = {}
    by_kind: dict[str, list[int]] = {}
    section, last, begun, lines = leading, 0, 0, 0
    for match in _CONTENT_LINE.finditer(text):
        position = match.start()
        # separators whose newline is in [last, position - 1]: they start lines <= position
        section += text.count(_SEPARATOR, last, position + 3)
        last = position
        if section not in content:
            begin = text.rfind(_SEPARATOR, 0, position + 3) + 1
            end = text.find(_SEPARATOR, position)
            lines += text.count("\n", begun, begin)
            begun = begin
            content[section] = Section(begin, len(text) if end < 0 else end + 1, lines)
        kind = _KIND_LINE.fullmatch(match.group(0))
        if kind is not None:
            kinds = by_kind.setdefault(kind.group(1), [])
            if not kinds or kinds[-1] != section:
                kinds.append(section)
    kinded = frozenset(s for sections in by_kind.values() for s in sections)
    return SectionIndex(count, content, by_kind, kinded)


def section_text(text: str, section: Section) -> str:
    """The section's text with its separator blanked, columns kept (as in ``split_sections``)."""
    body = text[section.start : section.end]
    separator = (
        re.match(r"---[ \t]*", body) if section.start > 0 or body.startswith("---") else None
    )
    if separator is None:
        return body
    return " " * separator.end() + body[separator.end() :]

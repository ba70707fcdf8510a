"""Helm's output as klint reads it: rendered templates, render errors, sections and order."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

# Helm's separator (releaseutil.SplitManifests) is "(?:^|\s*\n)---\s*": a "---" at the start
# of a line, whatever follows it on that line (cert-manager renders "---# Permission ...").
_SEPARATOR = re.compile(r"^---[ \t]*", re.MULTILINE)
_SOURCE = re.compile(r"^# Source: (.+?)\s*$")
# "template: web/templates/x.yaml:12:3: executing ...", "execution error at (x.yaml:6:15): ..",
# "parse error at (web/templates/x.yaml:7): function \"nope\" not defined".
_ERROR_LOCATION = re.compile(r"([^\s():\"']+):(\d+)(?::(\d+))?")
_YAML_ERROR = re.compile(r"YAML parse error on ([^\s:]+)")


@dataclass(frozen=True)
class RenderedTemplate:
    """The output of one chart template.

    ``source`` is the path as Helm names it (``web/charts/db/templates/x.yaml``); ``file`` is
    the template on disk that produced it, or None when there is none (packaged chart or
    subchart); ``text`` is a YAML stream with one document per template section.
    """

    source: str
    file: Path | None
    text: str


class HelmRenderError(Exception):
    """A chart could not be rendered; ``template`` and ``line`` come from Helm's message."""

    def __init__(
        self,
        message: str,
        template: str | None = None,
        line: int | None = None,
        column: int | None = None,
        *,
        repeatable: bool = True,
        values_can_fix: bool = True,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.template = template
        self.line = line
        self.column = column
        # False: a time or memory limit, a renderer killed or missing, not the chart's doing
        self.repeatable = repeatable
        # False: a refused link, an unsafe archive: no values file would render the chart
        self.values_can_fix = values_can_fix

    @classmethod
    def from_helm(cls, text: str, *, repeatable: bool = True) -> HelmRenderError:
        """Build the error from Helm's text, reading the first ``template:line:col`` in it.

        Only what follows the last ``Error: `` counts: the helm binary prints warnings first.
        """
        text = text.strip()
        text = text[text.rfind("Error: ") + len("Error: ") :] if "Error: " in text else text
        location = _ERROR_LOCATION.search(text)
        if location is not None:
            column = int(location.group(3)) if location.group(3) else None
            return cls(
                text, location.group(1), int(location.group(2)), column, repeatable=repeatable
            )
        yaml_error = _YAML_ERROR.search(text)
        return cls(text, yaml_error.group(1) if yaml_error else None, repeatable=repeatable)


def split_sections(text: str) -> list[tuple[int, str]]:
    """Cut text at Helm's separators into (0-based line offset, section), keeping every section.

    A section starts on its separator line, with the ``---`` blanked out: line ``n`` (1-based)
    of a section is line ``offset + n`` of ``text`` and columns are unchanged. Whatever
    follows ``---`` on that line belongs to the section, as in Helm. The section before the
    first separator is kept even when empty, so that counts line up between a template source
    and its output.
    """
    sections: list[tuple[int, str]] = []
    begin, line, pad = 0, 0, ""
    for match in _SEPARATOR.finditer(text):
        sections.append((line, pad + text[begin : match.start()]))
        line += text.count("\n", begin, match.start())
        begin = match.end()
        pad = " " * (match.end() - match.start())
    sections.append((line, pad + text[begin:]))
    return sections


def split_helm_output(text: str) -> list[tuple[str | None, int, str]]:
    """Parse ``helm template`` output: (``# Source:`` path or None, line offset, document).

    Documents are cut at Helm's separators (see :func:`split_sections`); whitespace-only ones
    are dropped. Line ``n`` (1-based) of a document is line ``offset + n`` of ``text``.
    """
    documents: list[tuple[str | None, int, str]] = []
    for offset, section in split_sections(text):
        first = next((line.strip() for line in section.split("\n") if line.strip()), None)
        if first is None:
            continue
        found = _SOURCE.match(first)
        documents.append((found.group(1) if found else None, offset, section))
    return documents


def normalise_output(raw: str) -> str | None:
    """A template's rendered text as a YAML stream of its sections; None when all are empty."""
    sections = [section.strip() for _, section in split_sections(raw)]
    if not any(sections):
        return None
    return "".join(f"---\n{section}\n" if section else "---\n" for section in sections)


def strip_source_header(document: str) -> str:
    lines = document.strip().split("\n")
    if lines and _SOURCE.match(lines[0]):
        lines = lines[1:]
    return "\n".join(lines).strip()


_KIND_LINE = re.compile(r"^kind:[ \t]*['\"]?([A-Za-z0-9]+)['\"]?[ \t]*(?:#.*)?$", re.MULTILINE)


def restore_file_order(documents: Sequence[str], template: str) -> list[str]:
    """Put ``helm template``'s kind-sorted documents of one template back in file order.

    Each document takes the first free template section whose literal ``kind:`` matches,
    and documents are sorted by that section. When a document matches no section, Helm's
    order is kept.
    """
    kinds = []
    for _, section in split_sections(template):
        found = _KIND_LINE.search(section)
        kinds.append(found.group(1) if found else None)
    slots: dict[int, str] = {}
    for document in documents:
        found = _KIND_LINE.search(document)
        kind = found.group(1) if found else None
        slot = next(
            (i for i, k in enumerate(kinds) if k is not None and k == kind and i not in slots),
            None,
        )
        if slot is None:
            return list(documents)
        slots[slot] = document
    return [slots[i] for i in sorted(slots)]

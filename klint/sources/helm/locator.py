"""Rendered fields → template lines, plus the values-file line that set the value."""

from __future__ import annotations

import re
from array import array
from dataclasses import dataclass, field, replace
from functools import lru_cache, partial
from pathlib import Path
from typing import Any

from klint.documents import Limits, parse_stream
from klint.findings import FieldPath, Location, RelatedLocation, Span
from klint.model.resource import Resource
from klint.sources.base import DocumentLocator, display_path
from klint.sources.confine import read_inside
from klint.sources.helm.backends import merge_values
from klint.sources.helm.chart_files import find_chart_root
from klint.sources.helm.generated_values import generated_at_install
from klint.sources.helm.helpers import (
    Defines,
    chart_defines,
    choose_block,
    follow_include,
    included_item,
    passed_values,
)
from klint.sources.helm.template_map import locate_field
from klint.sources.helm.values_map import values_key


@dataclass(frozen=True)
class TemplateOrigin:
    """Where a rendered document came from: template, its section, the values files in play."""

    template: Path | None
    display: str
    section: int
    values_files: tuple[Path, ...] = ()
    text: str | None = None
    """The template's text when it has no file (a member of a subchart archive)."""
    values_prefix: str = ""
    """The key its values sit under in ``values_files`` (a subchart's name or alias)."""
    subchart_values: tuple[Path, ...] = ()
    """A subchart's own values.yaml, read without the prefix (before ``values_files``)."""
    archived_values: tuple[tuple[str, str], ...] = ()
    """An archived subchart's own values.yaml: (display, text), read as ``subchart_values``."""


def template_origin(
    template: Path, cwd: Path, section: int, values_files: tuple[Path, ...] = ()
) -> TemplateOrigin:
    """The origin of section ``section`` of a template file on disk."""
    return TemplateOrigin(template, display_path(template, cwd), section, values_files)


@dataclass
class HelmLocator:
    """Maps rendered fields to template lines and values.yaml lines."""

    cwd: Path
    root: Path | None = None
    """Templates and chart values outside it are never read (None: the renderer checked)."""
    trusted: frozenset[Path] = frozenset()
    """Values files named on the command line: read wherever they are."""
    origins: dict[int, TemplateOrigin] = field(default_factory=dict)
    _texts: dict[Path, str] = field(default_factory=dict)
    _helpers: dict[Path, Defines] = field(default_factory=dict)
    _merged: dict[tuple[Path, ...], dict[str, Any] | None] = field(default_factory=dict)

    def locate(
        self, resource: Resource, path: FieldPath
    ) -> tuple[Location, tuple[RelatedLocation, ...]]:
        origin = self.origins.get(id(resource.document))
        if origin is None:  # a file of the chart's crds/: plain YAML, never templated
            return DocumentLocator().locate(resource, path)
        text = self._template_text(origin)
        if text is None:
            return Location(origin.display, Span.line(1)), ()
        full = (*resource.base, *path)
        names = _item_names(resource.document.data, full)
        data = resource.document.data
        values = partial(self._values, origin)  # read only when arms must be told apart
        match = locate_field(text, full, origin.section, names, data, values) if text else None
        if match is None:
            return Location(origin.display, Span.line(1)), ()
        on_disk = origin.text is None and origin.template is not None
        defines = self._defines(origin.template) if on_disk and origin.template else {}
        match = choose_block(text, match, full, names, defines, data)
        match = included_item(text, match, names, defines) if defines else match
        if match.injected and on_disk:
            helper = follow_include(text, match, full, names, defines, data)
            if helper is None and match.values_path is None:
                passed = passed_values(text, match, full, defines)
                match = replace(match, values_path=passed) if passed else match
            if helper is not None:
                match, text = helper.match, self._read(helper.file)
                shown = display_path(helper.file, self.cwd)
                origin = TemplateOrigin(
                    helper.file,
                    shown,
                    0,
                    origin.values_files,
                    None,
                    origin.values_prefix,
                    origin.subchart_values,
                    origin.archived_values,
                )
        end = max(len(_line(text, match.line).rstrip()) + 1, match.column)
        location = Location(origin.display, Span(match.line, match.column, match.line, end))
        dotted = match.values_path
        if not dotted:
            return location, ()
        # a subchart's own values.yaml first, then the parent's files under its key
        skip = len(origin.values_prefix.split(".")) if origin.values_prefix else 0
        prefixed = f"{origin.values_prefix}.{dotted}" if skip else dotted
        keys: list[tuple[Path | tuple[str, str], str, int]] = [
            (shown_text, dotted, 0) for shown_text in origin.archived_values
        ]
        keys += [(file, dotted, 0) for file in origin.subchart_values]
        keys += [(file, prefixed, skip) for file in origin.values_files]
        return location, self._values_location(keys)

    def _values_location(
        self, keys: list[tuple[Path | tuple[str, str], str, int]]
    ) -> tuple[RelatedLocation, ...]:
        """The values line that set a key: ``keys`` are (file, dotted key in it, how many of
        its leading parts are the subchart's key), lowest precedence first."""
        # The last file that sets the whole key supplied it (Helm merges -f files in order
        # over the chart's values.yaml); a file with only a parent of the key did not.
        best: tuple[int, int, Path | tuple[str, str], int, int, str, int] | None = None
        for order, (values_file, dotted, skip) in enumerate(keys):
            text = values_file[1] if isinstance(values_file, tuple) else self._read(values_file)
            found = values_key(text, dotted) if text else None
            if found is None or found[2] <= skip:
                continue  # only the subchart's section, not the key
            depth = found[2] - skip
            if best is None or (depth, order) >= best[:2]:
                best = (depth, order, values_file, found[0], found[1], dotted, found[2])
        if best is None:
            return ()
        _, _, values_file, line, column, dotted, depth = best
        key = dotted.split(".")[depth - 1]
        if isinstance(values_file, tuple):
            display = values_file[0]
        else:
            display = display_path(values_file, self.cwd)
        span = Span(line, column, line, column + len(key))
        return (RelatedLocation(Location(display, span), "set in"),)

    def _defines(self, template: Path) -> Defines:
        """The ``define`` blocks of the chart that holds ``template`` (read once)."""
        chart = find_chart_root(template)
        if chart is None:
            return {}
        if chart not in self._helpers:
            self._helpers[chart] = chart_defines(chart, self.root)
        return self._helpers[chart]

    def generated_data(self, resource: Resource) -> str | None:
        """The generator a Secret's ``data`` renders from in its template (``genCA``…:
        generated at install, nothing committed); None when not every entry does."""
        origin = self.origins.get(id(resource.document))
        data = resource.data.get("data")
        if origin is None or not isinstance(data, dict) or not data:
            return None
        text = self._template_text(origin)
        return generated_at_install(text, origin.section, map(str, data)) if text else None

    def _template_text(self, origin: TemplateOrigin) -> str | None:
        """The text of the template a document was rendered from (None: not known)."""
        if origin.text is not None:
            return origin.text
        return self._read(origin.template) if origin.template is not None else None

    def _values(self, origin: TemplateOrigin) -> dict[str, Any] | None:
        """The values a top-level chart's template rendered with (its values files merged
        in order; ``--set`` is not seen): None for a subchart's or a packed chart's."""
        if origin.values_prefix or origin.subchart_values or origin.archived_values:
            return None
        if origin.values_files not in self._merged:
            merged: dict[str, Any] | None = {}
            for file in origin.values_files:  # read within klint's node and alias budgets
                parsed = parse_stream(self._read(file), str(file), Limits())
                data = parsed.documents[0].data if len(parsed.documents) == 1 else None
                if parsed.problems or merged is None:
                    merged = None  # values klint cannot read whole: no arm is chosen by them
                elif isinstance(data, dict):
                    merged = merge_values(merged, data)
            self._merged[origin.values_files] = merged
        return self._merged[origin.values_files]

    def _read(self, path: Path) -> str:
        if path not in self._texts:
            root = None if path in self.trusted else self.root
            data = read_inside(path, root)
            try:
                self._texts[path] = data.decode("utf-8") if data is not None else ""
            except UnicodeDecodeError:
                self._texts[path] = ""
        return self._texts[path]


def _line(text: str, number: int) -> str:
    """Line ``number`` (1-based) of ``text``, by an index of line starts built once."""
    starts = _line_starts(text)
    if not 1 <= number <= len(starts):
        return ""
    start = starts[number - 1]
    end = text.find("\n", start)
    return text[start:] if end < 0 else text[start:end]


@lru_cache(maxsize=8)
def _line_starts(text: str) -> array[int]:
    return array("q", [0, *(m.end() for m in re.finditer("\n", text))])


def _item_names(data: object, path: FieldPath) -> list[str | None]:
    """For each list index on ``path``, the ``name`` of the rendered item there."""
    names: list[str | None] = []
    node = data
    for step in path:
        name = None
        if isinstance(step, int) and isinstance(node, list) and 0 <= step < len(node):
            node = node[step]
            name = node.get("name") if isinstance(node, dict) else None
        elif isinstance(step, str) and isinstance(node, dict):
            node = node.get(step)
        else:
            node = None
        names.append(name if isinstance(name, str) else None)
    return names

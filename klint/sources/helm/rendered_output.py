"""Already-rendered ``helm template`` output: map documents back through ``# Source:`` lines.

When the chart named in ``# Source: <chart>/templates/x.yaml`` is found on disk (beside or
above the rendered file, or under the working directory), findings point at the template
line and the values.yaml line, as for charts klint renders itself; otherwise (and when the
output is in another folder context than the chart: a test's golden output) they stay on
the rendered file.
"""

from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from klint.documents import Document
from klint.findings import FieldPath, Location, RelatedLocation
from klint.model.component import path_context
from klint.model.resource import Resource
from klint.sources.base import DocumentLocator, Locator, display_path
from klint.sources.confine import is_inside, read_inside, unit_root
from klint.sources.helm.locator import HelmLocator, template_origin
from klint.sources.helm.template_map import section_indexes

_SOURCE = re.compile(r"^#\s*Source:\s*(\S+)\s*$")


@dataclass
class RenderedOutputLocator:
    """Template lines for documents with a known ``# Source:``; the rendered file otherwise."""

    helm: HelmLocator
    plain: DocumentLocator

    def locate(
        self, resource: Resource, path: FieldPath
    ) -> tuple[Location, tuple[RelatedLocation, ...]]:
        if id(resource.document) in self.helm.origins:
            return self.helm.locate(resource, path)
        return self.plain.locate(resource, path)


def source_of(document: Document) -> str | None:
    """The ``# Source:`` path written just above a document, if any."""
    lines = document.text_lines
    line = document.root.start_mark.line + document.line_offset - 1
    while 0 <= line < len(lines):
        text = lines[line].strip()
        match = _SOURCE.match(text)
        if match:
            return match.group(1)
        if text.startswith("---") or (text and not text.startswith("#")):
            return None
        line -= 1
    return None


@functools.lru_cache(maxsize=256)
def find_chart(name: str, start: Path, cwd: Path, root: Path | None = None) -> Path | None:
    """A chart directory whose Chart.yaml ``name`` is ``name``, near ``start`` or in ``cwd``.

    Only directories inside ``root`` (the repository) are looked at.
    """
    candidates: list[Path] = []
    for base in [start, *start.parents, cwd]:
        candidates += [base, base / name]
        if base in (cwd, root):
            break
    candidates += _charts_under(cwd)
    found = _named_chart(name, candidates, root)
    if found is None:  # a chart kept deeper in the repository (installer/helm/chart/<name>)
        found = _named_chart(name, _charts_below(root or cwd), root)
    return found


def _named_chart(name: str, candidates: list[Path], root: Path | None) -> Path | None:
    for candidate in candidates:
        chart_file = candidate / "Chart.yaml"
        if root is not None and not is_inside(chart_file, root):
            continue
        if os.path.isfile(chart_file) and _chart_name(chart_file) == name:
            return candidate
    return None


_DEEP_CHART_LEVELS = 6
_DEEP_CHART_FOLDERS = 4096  # folders looked at, at most: a bounded walk on any repository
_NOT_CHART_HOMES = frozenset({"node_modules", "vendor", "third_party", "testdata"})


@functools.lru_cache(maxsize=16)
def _charts_below(root: Path) -> list[Path]:
    """Chart directories up to six levels below ``root``, breadth first in name order,
    passing over hidden and vendored folders and what is inside a chart (its dependencies)."""
    found: list[Path] = []
    level, looked = [root], 0
    for _ in range(_DEEP_CHART_LEVELS):
        below: list[Path] = []
        for parent in level:
            for folder in sorted(_folders(parent)):
                looked += 1
                if looked > _DEEP_CHART_FOLDERS:
                    return found
                if folder.name.startswith(".") or folder.name in _NOT_CHART_HOMES:
                    continue
                if (folder / "Chart.yaml").is_file():
                    found.append(folder)
                else:
                    below.append(folder)
        level = below
    return found


@functools.lru_cache(maxsize=16)
def _charts_under(cwd: Path) -> list[Path]:
    """Chart directories one or two levels below ``cwd``.

    Folders that vanish while they are listed (a shared temporary folder as the working
    directory) are passed over, never an error of the run.
    """
    first = _folders(cwd)
    second = [folder for parent in first for folder in _folders(parent)]
    return sorted(f for f in first if (f / "Chart.yaml").is_file()) + sorted(
        f for f in second if (f / "Chart.yaml").is_file()
    )


def _folders(directory: Path) -> list[Path]:
    try:
        with os.scandir(directory) as entries:
            return [Path(e.path) for e in entries if _is_folder(e)]
    except OSError:
        return []


def _is_folder(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False


@functools.lru_cache(maxsize=1024)
def _chart_name(chart_file: Path) -> str | None:
    raw = read_inside(chart_file, None, 1024 * 1024)
    try:
        data = yaml.load(raw.decode("utf-8"), Loader=yaml.CSafeLoader) if raw else None
    except (UnicodeDecodeError, yaml.YAMLError):
        return None
    return str(data.get("name")) if isinstance(data, dict) and data.get("name") else None


def rendered_output_locator(
    documents: list[Document], origin_dir: Path, cwd: Path
) -> Locator | None:
    """A locator for helm-template output, or None when no document carries ``# Source:``.

    The documents of one template are tied to its sections by their kinds (as for charts
    klint renders itself): a section dropped by a false ``if`` does not shift the rest.
    """
    sources = [(document, source_of(document)) for document in documents]
    if not any(source for _, source in sources):
        return None
    by_source: dict[str, list[Document]] = {}
    for document, source in sources:
        if source is not None and "/" in source:
            by_source.setdefault(source, []).append(document)
    charts: dict[str, Path | None] = {}
    helm: HelmLocator | None = None
    root = unit_root(origin_dir, cwd)
    for source, group in by_source.items():
        chart_name, _, inner = source.partition("/")
        if chart_name not in charts:
            charts[chart_name] = find_chart(chart_name, origin_dir, cwd, root)
        chart = charts[chart_name]
        if chart is None:
            continue
        template = chart / inner
        if not os.path.isfile(template) or not is_inside(template, root):
            continue
        if _context_kind(group[0].path) != _context_kind(display_path(template, cwd)):
            continue
        if helm is None:
            helm = HelmLocator(cwd, root)
        values = chart / "values.yaml"
        aligned = _sections(template, group)
        for position, document in enumerate(group):
            found = aligned[position] if position < len(aligned) else None
            section = found if found is not None else position
            helm.origins[id(document)] = template_origin(
                template, cwd, section, (values,) if os.path.isfile(values) else ()
            )
    if helm is None:
        return None
    return RenderedOutputLocator(helm, DocumentLocator())


def _context_kind(path: str) -> str | None:
    """The kind of folder context of ``path`` (``not-deployed`` for ``test/``): output in a
    test folder (golden output rendered from test values) is not mapped onto a deployed
    chart's templates, where its findings would lose that context; it stays on its lines."""
    context = path_context(path)
    return context.kind if context is not None else None


def _sections(template: Path, documents: list[Document]) -> list[int | None]:
    """The template section behind each document, aligned by kind."""
    raw = read_inside(template, None)
    try:
        text = raw.decode("utf-8") if raw is not None else ""
    except UnicodeDecodeError:
        return []
    kinds = [d.data.get("kind") if isinstance(d.data, dict) else None for d in documents]
    stream = "".join(f"---\nkind: {kind}\n" if kind else "---\n{}\n" for kind in kinds)
    return section_indexes(text, stream) if text else []

"""A Helm chart as a lint unit: rendered offline, findings mapped back to the templates.

Each rendered document remembers the template that produced it; a finding's field path is
matched through that template's structure to the line a person edits, and the values.yaml
line that supplied the value is added as a related location.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from klint.documents import Document, parse_stream
from klint.findings import Location, Notification, Span
from klint.sources.base import LoadedUnit, LoadSettings, display_path
from klint.sources.confine import unit_root
from klint.sources.helm.isolation import render_isolated
from klint.sources.helm.locator import HelmLocator, TemplateOrigin
from klint.sources.helm.output import HelmRenderError
from klint.sources.helm.template_map import section_indexes


@dataclass(frozen=True)
class HelmChart:
    """A chart directory (or packaged ``.tgz``), rendered with klint's own Helm."""

    path: Path
    display: str
    cwd: Path

    def load(self, settings: LoadSettings) -> LoadedUnit:
        user_values = [self._resolve(v) for v in settings.helm_values]
        root = unit_root(self.path, self.cwd)
        try:
            rendered = render_isolated(
                settings.render_timeout,
                settings.render_memory_bytes,
                chart=self.path,
                values_files=user_values,
                set_values=settings.helm_set,
                set_string_values=settings.helm_set_string,
                release_name=settings.release_name,
                namespace=settings.namespace,
                kube_version=settings.kube_version,
                root=root,
                max_bytes=settings.limits.max_file_bytes,
                max_documents=settings.limits.max_documents,
            )
        except HelmRenderError as error:
            return LoadedUnit([], [self._render_problem(error)], files=0)
        chart_values = self.path / "values.yaml"
        values = tuple(([chart_values] if chart_values.is_file() else []) + user_values)
        locator = HelmLocator(self.cwd, root, frozenset(user_values))
        documents: list[Document] = []
        problems: list[Notification] = []
        for template in rendered:
            # templates inside a packaged chart have no file of their own: report the archive
            display = (
                display_path(template.file, self.cwd) if template.file is not None else self.display
            )
            parsed = parse_stream(template.text, display, settings.limits)
            problems.extend(parsed.problems)
            sections = self._sections(template.file, template.text)
            for document in parsed.documents:
                known = sections[document.index] if document.index < len(sections) else None
                section = known if known is not None else document.index
                locator.origins[id(document)] = TemplateOrigin(
                    template.file, display, section, values
                )
                # Rendered names may be random (randAlphaNum): fingerprint by template.
                document.identity = f"{template.source}#{section}"
                documents.append(document)
        return LoadedUnit(documents, problems, locator, files=len(rendered))

    @staticmethod
    def _sections(template: Path | None, rendered: str) -> list[int | None]:
        """The template section behind each rendered document (``if`` blocks may drop some)."""
        if template is None:
            return []
        try:
            return section_indexes(template.read_text(encoding="utf-8"), rendered)
        except (OSError, UnicodeDecodeError):
            return []

    def _resolve(self, value: str) -> Path:
        path = Path(value)
        return path if path.is_absolute() else self.cwd / path

    def _render_problem(self, error: Exception) -> Notification:
        template = getattr(error, "template", None)
        line = getattr(error, "line", None) or 1
        where = self.display + "/Chart.yaml" if self.path.is_dir() else self.display
        if template:
            parts = Path(template).parts
            candidate = self.path.joinpath(*parts[1:]) if len(parts) > 1 else None
            if candidate is not None and os.path.isfile(candidate):
                where = display_path(candidate, self.cwd)
            else:
                line = 1
        message = getattr(error, "message", str(error))
        return Notification(
            "helm-render",
            f"chart {self.display} failed to render: {message}",
            Location(where, Span.line(line)),
            fatal=True,
        )

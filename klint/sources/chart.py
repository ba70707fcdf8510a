"""A Helm chart as a lint unit: rendered offline, findings mapped back to the templates.

Each rendered document remembers the template that produced it; a finding's field path is
matched through that template's structure to the line a person edits, and the values.yaml
line that supplied the value is added as a related location.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from klint.documents import Document, parse_stream
from klint.findings import FieldPath, Location, Notification, RelatedLocation, Span
from klint.model.resource import Resource
from klint.sources.base import LoadedUnit, LoadSettings
from klint.sources.discover import display_path


@dataclass(frozen=True)
class TemplateOrigin:
    """Where a rendered document came from: template, its section, the values files in play."""

    template: Path | None
    display: str
    section: int
    values_files: tuple[Path, ...] = ()


def template_origin(
    template: Path, cwd: Path, section: int, values_files: tuple[Path, ...] = ()
) -> TemplateOrigin:
    """The origin of section ``section`` of a template file on disk."""
    return TemplateOrigin(template, display_path(template, cwd), section, values_files)


@dataclass
class HelmLocator:
    """Maps rendered fields to template lines and values.yaml lines."""

    cwd: Path
    origins: dict[int, TemplateOrigin] = field(default_factory=dict)
    _texts: dict[Path, str] = field(default_factory=dict)

    def locate(
        self, resource: Resource, path: FieldPath
    ) -> tuple[Location, tuple[RelatedLocation, ...]]:
        from klint.sources.helm_map import locate_field

        origin = self.origins.get(id(resource.document))
        if origin is None or origin.template is None:
            display = origin.display if origin else resource.document.path
            return Location(display, Span.line(1)), ()
        text = self._read(origin.template)
        match = locate_field(text, (*resource.base, *path), origin.section) if text else None
        if match is None:
            return Location(origin.display, Span.line(1)), ()
        line_text = text.split("\n")[match.line - 1] if text else ""
        end = max(len(line_text.rstrip()) + 1, match.column)
        location = Location(origin.display, Span(match.line, match.column, match.line, end))
        related = self._values_location(match.values_path, origin.values_files)
        return location, related

    def _values_location(
        self, dotted: str | None, values_files: tuple[Path, ...]
    ) -> tuple[RelatedLocation, ...]:
        from klint.sources.helm_map import values_line

        if not dotted:
            return ()
        for values_file in reversed(values_files):
            text = self._read(values_file)
            found = values_line(text, dotted) if text else None
            if found is not None:
                line, column = found
                display = display_path(values_file, self.cwd)
                return (
                    RelatedLocation(
                        Location(
                            display, Span(line, column, line, column + len(dotted.split(".")[-1]))
                        ),
                        "set in",
                    ),
                )
        return ()

    def _read(self, path: Path) -> str:
        if path not in self._texts:
            try:
                self._texts[path] = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                self._texts[path] = ""
        return self._texts[path]


@dataclass(frozen=True)
class HelmChart:
    """A chart directory (or packaged ``.tgz``), rendered with klint's own Helm."""

    path: Path
    display: str
    cwd: Path

    def load(self, settings: LoadSettings) -> LoadedUnit:
        from klint.sources.helm import HelmRenderError
        from klint.sources.helm_isolation import render_isolated

        user_values = [self._resolve(v) for v in settings.helm_values]
        try:
            rendered = render_isolated(
                settings.render_timeout,
                chart=self.path,
                values_files=user_values,
                set_values=settings.helm_set,
                set_string_values=settings.helm_set_string,
                release_name=settings.release_name,
                namespace=settings.namespace,
                kube_version=settings.kube_version,
            )
        except HelmRenderError as error:
            return LoadedUnit([], [self._render_problem(error)], files=0)
        chart_values = self.path / "values.yaml"
        values = tuple(([chart_values] if chart_values.is_file() else []) + user_values)
        locator = HelmLocator(self.cwd)
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
        from klint.sources.helm_map import section_indexes

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
            if candidate is not None and candidate.is_file():
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

"""A Helm chart as a lint unit: rendered offline, findings mapped back to the templates.

Each rendered document remembers the template that produced it; a finding's field path is
matched through that template's structure to the line a person edits, and the values.yaml
line that supplied the value is added as a related location.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath

from klint.documents import Document, parse_stream
from klint.findings import Location, Notification, Severity, Span
from klint.model.component import Expectation
from klint.not_kubernetes import PART_OF_UNIT
from klint.sources.base import LoadedUnit, LoadSettings, display_path
from klint.sources.confine import is_inside, read_inside, unit_root
from klint.sources.helm import render_notes as notes
from klint.sources.helm.archived import (
    ARCHIVE_SEPARATOR,
    archived_template,
    packaged_template,
    read_member,
)
from klint.sources.helm.chart_files import (
    helm_repository_release,
    missing_dependencies,
    read_yaml_mapping,
)
from klint.sources.helm.dependencies import MissingDependency, merged_values, plan_missing
from klint.sources.helm.isolation import render_isolated
from klint.sources.helm.locator import HelmLocator, TemplateOrigin
from klint.sources.helm.output import HelmRenderError, RenderedTemplate
from klint.sources.helm.partial import render_without_failing
from klint.sources.helm.repeatable import required_messages
from klint.sources.helm.schema_refs import schema_warnings
from klint.sources.helm.subchart_crds import SubchartCrd, crd_paths, subchart_crds
from klint.sources.helm.template_map import section_indexes


@dataclass(frozen=True)
class HelmChart:
    """A chart directory (or packaged ``.tgz``), rendered with klint's own Helm."""

    path: Path
    display: str
    cwd: Path

    def load(self, settings: LoadSettings) -> LoadedUnit:
        if self.path.is_dir() and read_yaml_mapping(self.path / "Chart.yaml").get("type") == (
            "library"
        ):
            note = Notification(
                PART_OF_UNIT,
                f"a library chart (type: library): {self.display} has nothing to render; its "
                "templates are linted through the charts that use it",
                Location(self.display + "/Chart.yaml", Span.line(1)),
                Severity.NOTE,
            )
            return LoadedUnit([], [note], files=0)
        user_values = [self._resolve(v) for v in settings.helm_values]
        root = unit_root(self.path, self.cwd)
        problems: list[Notification] = []
        # values the user chose (.klint.yaml, -f, --set) are never swapped for ci/ values
        chosen = bool(user_values or settings.helm_set or settings.helm_set_string)
        placeholders: frozenset[str] = frozenset()  # values made up to render (required)
        try:
            try:
                rendered, missing = self._render(settings, user_values, root)
            except HelmRenderError as error:
                moved = self._in_own_namespace(settings, user_values, root, error)
                if moved is None:
                    raise
                namespace, rendered, missing = moved
                problems.append(
                    notes.namespace_note(self.display, namespace, self._clean(error.message))
                )
        except HelmRenderError as error:
            recovered = self._recover(settings, root, user_values, chosen, error)
            if isinstance(recovered, LoadedUnit):
                return recovered
            rendered, missing, user_values, placeholders, said = recovered
            problems.extend(said)
        else:
            if not rendered and not chosen and not (self.path / "crds").is_dir():
                empty = self._render_with_ci_values(settings, root, [], objects=True)
                if empty is None:
                    problems.append(notes.nothing_rendered(self.display))
                else:
                    ci_values, rendered, missing = empty
                    user_values = [ci_values]
                    problems.append(
                        notes.ci_values_note(
                            self.display, self.cwd, ci_values, "render no object", True
                        )
                    )
        problems.extend(notes.missing_problems(self.display, self.cwd, missing))
        problems.extend(schema_warnings(self.path, self.display, self.cwd, root))
        chart_values = self.path / "values.yaml"
        values = tuple(([chart_values] if chart_values.is_file() else []) + user_values)
        locator = HelmLocator(self.cwd, root, frozenset(user_values))
        documents: list[Document] = []
        listed: list[str] = []  # the display of each file read, for -v and --show-files
        for template in rendered:
            # templates inside a packaged chart have no file of their own: report the archive
            display = (
                display_path(template.file, self.cwd) if template.file is not None else self.display
            )
            scope = subchart_scope(template.source, template.file)
            archived = None
            if template.file is None and self.path.is_dir():
                archived = archived_template(self.path, template.source)
            elif template.file is None:
                archived = packaged_template(self.path, template.source, scope[0])
            archived_values: tuple[tuple[str, str], ...] = ()
            if archived is not None:
                shown = display_path(archived.archive, self.cwd)
                display = f"{shown}{ARCHIVE_SEPARATOR}{archived.member}"
                archived_values = tuple(
                    (f"{shown}{ARCHIVE_SEPARATOR}{member}", text)
                    for member, text in archived.values
                )
            listed.append(display)
            parsed = parse_stream(template.text, display, settings.limits)
            problems.extend(parsed.problems)
            source_text = archived.text if archived is not None else self._text(template.file)
            sections = self._sections(source_text, template.text)
            for document in parsed.documents:
                document.rendered = True  # the template's output, not the template's lines
                known = sections[document.index] if document.index < len(sections) else None
                section = known if known is not None else document.index
                locator.origins[id(document)] = TemplateOrigin(
                    template.file,
                    display,
                    section,
                    values,
                    archived.text if archived is not None else None,
                    archived.values_prefix if archived is not None else scope[0],
                    scope[1],
                    archived_values,
                )
                # Rendered names may be random (randAlphaNum): fingerprint by template.
                document.identity = f"{template.source}#{section}"
                documents.append(document)
        listed += self._crds(settings, root, user_values, documents, problems)
        # a packaged chart shows every template as the archive: then only the count is known
        paths = frozenset(listed) if len(set(listed)) == len(listed) else None
        return LoadedUnit(
            documents,
            problems,
            locator,
            len(listed),
            paths,
            context=self.context(),
            placeholders=placeholders,
        )

    def context(self) -> Expectation | None:
        """Why the whole chart's findings are notes, if they are: a published copy (a release
        in a Helm repository), or a chart its maintainers deprecated (Chart.yaml
        ``deprecated: true``, which Helm shows on install: nobody hardens a retired chart)."""
        if helm_repository_release(self.path):
            what = (
                "a published chart release in a Helm repository (index.yaml), fixed in its sources"
            )
            return Expectation("published", f"in {self.path.name}: {what}", True, True)
        if (
            self.path.is_dir()
            and read_yaml_mapping(self.path / "Chart.yaml").get("deprecated") is True
        ):
            what = "a deprecated chart (Chart.yaml deprecated: true), no longer maintained"
            return Expectation("unmaintained", f"in {self.path.name}: {what}", True)
        return None

    def _crds(
        self,
        settings: LoadSettings,
        root: Path,
        values_files: list[Path],
        documents: list[Document],
        problems: list[Notification],
    ) -> list[str]:
        """Load the ``crds/`` files of the chart and of its enabled subcharts (Helm installs
        them as they are, never templated) as documents of the unit, so rules see the chart's
        own CustomResourceDefinitions and findings in them land on their own lines. Returns
        the displays of the files read."""
        limit = settings.limits.max_file_bytes
        read: list[str] = []
        found = [SubchartCrd(path) for path in crd_paths(self.path, root)]
        if self.path.is_dir():
            found += subchart_crds(
                self.path, root, lambda: merged_values(self.path, values_files, settings.helm_set)
            )
        for crd in found:
            if crd.member is None:
                display = display_path(crd.path, self.cwd)
                data = read_inside(crd.path, root, limit)
                text = None if data is None else data.decode("utf-8", errors="replace")
            else:
                display = display_path(crd.path, self.cwd) + ARCHIVE_SEPARATOR + crd.member
                text = read_member(crd.path, crd.member) if crd.size <= limit else None
            if text is None:
                problems.append(
                    Notification(
                        "file-too-large",
                        "a CRD file of the chart that is unreadable or over the "
                        f"{limit // (1024 * 1024)} MiB limit (--max-file-size); skipped",
                        Location(display, Span.line(1)),
                    )
                )
                continue
            parsed = parse_stream(text, display, settings.limits)
            problems.extend(parsed.problems)
            documents.extend(parsed.documents)  # no template origin: located as plain YAML
            read.append(display)
        return read

    def _render(
        self,
        settings: LoadSettings,
        values_files: list[Path],
        root: Path,
        placeholders: bool = False,
        without_templates: tuple[str, ...] = (),
    ) -> tuple[list[RenderedTemplate], list[MissingDependency]]:
        """Render with these values files, leaving out dependencies not vendored (with
        ``placeholders``: every unset ``required`` value stands in as its message) and the
        templates ``without_templates`` names (Helm's names)."""
        missing = self._missing(settings, values_files)
        rendered = render_isolated(
            settings.render_timeout,
            settings.render_memory_bytes,
            chart=self.path,
            values_files=values_files,
            set_values=settings.helm_set,
            set_string_values=settings.helm_set_string,
            release_name=settings.release_name,
            namespace=settings.namespace or "default",
            kube_version=settings.kube_version,
            root=root,
            max_bytes=settings.limits.max_file_bytes,
            max_documents=settings.limits.max_documents,
            without_dependencies=tuple(m.name for m in missing),
            required_placeholders=placeholders,
            without_templates=without_templates,
        )
        return rendered, missing

    def _missing(self, settings: LoadSettings, values_files: list[Path]) -> list[MissingDependency]:
        if not self.path.is_dir():
            return []
        names = missing_dependencies(self.path, unit_root(self.path, self.cwd))
        if not names:
            return []
        values = merged_values(self.path, values_files, settings.helm_set)
        return plan_missing(self.path, names, values)

    def _recover(
        self,
        settings: LoadSettings,
        root: Path,
        user_values: list[Path],
        chosen: bool,
        error: HelmRenderError,
    ) -> LoadedUnit | _Recovered:
        """What renders when the values used do not: the chart's ci/ values, else a
        placeholder for each ``required`` value (neither when the user chose values), else
        the chart without the templates that stop it (helm/partial.py), with what to say;
        a unit with only the failure when nothing renders."""
        failures = [error]  # which ci/ values file renders can depend on the moment too
        fallback: tuple[Path | None, list[RenderedTemplate], list[MissingDependency]] | None
        fallback = None
        if not chosen and error.values_can_fix:
            fallback = self._render_with_ci_values(settings, root, failures)
            if fallback is None and error.template is not None:
                fallback = self._render_with_placeholders(settings, root, failures)
        repeatable = all(failure.repeatable for failure in failures)
        if fallback is not None:
            ci_values, rendered, missing = fallback
            why = f"do not render ({self._clean(getattr(error, 'message', str(error)))})"
            if ci_values is None:
                note = notes.placeholders_note(self.display, why, repeatable)
                return rendered, missing, user_values, required_messages(self.path, root), [note]
            note = notes.ci_values_note(self.display, self.cwd, ci_values, why, repeatable)
            return rendered, missing, [ci_values], frozenset(), [note]
        failed = self._render_problem(error, hint=True, repeatable=repeatable)
        partial = render_without_failing(
            lambda out: self._render(settings, user_values, root, without_templates=out), error
        )
        if partial is None:
            missing = self._missing(settings, user_values)
            unrendered = notes.missing_problems(self.display, self.cwd, missing, "none")
            return LoadedUnit([], [*unrendered, failed], files=0)
        (rendered, missing), failures = partial
        said = notes.missing_problems(self.display, self.cwd, missing, "part")
        said.append(notes.left_out(failed))
        said += [notes.left_out(self._render_problem(failure)) for failure in failures[1:]]
        return rendered, [], user_values, frozenset(), said  # the missing ones said here

    def _render_with_ci_values(
        self,
        settings: LoadSettings,
        root: Path,
        failures: list[HelmRenderError],
        objects: bool = False,
    ) -> tuple[Path, list[RenderedTemplate], list[MissingDependency]] | None:
        """The first of the chart's ``ci/*.yaml`` values files (chart-testing's convention),
        in sorted order, that renders (some output, with ``objects``); None when none does
        (``failures`` gets the errors)."""
        for candidate in ci_values_files(self.path, root):
            try:
                rendered, missing = self._render(settings, [candidate], root)
            except HelmRenderError as error:
                failures.append(error)
                continue
            if rendered or not objects:
                return candidate, rendered, missing
        return None

    def _in_own_namespace(
        self, settings: LoadSettings, values: list[Path], root: Path, error: HelmRenderError
    ) -> tuple[str, list[RenderedTemplate], list[MissingDependency]] | None:
        """A chart whose templates refuse Helm's default namespace (they ``fail`` on
        ``default``, as nvidia-device-plugin's do) rendered as ``helm install -n <chart>``
        installs it; None when the error is about something else or it still fails."""
        if settings.namespace or "namespace" not in error.message.lower():
            return None
        namespace = re.sub(r"[^a-z0-9-]+", "-", self.path.name.lower()).strip("-")[:63] or "chart"
        try:
            rendered, missing = self._render(replace(settings, namespace=namespace), values, root)
        except HelmRenderError:
            return None
        return namespace, rendered, missing

    def _render_with_placeholders(
        self, settings: LoadSettings, root: Path, failures: list[HelmRenderError]
    ) -> tuple[None, list[RenderedTemplate], list[MissingDependency]] | None:
        """The default values with a placeholder for every value a template marks
        ``required`` (its message): the chart's own templates are linted when only values
        the installer must give are missing. None when it still does not render (or is a
        packed chart, whose messages are not read here)."""
        if not self.path.is_dir():
            return None
        try:
            rendered, missing = self._render(settings, [], root, placeholders=True)
        except HelmRenderError as error:
            failures.append(error)
            return None
        return None, rendered, missing

    @staticmethod
    def _text(template: Path | None) -> str | None:
        if template is None:
            return None
        try:
            return template.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None

    @staticmethod
    def _sections(template: str | None, rendered: str) -> list[int | None]:
        """The template section behind each rendered document (``if`` blocks may drop some)."""
        return section_indexes(template, rendered) if template is not None else []

    def _resolve(self, value: str) -> Path:
        path = Path(value)
        return path if path.is_absolute() else self.cwd / path

    def _render_problem(
        self, error: HelmRenderError, hint: bool = False, repeatable: bool = True
    ) -> Notification:
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
        message = self._clean(getattr(error, "message", str(error)))
        if hint and template and error.values_can_fix:
            message += (
                ". If it needs values, set them in .klint.yaml (helm.charts: "
                f"{self.display}: values) or pass -f/--set"
            )
        if helm_repository_release(self.path):  # a copy: its sources are linted, or not here
            return Notification(
                "helm-render",
                f"chart {self.display} failed to render: {message}; a published chart release "
                "in a Helm repository (index.yaml), fixed in its sources: not linted",
                Location(where, Span.line(line)),
                level=Severity.NOTE,
                repeatable=repeatable and error.repeatable,
            )
        return Notification(
            "helm-render",
            f"chart {self.display} failed to render: {message}",
            Location(where, Span.line(line)),
            fatal=True,
            repeatable=repeatable and error.repeatable,
        )

    def _clean(self, message: str) -> str:
        """No path of the machine in a message: the chart's own path becomes its display."""
        absolute = str(self.path.absolute())
        message = message.replace(absolute, self.display)
        prefix = str(self.cwd.absolute()).rstrip("/") + "/"
        message = message.replace(prefix, "")
        # a packaged chart is unpacked in a scratch folder: its name means nothing to a user
        scratch = re.escape(tempfile.gettempdir().rstrip("/")) + r"/klint-chart-[^/\s]+/"
        return re.sub(scratch, "", message)


_Recovered = tuple[
    list[RenderedTemplate], list[MissingDependency], list[Path], frozenset[str], list[Notification]
]


def subchart_scope(source: str, file: Path | None) -> tuple[str, tuple[Path, ...]]:
    """For a template of a subchart directory (``web/charts/db/templates/x.yaml``): the key
    its values sit under in the parent's (``db``; nested ``a.b``) and its own values.yaml."""
    parts = PurePosixPath(source).parts
    keys: list[str] = []
    index = 1
    while index + 2 < len(parts) and parts[index] == "charts":
        keys.append(parts[index + 1])
        index += 2
    if not keys or file is None:
        return "", ()
    own = next((d / "values.yaml" for d in file.parents if (d / "Chart.yaml").is_file()), None)
    return ".".join(keys), (own,) if own is not None and own.is_file() else ()


def ci_values_files(chart: Path, root: Path) -> list[Path]:
    """The chart's ``ci/*.yaml`` values files, sorted, that are regular files in ``root``."""
    folder = chart / "ci"
    if not chart.is_dir() or not folder.is_dir() or folder.is_symlink():
        return []
    return [
        path
        for path in sorted(folder.iterdir())
        if path.name.endswith((".yaml", ".yml"))
        and not path.is_symlink()
        and path.is_file()
        and is_inside(path, root)
    ]

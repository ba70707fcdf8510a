"""Helm charts → rendered templates, offline, with the template file each one came from.

Rendering uses the ``helm`` binary when one is on PATH, else the ``helm-python-sdk`` package
(Helm's Go SDK as a C library, a dependency of klint). Nothing is ever fetched: declared
dependencies that are not vendored under ``charts/`` stop the render with a
:class:`HelmRenderError` instead of a silent partial result.

Each template's output is split the way Helm splits it (a ``---`` at the start of a line is a
separator, whatever follows it) and rebuilt as a clean YAML stream with one explicit document
per section, empty sections included (:func:`normalise_output`), so that
:func:`klint.sources.helm.template_map.section_indexes` can tie each document to its
template section.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Literal

from klint.sources.budget import documents_problem, output_problem
from klint.sources.confine import CopyLimits, TreeTooLarge, copy_confined, unit_root
from klint.sources.helm.archive import extract_chart_archive
from klint.sources.helm.backends import RenderOptions, render_with_binary, render_with_sdk
from klint.sources.helm.capabilities import served_kinds
from klint.sources.helm.chart_files import (
    is_chart_dir,
    missing_dependencies,
    resolve_source,
    template_files,
)
from klint.sources.helm.copy_rewrite import FileRewrite, rewrite_chart_copy
from klint.sources.helm.dependencies import drop_dependencies
from klint.sources.helm.local_deps import moved, vendor_local_dependencies
from klint.sources.helm.output import (
    HelmRenderError,
    RenderedTemplate,
    normalise_output,
    split_sections,
)
from klint.sources.helm.repeatable import TEMPLATES, TEMPLATES_WITH_PLACEHOLDERS
from klint.sources.helm.schemas import SCHEMAS

Backend = Literal["auto", "binary", "sdk"]


def render_chart(
    chart: Path,
    *,
    values_files: Sequence[Path] = (),
    set_values: Sequence[str] = (),
    set_string_values: Sequence[str] = (),
    release_name: str = "release",
    namespace: str = "default",
    kube_version: str | None = None,
    backend: Backend = "auto",
    root: Path | None = None,
    max_bytes: int | None = None,
    max_documents: int | None = None,
    without_dependencies: Sequence[str] = (),
    required_placeholders: bool = False,
    without_templates: Sequence[str] = (),
) -> list[RenderedTemplate]:
    """Render a chart directory or packaged ``.tgz`` offline, sorted by source path.

    NOTES.txt, partials and templates whose output is empty are left out; hooks and
    ``templates/tests/`` are kept. ``backend`` picks the ``helm`` binary or the SDK; ``auto``
    prefers the binary when it is on PATH.

    Helm reads a confined copy of the chart (:func:`~klint.sources.confine.copy_confined`):
    a link that leaves ``root`` (default: the chart's repository) stops the render with an
    error naming the link, so no file outside the root can reach a template or an error
    message. Output over ``max_bytes`` or ``max_documents`` is refused.
    ``without_dependencies`` (``dep``, ``sub/dep``) are removed from the copy's metadata
    (:mod:`klint.sources.helm.dependencies`). With ``kube_version``, the
    ``group/version/Kind`` of every built-in kind it serves is added to
    ``.Capabilities.APIVersions`` (:mod:`klint.sources.helm.capabilities`). With
    ``required_placeholders``, a value a template marks ``required`` that is not set renders
    as the ``required`` message (:data:`~klint.sources.helm.repeatable.REQUIRED_STAND_IN`).
    ``without_templates`` (Helm's names, ``web/templates/check.yaml``) are left out of the
    copy (:mod:`klint.sources.helm.partial`).
    """
    options = RenderOptions(
        tuple(Path(v) for v in values_files),
        tuple(set_values),
        tuple(set_string_values),
        release_name,
        namespace,
        kube_version,
        served_kinds(kube_version),
    )
    chart = Path(chart)
    limits = _Limits(max_bytes, max_documents)
    left_out = tuple(without_templates)
    templates = TEMPLATES_WITH_PLACEHOLDERS if required_placeholders else TEMPLATES
    if chart.is_file() and chart.name.endswith((".tgz", ".tar.gz")):
        with tempfile.TemporaryDirectory(prefix="klint-chart-") as scratch:
            extracted = extract_chart_archive(chart, Path(scratch))
            drop_dependencies(extracted, without_dependencies)
            rendered = _render_dir(extracted, options, backend, chart, limits, templates, left_out)
            return [RenderedTemplate(r.source, None, r.text) for r in rendered]
    if not is_chart_dir(chart):
        raise HelmRenderError(f"{chart}: not a Helm chart (no Chart.yaml)")
    with tempfile.TemporaryDirectory(prefix="klint-chart-") as scratch:
        copy = Path(scratch) / (chart.absolute().name or "chart")
        confined = root or unit_root(chart)
        _copy_chart(chart, copy, confined, max_bytes)
        places = {copy: chart, **_vendor_local(chart, copy, confined, max_bytes)}
        drop_dependencies(copy, without_dependencies)
        try:
            rendered = _render_dir(copy, options, backend, chart, limits, templates, left_out)
        except HelmRenderError as error:
            error.message = error.message.replace(str(copy), str(chart))
            raise
        return [
            RenderedTemplate(r.source, r.file and moved(r.file, places), r.text) for r in rendered
        ]


@dataclass(frozen=True)
class _Limits:
    max_bytes: int | None
    max_documents: int | None


@contextmanager
def _copying(chart: Path, what: str) -> Iterator[None]:
    """A copy that is too large, or that cannot be read, as a render error."""
    try:
        yield
    except TreeTooLarge as error:
        raise HelmRenderError(f"{error} (--max-file-size)") from None
    except OSError as error:
        raise HelmRenderError(
            f"{chart}: cannot read {what}: {error.strerror}", repeatable=False
        ) from None


def _copy_limits(max_bytes: int | None) -> CopyLimits:
    return CopyLimits() if max_bytes is None else CopyLimits(max_bytes, 4 * max_bytes)


def _copy_chart(chart: Path, copy: Path, root: Path, max_bytes: int | None) -> None:
    """Copy the chart with no links out of ``root``; a link out is a render error."""
    with _copying(chart, "the chart"):
        refused = copy_confined(chart, copy, root, _copy_limits(max_bytes))
    if refused:
        link = Path(refused[0].path)
        relative = os.path.relpath(link, chart)
        # template names start with the chart's name: HelmChart maps the rest to the file
        raise HelmRenderError(
            f"{relative}: {refused[0].reason}", f"chart/{relative}", 1, values_can_fix=False
        )


def _vendor_local(chart: Path, copy: Path, root: Path, max_bytes: int | None) -> dict[Path, Path]:
    """The chart's ``file://`` dependencies inside ``root``, vendored into the copy (as
    ``helm dependency build`` would): each copied folder → the dependency's own."""
    with _copying(chart, "a dependency"):
        return vendor_local_dependencies(chart, copy, root, _copy_limits(max_bytes))


def _render_dir(
    chart_dir: Path,
    options: RenderOptions,
    backend: Backend,
    shown: Path,
    limits: _Limits,
    templates: FileRewrite = TEMPLATES,
    left_out: tuple[str, ...] = (),
) -> list[RenderedTemplate]:
    # chart_dir is klint's copy: rewritten, never the original (schemas confined, templates
    # made repeatable)
    rewrite_chart_copy(chart_dir, (SCHEMAS, templates))
    missing = missing_dependencies(chart_dir)
    if missing:
        raise HelmRenderError(
            f"{shown}: chart dependencies missing from charts/: {', '.join(missing)}. "
            "Run `helm dependency build` to vendor them; klint renders offline and never "
            "fetches charts."
        )
    for values_file in options.values_files:
        if not values_file.is_file():
            raise HelmRenderError(f"{values_file}: values file not found")
    helm = shutil.which("helm") if backend in ("auto", "binary") else None
    if backend == "binary" and helm is None:
        raise HelmRenderError("the helm binary is not on PATH", repeatable=False)
    files = template_files(chart_dir)
    _leave_out(files, left_out)
    try:
        if helm is not None:
            outputs = render_with_binary(helm, chart_dir, options)
        else:
            outputs = render_with_sdk(chart_dir, options)
    except HelmRenderError as error:
        _confine_location(error, files)
        raise
    _check_size(outputs, limits)
    result: list[RenderedTemplate] = []
    for source in sorted(outputs):
        if _is_dropped(source):
            continue
        text = normalise_output(outputs[source])
        if text is not None:
            result.append(RenderedTemplate(source, resolve_source(source, chart_dir, files), text))
    return result


def _confine_location(error: HelmRenderError, charts: Mapping[str, Path | None]) -> None:
    """Keep the location Helm's message gives only when it names a template file of the
    chart: the message is text a template controls (``fail "Error: c/../../x:1"``), so any
    other name becomes no location (the unit's ``Chart.yaml``)."""
    if error.template is not None and error.template not in _template_names(charts):
        error.template = error.line = error.column = None


def _leave_out(charts: Mapping[str, Path | None], names: Sequence[str]) -> None:
    """Remove from klint's copy the template files Helm knows by ``names`` (only names of
    files on disk: a name comes from a message a template controls)."""
    known = _template_names(charts) if names else set()
    for name in names:
        if name not in known:
            continue
        for prefix, location in charts.items():
            head = f"{prefix}/templates/"
            if location is not None and name.startswith(head):
                (location / "templates" / name[len(head) :]).unlink(missing_ok=True)


def _template_names(charts: Mapping[str, Path | None]) -> set[str]:
    """Helm's names of the template files on disk (``web/charts/db/templates/x.yaml``)."""
    names: set[str] = set()
    for prefix, location in charts.items():
        if location is None or ".." in PurePosixPath(prefix).parts or prefix.startswith("/"):
            continue
        templates = location / "templates"
        for directory, _, files in os.walk(templates):
            relative = PurePosixPath(Path(os.path.relpath(directory, templates)).as_posix())
            for file in files:
                names.add(f"{prefix}/templates/{(relative / file).as_posix()}".replace("/./", "/"))
    return names


def _check_size(outputs: Mapping[str, str], limits: _Limits) -> None:
    """Refuse output over the byte or document limit, as a file over --max-file-size is."""
    size = sum(len(text) for text in outputs.values())
    if limits.max_bytes is not None and size > limits.max_bytes:
        raise HelmRenderError(output_problem("the chart", limits.max_bytes))
    if limits.max_documents is not None:
        documents = sum(len(split_sections(text)) for text in outputs.values())
        if documents > limits.max_documents:
            raise HelmRenderError(documents_problem("the chart", documents, limits.max_documents))


def _is_dropped(source: str) -> bool:
    """NOTES.txt and partials never reach the manifest."""
    name = PurePosixPath(source).name
    return name == "NOTES.txt" or name.startswith("_")

"""Helm charts → rendered templates, offline, with the template file each one came from.

Rendering uses the ``helm`` binary when one is on PATH, else the ``helm-python-sdk`` package
(Helm's Go SDK as a C library, the ``klint[helm]`` extra). Nothing is ever fetched: declared
dependencies that are not vendored under ``charts/`` stop the render with a
:class:`HelmRenderError` instead of a silent partial result.

Each template's output is split the way Helm splits it (a ``---`` at the start of a line is a
separator, whatever follows it) and rebuilt as a clean YAML stream with one explicit document
per section, empty sections included (:func:`normalise_output`), so that
:func:`klint.sources.helm.template_map.section_indexes` can tie each document to its
template section.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from typing import Literal

from klint.sources.helm.archive import extract_chart_archive
from klint.sources.helm.backends import RenderOptions, render_with_binary, render_with_sdk
from klint.sources.helm.chart_files import (
    is_chart_dir,
    missing_dependencies,
    resolve_source,
    template_files,
)
from klint.sources.helm.output import (
    HelmRenderError,
    RenderedTemplate,
    normalise_output,
)

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
) -> list[RenderedTemplate]:
    """Render a chart directory or packaged ``.tgz`` offline, sorted by source path.

    NOTES.txt, partials and templates whose output is empty are left out; hooks and
    ``templates/tests/`` are kept. ``backend`` picks the ``helm`` binary or the SDK; ``auto``
    prefers the binary when it is on PATH.
    """
    options = RenderOptions(
        tuple(Path(v) for v in values_files),
        tuple(set_values),
        tuple(set_string_values),
        release_name,
        namespace,
        kube_version,
    )
    chart = Path(chart)
    if chart.is_file() and chart.name.endswith((".tgz", ".tar.gz")):
        with tempfile.TemporaryDirectory(prefix="klint-chart-") as scratch:
            root = extract_chart_archive(chart, Path(scratch))
            rendered = _render_dir(root, options, backend)
            return [RenderedTemplate(r.source, None, r.text) for r in rendered]
    if not is_chart_dir(chart):
        raise HelmRenderError(f"{chart}: not a Helm chart (no Chart.yaml)")
    return _render_dir(chart, options, backend)


def _render_dir(
    chart_dir: Path, options: RenderOptions, backend: Backend
) -> list[RenderedTemplate]:
    missing = missing_dependencies(chart_dir)
    if missing:
        raise HelmRenderError(
            f"{chart_dir}: chart dependencies missing from charts/: {', '.join(missing)}. "
            "Run `helm dependency build` to vendor them; klint renders offline and never "
            "fetches charts."
        )
    for values_file in options.values_files:
        if not values_file.is_file():
            raise HelmRenderError(f"{values_file}: values file not found")
    helm = shutil.which("helm") if backend in ("auto", "binary") else None
    if backend == "binary" and helm is None:
        raise HelmRenderError("the helm binary is not on PATH")
    if helm is not None:
        outputs = render_with_binary(helm, chart_dir, options)
    else:
        outputs = render_with_sdk(chart_dir, options)
    files = template_files(chart_dir)
    result: list[RenderedTemplate] = []
    for source in sorted(outputs):
        if _is_dropped(source):
            continue
        text = normalise_output(outputs[source])
        if text is not None:
            result.append(RenderedTemplate(source, resolve_source(source, chart_dir, files), text))
    return result


def _is_dropped(source: str) -> bool:
    """NOTES.txt and partials never reach the manifest."""
    name = PurePosixPath(source).name
    return name == "NOTES.txt" or name.startswith("_")

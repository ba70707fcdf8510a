"""Helm charts → rendered templates, offline, with the template file each one came from.

Rendering uses the ``helm`` binary when one is on PATH, else the ``helm-python-sdk`` package
(Helm's Go SDK as a C library, the ``klint[helm]`` extra). Nothing is ever fetched: declared
dependencies that are not vendored under ``charts/`` stop the render with a
:class:`HelmRenderError` instead of a silent partial result.

Each template's output is split the way Helm splits it (a ``---`` at the start of a line is a
separator, whatever follows it) and rebuilt as a clean YAML stream with one explicit document
per section, empty sections included (:func:`normalise_output`), so that
:func:`klint.sources.helm_map.section_indexes` can tie each document to its template section.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Literal

import yaml

Backend = Literal["auto", "binary", "sdk"]

HELM_TIMEOUT_SECONDS = 300
INSTALL_HINT = "pip install 'klint[helm]'"
_MAX_ARCHIVE_BYTES = 64 * 1024 * 1024
_MAX_ARCHIVE_MEMBERS = 10_000

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
    ) -> None:
        super().__init__(message)
        self.message = message
        self.template = template
        self.line = line
        self.column = column

    @classmethod
    def from_helm(cls, text: str) -> HelmRenderError:
        """Build the error from Helm's text, reading the first ``template:line:col`` in it.

        Only what follows the last ``Error: `` counts: the helm binary prints warnings first.
        """
        text = text.strip()
        text = text[text.rfind("Error: ") + len("Error: ") :] if "Error: " in text else text
        location = _ERROR_LOCATION.search(text)
        if location is not None:
            column = int(location.group(3)) if location.group(3) else None
            return cls(text, location.group(1), int(location.group(2)), column)
        yaml_error = _YAML_ERROR.search(text)
        return cls(text, yaml_error.group(1) if yaml_error else None)


def is_chart_dir(path: Path) -> bool:
    """Whether ``path`` is a directory holding a ``Chart.yaml``."""
    return path.is_dir() and (path / "Chart.yaml").is_file()


def find_chart_root(path: Path) -> Path | None:
    """The chart that owns ``path`` (a file or directory), as an absolute path.

    That is the nearest enclosing directory with a ``Chart.yaml``, except that a chart that
    sits in another chart's ``charts/`` belongs to that parent (recursively).
    """
    from klint.sources.discover import find_chart_root as find_owning_chart

    start = Path(os.path.abspath(path))
    return find_owning_chart(start if start.is_dir() else start.parent)


def missing_dependencies(chart_dir: Path) -> list[str]:
    """Declared dependencies with no matching chart under ``charts/`` (dir or archive).

    Reads ``Chart.yaml`` (or ``requirements.yaml`` for ``apiVersion: v1``) and matches by
    chart name, as ``helm template`` does, whatever the ``condition``. Directory subcharts are
    checked too (named ``sub/dep``); for them a chart vendored by an enclosing chart counts,
    since templates of all charts share one namespace.
    """
    return _missing(chart_dir, frozenset(), "")


def _missing(chart_dir: Path, inherited: frozenset[str], prefix: str) -> list[str]:
    metadata = _read_yaml_mapping(chart_dir / "Chart.yaml")
    vendored = _vendored_charts(chart_dir)
    available = inherited | {name for name, _ in vendored}
    missing = [
        prefix + name
        for name in _declared_dependencies(chart_dir, metadata)
        if name not in available
    ]
    for name, location in vendored:
        if location is not None:
            missing.extend(_missing(location, available, f"{prefix}{name}/"))
    return missing


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
    options = _Options(
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
            root = _extract_chart_archive(chart, Path(scratch))
            rendered = _render_dir(root, options, backend)
            return [RenderedTemplate(r.source, None, r.text) for r in rendered]
    if not is_chart_dir(chart):
        raise HelmRenderError(f"{chart}: not a Helm chart (no Chart.yaml)")
    return _render_dir(chart, options, backend)


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


# --- rendering ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Options:
    """What ``helm template`` takes besides the chart."""

    values_files: tuple[Path, ...]
    set_values: tuple[str, ...]
    set_string_values: tuple[str, ...]
    release_name: str
    namespace: str
    kube_version: str | None


def _render_dir(chart_dir: Path, options: _Options, backend: Backend) -> list[RenderedTemplate]:
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
        outputs = _render_with_binary(helm, chart_dir, options)
    else:
        outputs = _render_with_sdk(chart_dir, options)
    files = _template_files(chart_dir)
    result: list[RenderedTemplate] = []
    for source in sorted(outputs):
        if _is_dropped(source):
            continue
        text = normalise_output(outputs[source])
        if text is not None:
            result.append(RenderedTemplate(source, _resolve_source(source, chart_dir, files), text))
    return result


def _is_dropped(source: str) -> bool:
    """NOTES.txt and partials never reach the manifest."""
    name = PurePosixPath(source).name
    return name == "NOTES.txt" or name.startswith("_")


def _render_with_sdk(chart_dir: Path, options: _Options) -> dict[str, str]:
    """Render in-process through helm-python-sdk; template path → raw rendered text."""
    try:
        import helm_python
        from helm_python import _native
    except ImportError:
        raise HelmRenderError(
            f"rendering a Helm chart needs the helm binary on PATH or the Helm SDK: {INSTALL_HINT}"
        ) from None
    values: dict[str, Any] = {}
    layers: list[tuple[str, Callable[[str], dict[str, Any]], str]] = []
    for values_file in options.values_files:
        try:
            text = values_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise HelmRenderError(f"{values_file}: cannot read values: {error}") from error
        layers.append((str(values_file), helm_python.values_from_yaml, text))
    layers += [(f"--set {e}", helm_python.parse_set_string, e) for e in options.set_values]
    layers += [
        (f"--set-string {e}", helm_python.parse_set_string_values, e)
        for e in options.set_string_values
    ]
    for origin, parse, text in layers:
        try:
            values = merge_values(values, parse(text))
        except helm_python.HelmError as error:
            raise HelmRenderError(f"{origin}: {error.detail}") from error
    try:
        with helm_python.Chart.load(chart_dir) as chart:
            if options.kube_version is None:
                return chart.render(
                    values or None,
                    name=options.release_name,
                    namespace=options.namespace,
                    is_install=True,
                )
            # Chart.render() does not expose the library's kube_version option (0.2.2).
            render_options = {
                "name": options.release_name,
                "namespace": options.namespace,
                "is_install": True,
                "kube_version": options.kube_version,
            }
            payload = _native.call_string(
                "helm_render",
                chart._raw(),
                json.dumps(values) if values else None,
                json.dumps(render_options),
            )
            rendered: dict[str, str] = json.loads(payload)
            return rendered
    except helm_python.HelmError as error:
        raise HelmRenderError.from_helm(error.detail) from error


def merge_values(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Helm's ``mergeMaps`` for -f/--set layers: nested maps merge, anything else replaces."""
    merged = dict(base)
    for key, value in override.items():
        current = merged.get(key)
        if isinstance(value, Mapping) and isinstance(current, Mapping):
            merged[key] = merge_values(current, value)
        else:
            merged[key] = value
    return merged


def _helm_template_command(helm: str, chart_dir: Path, options: _Options) -> list[str]:
    """The ``helm template`` arguments (never --dependency-update: that would fetch)."""
    command = [helm, "template", "--namespace", options.namespace]
    for values_file in options.values_files:
        command += ["--values", str(values_file)]
    for expression in options.set_values:
        command += ["--set", expression]
    for expression in options.set_string_values:
        command += ["--set-string", expression]
    if options.kube_version is not None:
        command += ["--kube-version", options.kube_version]
    # "--": a release name or chart path that starts with "-" is not a flag.
    command += ["--", options.release_name, str(chart_dir)]
    return command


def _render_with_binary(helm: str, chart_dir: Path, options: _Options) -> dict[str, str]:
    """Run ``helm template``; template path → text of its documents in file order."""
    command = _helm_template_command(helm, chart_dir, options)
    try:
        completed = subprocess.run(
            command, capture_output=True, text=True, timeout=HELM_TIMEOUT_SECONDS, check=False
        )
    except subprocess.TimeoutExpired:
        raise HelmRenderError(
            f"{chart_dir}: helm template took longer than {HELM_TIMEOUT_SECONDS}s"
        ) from None
    except OSError as error:
        raise HelmRenderError(f"cannot run {helm}: {error}") from error
    if completed.returncode != 0:
        raise HelmRenderError.from_helm(completed.stderr or completed.stdout)
    grouped: dict[str, list[str]] = {}
    for source, _, document in split_helm_output(completed.stdout):
        if source is not None:
            grouped.setdefault(source, []).append(_strip_source_header(document))
    files = _template_files(chart_dir)
    outputs: dict[str, str] = {}
    for source, documents in grouped.items():
        file = _resolve_source(source, chart_dir, files)
        template = _read_text(file) if file is not None else None
        ordered = restore_file_order(documents, template) if template else documents
        outputs[source] = "\n---\n".join(ordered)
    return outputs


def _strip_source_header(document: str) -> str:
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


# --- template files on disk ----------------------------------------------------------------


def _template_files(chart_dir: Path) -> dict[str, Path | None]:
    """Helm chart paths (``web``, ``web/charts/db``) → chart directory, None for archives."""
    metadata = _read_yaml_mapping(chart_dir / "Chart.yaml")
    name = str(metadata.get("name") or chart_dir.name)
    charts: dict[str, Path | None] = {}
    _collect_charts(chart_dir, name, metadata, charts)
    return charts


def _collect_charts(
    chart_dir: Path, prefix: str, metadata: Mapping[str, Any], charts: dict[str, Path | None]
) -> None:
    charts[prefix] = chart_dir
    aliases: dict[str, list[str]] = {}
    for dependency in _dependency_entries(chart_dir, metadata):
        if dependency.get("alias"):
            aliases.setdefault(str(dependency.get("name")), []).append(str(dependency["alias"]))
    for name, location in _vendored_charts(chart_dir):
        for shown in (name, *aliases.get(name, ())):
            full = f"{prefix}/charts/{shown}"
            if location is None:
                charts[full] = None
            else:
                _collect_charts(location, full, _read_yaml_mapping(location / "Chart.yaml"), charts)


def _resolve_source(source: str, chart_dir: Path, charts: Mapping[str, Path | None]) -> Path | None:
    """The file on disk for a Helm template path, or None when it is not on disk."""
    best = max((p for p in charts if source.startswith(p + "/")), key=len, default=None)
    if best is None:
        # Unknown chart name: strip it, as kube-linter does.
        _, _, rest = source.partition("/")
        candidate = chart_dir / rest
        return candidate if rest and candidate.is_file() else None
    location = charts[best]
    if location is None:
        return None
    candidate = location / source[len(best) + 1 :]
    return candidate if candidate.is_file() else None


def _vendored_charts(chart_dir: Path) -> list[tuple[str, Path | None]]:
    """Charts under ``charts/``: (chart name, directory), directory None for archives."""
    found: list[tuple[str, Path | None]] = []
    charts = chart_dir / "charts"
    if not charts.is_dir():
        return found
    for entry in sorted(charts.iterdir()):
        if is_chart_dir(entry):
            name = _read_yaml_mapping(entry / "Chart.yaml").get("name") or entry.name
            found.append((str(name), entry))
        elif entry.is_file() and entry.name.endswith((".tgz", ".tar.gz")):
            name = _archive_chart_name(entry)
            if name is not None:
                found.append((name, None))
    return found


def _archive_chart_name(archive: Path) -> str | None:
    """The ``name`` in a chart archive's top-level ``<dir>/Chart.yaml``."""
    try:
        with tarfile.open(archive, "r:*") as tar:
            for member in tar:
                parts = PurePosixPath(member.name).parts
                if len(parts) == 2 and parts[1] == "Chart.yaml" and member.isfile():
                    handle = tar.extractfile(member)
                    if handle is None or member.size > 1024 * 1024:
                        return None
                    data = yaml.safe_load(handle.read().decode("utf-8", "replace"))
                    name = data.get("name") if isinstance(data, dict) else None
                    return str(name) if name else None
    except (tarfile.TarError, OSError, yaml.YAMLError):
        return None
    return None


def _declared_dependencies(chart_dir: Path, metadata: Mapping[str, Any]) -> list[str]:
    return [str(d["name"]) for d in _dependency_entries(chart_dir, metadata) if d.get("name")]


def _dependency_entries(chart_dir: Path, metadata: Mapping[str, Any]) -> list[dict[str, Any]]:
    entries: Any = metadata.get("dependencies")
    if not entries and str(metadata.get("apiVersion", "")) == "v1":
        entries = _read_yaml_mapping(chart_dir / "requirements.yaml").get("dependencies")
    if not isinstance(entries, list):
        return []
    return [entry for entry in entries if isinstance(entry, dict)]


def _read_yaml_mapping(path: Path) -> dict[str, Any]:
    """A small YAML file (Chart.yaml, requirements.yaml) as a mapping; {} when unreadable."""
    text = _read_text(path)
    if text is None:
        return {}
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return {}
    return data if isinstance(data, dict) else {}


def _read_text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


# --- packaged charts -----------------------------------------------------------------------


def _extract_chart_archive(archive: Path, destination: Path) -> Path:
    """Unpack regular files of a chart archive safely; returns the chart directory.

    Absolute names, ``..`` components, links and special files are refused or skipped, and
    the unpacked size and member count are bounded.
    """
    total = 0
    try:
        with tarfile.open(archive, "r:*") as tar:
            for count, member in enumerate(tar):
                if count >= _MAX_ARCHIVE_MEMBERS:
                    raise HelmRenderError(f"{archive}: more than {_MAX_ARCHIVE_MEMBERS} entries")
                parts = PurePosixPath(member.name.replace("\\", "/")).parts
                if not parts or member.name.startswith("/") or ".." in parts:
                    raise HelmRenderError(f"{archive}: unsafe path in archive: {member.name!r}")
                if not member.isfile():
                    continue  # directories are implied; links and devices are never followed
                total += member.size
                if total > _MAX_ARCHIVE_BYTES:
                    raise HelmRenderError(f"{archive}: unpacks to more than 64 MiB")
                target = destination.joinpath(*parts)
                if not target.resolve().is_relative_to(destination.resolve()):
                    raise HelmRenderError(f"{archive}: unsafe path in archive: {member.name!r}")
                handle = tar.extractfile(member)
                if handle is None:
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                with handle, target.open("wb") as out:
                    shutil.copyfileobj(handle, out)
    except (tarfile.TarError, OSError, EOFError) as error:
        raise HelmRenderError(f"{archive}: not a readable chart archive: {error}") from error
    if is_chart_dir(destination):
        return destination
    roots = [d for d in _children(destination) if is_chart_dir(d)]
    if len(roots) != 1:
        raise HelmRenderError(f"{archive}: expected one chart directory in the archive")
    return roots[0]


def _children(directory: Path) -> Iterable[Path]:
    return sorted(p for p in directory.iterdir() if p.is_dir())

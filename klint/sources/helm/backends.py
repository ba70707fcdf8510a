"""The two ways to run Helm offline: the ``helm`` binary or the helm-python-sdk library."""

from __future__ import annotations

import json
import subprocess
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from klint.sandbox import child_env, preexec
from klint.sources.budget import crashed, ran_out_of_memory
from klint.sources.helm.chart_files import (
    read_text,
    resolve_source,
    template_files,
)
from klint.sources.helm.output import (
    HelmRenderError,
    restore_file_order,
    split_helm_output,
    strip_source_header,
)

HELM_TIMEOUT_SECONDS = 300
INSTALL_HINT = (
    "pip install helm-python-sdk (installed with klint where its wheels exist: Linux and macOS "
    "x86-64/arm64, Windows x86-64)"
)


@dataclass(frozen=True)
class RenderOptions:
    """What ``helm template`` takes besides the chart."""

    values_files: tuple[Path, ...]
    set_values: tuple[str, ...]
    set_string_values: tuple[str, ...]
    release_name: str
    namespace: str
    kube_version: str | None
    # extra .Capabilities.APIVersions entries (``helm template --api-versions``)
    api_versions: tuple[str, ...] = ()


def render_with_sdk(chart_dir: Path, options: RenderOptions) -> dict[str, str]:
    """Render in-process through helm-python-sdk; template path → raw rendered text."""
    try:
        import helm_python
        from helm_python import _native
    except ImportError:
        raise HelmRenderError(
            f"rendering a Helm chart needs the helm binary on PATH or the Helm SDK: {INSTALL_HINT}",
            repeatable=False,
        ) from None
    values: dict[str, Any] = {}
    layers: list[tuple[str, Callable[[str], dict[str, Any]], str]] = []
    for values_file in options.values_files:
        try:
            text = values_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise HelmRenderError(
                f"{values_file}: cannot read values: {error}",
                repeatable=isinstance(error, UnicodeDecodeError),  # not an I/O error
            ) from error
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
            if options.kube_version is None and not options.api_versions:
                return chart.render(
                    values or None,
                    name=options.release_name,
                    namespace=options.namespace,
                    is_install=True,
                )
            # Chart.render() does not expose the library's kube_version and api_versions
            # options (0.2.2); like --api-versions, api_versions adds to Helm's defaults.
            render_options: dict[str, Any] = {
                "name": options.release_name,
                "namespace": options.namespace,
                "is_install": True,
            }
            if options.kube_version is not None:
                render_options["kube_version"] = options.kube_version
            if options.api_versions:
                render_options["api_versions"] = list(options.api_versions)
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


def _helm_template_command(helm: str, chart_dir: Path, options: RenderOptions) -> list[str]:
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
    for api_version in options.api_versions:
        command += ["--api-versions", api_version]
    # "--": a release name or chart path that starts with "-" is not a flag.
    command += ["--", options.release_name, str(chart_dir)]
    return command


def render_with_binary(helm: str, chart_dir: Path, options: RenderOptions) -> dict[str, str]:
    """Run ``helm template``; template path → text of its documents in file order."""
    command = _helm_template_command(helm, chart_dir, options)
    try:
        with tempfile.TemporaryDirectory(prefix="klint-helm-home-") as home:
            completed = subprocess.run(
                command,
                capture_output=True,
                text=True,
                timeout=HELM_TIMEOUT_SECONDS,
                check=False,
                env=child_env(Path(home)),
                stdin=subprocess.DEVNULL,
                preexec_fn=preexec(),
            )
    except subprocess.TimeoutExpired:
        raise HelmRenderError(
            f"{chart_dir}: helm template took longer than {HELM_TIMEOUT_SECONDS}s",
            repeatable=False,
        ) from None
    except OSError as error:
        raise HelmRenderError(f"cannot run {helm}: {error}", repeatable=False) from error
    if completed.returncode != 0:
        text = completed.stderr or completed.stdout
        repeatable = completed.returncode > 0 and not crashed(text)
        raise HelmRenderError.from_helm(text, repeatable=repeatable and not ran_out_of_memory(text))
    grouped: dict[str, list[str]] = {}
    for source, _, document in split_helm_output(completed.stdout):
        if source is not None:
            grouped.setdefault(source, []).append(strip_source_header(document))
    files = template_files(chart_dir)
    outputs: dict[str, str] = {}
    for source, documents in grouped.items():
        file = resolve_source(source, chart_dir, files)
        template = read_text(file) if file is not None else None
        ordered = restore_file_order(documents, template) if template else documents
        outputs[source] = "\n---\n".join(ordered)
    return outputs

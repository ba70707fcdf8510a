"""Charts that call random or time functions render the same on every run."""

from __future__ import annotations

import io
import shutil
import tarfile
import tracemalloc
from pathlib import Path

import pytest

from klint.sources.helm.output import HelmRenderError
from klint.sources.helm.render import render_chart
from klint.sources.helm.repeatable import REQUIRED_STAND_IN, repeatable_source
from tests.conftest import HELM_FIXTURES, needs_helm_sdk


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("name: x-{{ randAlphaNum 5 | lower }}", 'name: x-{{ repeat 5 "x" | lower }}'),
        ("pin: {{ randNumeric 4 | quote }}", 'pin: {{ repeat 4 "0" | quote }}'),
        ("{{- $p := 12 | randAlpha -}}", "{{- $p := 12 | toString -}}"),
        ("id: {{ uuidv4 }}", 'id: {{ (print "00000000-0000-4000-8000-000000000000") }}'),
        (
            'at: {{ now | date "2006" }}',
            'at: {{ (toDate "2006-01-02" "2000-01-01") | date "2006" }}',
        ),
        ('{{ $ca := genCA "ca" (int .Values.days) }}', '{{ $ca := (dict "Cert" "" "Key" "") }}'),
        ('{{ (genCA "ca" 3).Cert | b64enc }}', '{{ ((dict "Cert" "" "Key" "")).Cert | b64enc }}'),
        ("port: {{ randInt 1000 2000 }}", "port: {{ min 1000 2000 }}"),
    ],
)
def test_random_and_time_functions_get_fixed_stand_ins(template: str, expected: str) -> None:
    assert repeatable_source(template) == expected


@pytest.mark.parametrize(
    "template",
    [
        "now: randAlphaNum 5 outside any action",
        '{{ .Values.now }} {{ $now }} {{ $x.uuidv4 }} {{ include "randAlphaNum" . }}',
        "{{/* randAlphaNum 5 in a comment */}}",
        "{{ printf `now %s` .Values.x }}",
    ],
)
def test_fields_variables_strings_comments_and_plain_text_are_left_alone(template: str) -> None:
    assert repeatable_source(template) == template


def test_lines_stay_where_they_are() -> None:
    template = "a: {{ randAlphaNum\n  5 }}\nb: {{ now\n}}\n"
    assert repeatable_source(template).count("\n") == template.count("\n")


def _chart(root: Path) -> Path:
    """fixtures/helm/web with a random test-pod name, a uuid, a timestamp, and a packaged
    subchart that generates a CA."""
    chart = root / "web"
    shutil.copytree(HELM_FIXTURES / "web", chart)
    test_pod = chart / "templates/tests/test-connection.yaml"
    text = test_pod.read_text()
    text = text.replace("name: ", "name: {{ randAlphaNum 8 | lower }}-", 1)
    test_pod.write_text(text)
    (chart / "templates/stamp.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: stamp\n"
        "data:\n  id: {{ uuidv4 | quote }}\n"
        '  at: {{ now | date "2006-01-02T15:04:05.000000" | quote }}\n'
    )
    (chart / "charts").mkdir(exist_ok=True)
    members = {
        "ca/Chart.yaml": "apiVersion: v2\nname: ca\nversion: 0.1.0\n",
        "ca/templates/secret.yaml": (
            '{{- $ca := genCA "ca" 365 }}\napiVersion: v1\nkind: Secret\nmetadata:\n  name: ca\n'
            "data:\n  tls.crt: {{ $ca.Cert | b64enc | quote }}\n"
        ),
    }
    with tarfile.open(chart / "charts/ca-0.1.0.tgz", "w:gz") as tar:
        for name, body in members.items():
            data = body.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return chart


@needs_helm_sdk
def test_a_chart_with_random_names_renders_the_same_twice(tmp_path: Path) -> None:
    chart = _chart(tmp_path)
    before = {p: p.read_bytes() for p in chart.rglob("*") if p.is_file()}
    first = render_chart(chart, backend="sdk")
    second = render_chart(chart, backend="sdk")
    assert [(r.source, r.text) for r in first] == [(r.source, r.text) for r in second]
    texts = "".join(r.text for r in first)
    assert "name: xxxxxxxx-" in texts  # the test pod's name: a stand-in of the same length
    assert "00000000-0000-4000-8000-000000000000" in texts
    assert any(r.source == "web/charts/ca/templates/secret.yaml" for r in first)
    # the user's files are never edited: only klint's copy is rewritten
    assert {p: p.read_bytes() for p in chart.rglob("*") if p.is_file()} == before


def _tgz(files: dict[str, bytes | int]) -> bytes:
    """A packed chart; an int is a member of that many zero bytes (streamed, not held)."""

    class Zeros:
        def __init__(self, size: int) -> None:
            self.left = size

        def read(self, size: int = -1) -> bytes:
            count = self.left if size < 0 else min(size, self.left)
            self.left -= count
            return bytes(count)

    packed = io.BytesIO()
    with tarfile.open(fileobj=packed, mode="w:gz") as tar:
        for name, body in files.items():
            info = tarfile.TarInfo(name)
            if isinstance(body, int):
                info.size = body
                tar.addfile(info, Zeros(body))  # type: ignore[arg-type]
            else:
                info.size = len(body)
                tar.addfile(info, io.BytesIO(body))
    return packed.getvalue()


@needs_helm_sdk
def test_templates_of_nested_packed_subcharts_are_repeatable_too(tmp_path: Path) -> None:
    chart = tmp_path / "web"
    shutil.copytree(HELM_FIXTURES / "web", chart)
    inner = _tgz(
        {
            "inner/Chart.yaml": b"apiVersion: v2\nname: inner\nversion: 0.1.0\n",
            "inner/templates/cm.yaml": (
                b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n"
                b"  name: inner-{{ randAlphaNum 6 | lower }}\n"
            ),
        }
    )
    outer = _tgz(
        {
            "outer/Chart.yaml": b"apiVersion: v2\nname: outer\nversion: 0.1.0\n",
            "outer/charts/inner-0.1.0.tgz": inner,
        }
    )
    (chart / "charts").mkdir(exist_ok=True)
    (chart / "charts/outer-0.1.0.tgz").write_bytes(outer)
    rendered = render_chart(chart, backend="sdk")
    (configmap,) = [r for r in rendered if r.source.endswith("inner/templates/cm.yaml")]
    assert "name: inner-xxxxxx" in configmap.text


def test_a_packed_subchart_is_unpacked_within_the_bound_before_it_is_rewritten(
    tmp_path: Path,
) -> None:
    # 65 MiB of zeros pack into ~65 KiB: the copy's rewrite must not read it whole
    chart = tmp_path / "web"
    shutil.copytree(HELM_FIXTURES / "web", chart)
    (chart / "charts").mkdir(exist_ok=True)
    bomb = _tgz(
        {
            "bomb/Chart.yaml": b"apiVersion: v2\nname: bomb\nversion: 0.1.0\n",
            "bomb/templates/a.yaml": b"name: {{ randAlphaNum 5 }}\n",
            "bomb/files/zeros": 65 * 1024 * 1024,
        }
    )
    assert len(bomb) < 1024 * 1024
    (chart / "charts/bomb-0.1.0.tgz").write_bytes(bomb)
    tracemalloc.start()
    try:
        with pytest.raises(HelmRenderError, match="unpacks to more than 10000 entries or 64 MiB"):
            render_chart(chart, backend="sdk")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 * 1024 * 1024  # refused from the member's header, not after reading it


def test_required_values_stand_in_as_their_message_only_when_asked() -> None:
    text = (
        'a: {{ required "a is required" .Values.a }}\n'
        'b: {{ .Values.b | required "b is required" | quote }}\n'
        'c: "required {{ .Values.requiredLevel }}"\n'
        'd: {{ "required" }} {{/* required */}}\n'
    )
    assert repeatable_source(text) == text  # a normal render keeps required
    stood_in = repeatable_source(text, REQUIRED_STAND_IN)
    assert stood_in.splitlines() == [
        'a: {{ default "a is required" .Values.a }}',
        'b: {{ .Values.b | default "b is required" | quote }}',
        'c: "required {{ .Values.requiredLevel }}"',  # text outside actions, a field name
        'd: {{ "required" }} {{/* required */}}',  # a string and a comment
    ]

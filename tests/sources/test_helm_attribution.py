"""Findings on Helm output point at the template item and the values line that supplied them:
items dropped by ``if`` do not shift the rest, ``-f`` files only claim keys they set, image
findings name the tag, and values reached through range variables get their line."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from klint.sources.helm.template_map import locate_field
from klint.sources.helm.values_map import values_references
from tests.conftest import CORPUS, needs_helm_sdk, run_cli

TEMPLATE = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
        - name: web
          image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"
          env:
          {{- range $key, $value := .Values.env }}
            - name: {{ $key }}
              value: {{ $value | quote }}
          {{- end }}
      volumes:
        {{- if .Values.extra }}
        - name: extra
          hostPath:
            path: /extra
        {{- end }}
        - name: data
          hostPath:
            path: /data
"""


def chart(tmp_path: Path) -> Path:
    directory = tmp_path / "web"
    (directory / "templates").mkdir(parents=True)
    (directory / "Chart.yaml").write_text("apiVersion: v2\nname: web\nversion: 0.1.0\n")
    (directory / "templates" / "deployment.yaml").write_text(TEMPLATE)
    (directory / "values.yaml").write_text(
        "image:\n  repository: nginx\n  tag: latest\nenv:\n  MODE: fast\nextra: false\n"
    )
    (tmp_path / "values-prod.yaml").write_text("image:\n  pullPolicy: Always\n")
    return directory


def test_an_item_after_a_dropped_if_block_is_found_by_its_name() -> None:
    path = ("spec", "template", "spec", "volumes", 0, "hostPath")
    by_position = locate_field(TEMPLATE, path)
    by_name = locate_field(TEMPLATE, path, 0, [None, None, None, None, "data", None])
    assert by_position is not None and by_position.line == 20  # the dropped "extra" item
    assert by_name is not None and by_name.line == 24


def test_range_variables_and_image_parts_are_values_references() -> None:
    assert values_references(TEMPLATE, 11) == [("image", "repository"), ("image", "tag")]
    assert values_references(TEMPLATE, 15) == [("env",)]
    image = locate_field(TEMPLATE, ("spec", "template", "spec", "containers", 0, "image"))
    assert image is not None and image.values_path == "image.tag"


def related(data: dict[str, Any], rule: str) -> list[tuple[str, int]]:
    return [
        (r["path"], r["line"])
        for finding in data["findings"]
        if finding["rule_id"] == rule
        for r in finding["related"]
    ]


@needs_helm_sdk
def test_values_lines_name_the_file_that_set_the_value(tmp_path: Path) -> None:
    chart(tmp_path)
    result = run_cli(
        "check",
        "--format",
        "json",
        "-f",
        "values-prod.yaml",
        "--select",
        "KL301",
        "web",
        cwd=tmp_path,
    )
    data = json.loads(result.stdout)
    # values-prod.yaml has only image.pullPolicy: the tag came from the chart's values.yaml
    assert related(data, "KL301") == [("web/values.yaml", 3)]


@needs_helm_sdk
def test_the_hostpath_of_the_volume_after_a_dropped_item(tmp_path: Path) -> None:
    chart(tmp_path)
    result = run_cli("check", "--format", "json", "web", cwd=tmp_path)
    lines = {
        f["line"]
        for f in json.loads(result.stdout)["findings"]
        if f["field_path"] == "spec.template.spec.volumes[0].hostPath"
    }
    assert lines == {24}


@needs_helm_sdk
def test_committed_helm_template_output_maps_past_dropped_sections(tmp_path: Path) -> None:
    if not (CORPUS / "helm-charts" / "onlineboutique").is_dir():
        return
    shutil.copytree(CORPUS / "helm-charts" / "onlineboutique", tmp_path / "onlineboutique")
    rendered = CORPUS / "helm-rendered" / "onlineboutique" / "templates" / "cartservice.yaml"
    (tmp_path / "out").mkdir()
    shutil.copy(rendered, tmp_path / "out" / "cartservice.yaml")
    result = run_cli("check", "--format", "json", "out", cwd=tmp_path)
    template = (tmp_path / "onlineboutique/templates/cartservice.yaml").read_text().split("\n")
    redis = [
        f["line"]
        for f in json.loads(result.stdout)["findings"]
        if f["object"]["name"] == "redis-cart" and f["object"]["kind"] == "Deployment"
    ]
    deployment_line = next(
        number
        for number, text in enumerate(template, 1)
        if text.startswith("kind: Deployment") and number > 200
    )
    assert redis and all(line > deployment_line for line in redis), redis


def test_a_folder_that_vanishes_while_charts_are_listed_is_passed_over(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Run from a shared temporary folder, another run's scratch folder may disappear between
    being listed and being read: that folder is skipped, the run goes on."""
    from klint.sources.helm import rendered_output

    (tmp_path / "chart").mkdir()
    (tmp_path / "chart" / "Chart.yaml").write_text("apiVersion: v2\nname: c\nversion: 1.0.0\n")
    (tmp_path / "klint-chart-gone").mkdir()
    real_scandir = os.scandir

    def vanishing(path: Any) -> Any:
        if str(path).endswith("klint-chart-gone"):
            raise FileNotFoundError(2, "No such file or directory", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", vanishing)
    rendered_output._charts_under.cache_clear()
    assert rendered_output._charts_under(tmp_path) == [tmp_path / "chart"]

"""A chart that stops rendering in one template (``fail`` with the values used) is linted
without that template: the failure stays an input problem on its line, the rest is linted."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from klint.sources.helm.output import HelmRenderError
from klint.sources.helm.partial import MAX_LEFT_OUT, render_without_failing
from tests.conftest import needs_helm_sdk, run_cli

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
        - name: web
          image: nginx:1.25
          securityContext:
            privileged: true
"""
CHECK = '{{- if not .Values.mode }}\n{{- fail "mode must be set" }}\n{{- end }}\n'


def chart(tmp_path: Path, templates: dict[str, str]) -> Path:
    folder = tmp_path / "c"
    (folder / "templates").mkdir(parents=True)
    (folder / "Chart.yaml").write_text("apiVersion: v2\nname: c\nversion: 0.1.0\n")
    (folder / "values.yaml").write_text("mode: ''\n")
    for name, text in templates.items():
        (folder / "templates" / name).write_text(text)
    return folder


def check(tmp_path: Path, *args: str) -> tuple[dict[str, Any], int]:
    result = run_cli("check", "--format", "json", "--no-cache", *args, "c", cwd=tmp_path)
    assert str(tmp_path) not in result.stdout + result.stderr
    return json.loads(result.stdout), result.returncode


@needs_helm_sdk
def test_a_failing_template_is_left_out_and_the_rest_is_linted(tmp_path: Path) -> None:
    chart(tmp_path, {"check.yaml": CHECK, "deployment.yaml": DEPLOYMENT})
    data, code = check(tmp_path)
    assert code == 2  # linted in part: an input problem, not an internal error
    [problem] = data["notifications"]
    assert (problem["path"], problem["line"], problem["fatal"]) == (
        "c/templates/check.yaml",
        2,
        True,
    )
    assert "mode must be set" in problem["message"] and "left out" in problem["message"]
    privileged = [(f["path"], f["line"]) for f in data["findings"] if f["rule_id"] == "KL101"]
    assert privileged == [("c/templates/deployment.yaml", 14)]
    # the user's chart is untouched: only klint's copy loses the template
    assert (tmp_path / "c" / "templates" / "check.yaml").read_text() == CHECK
    _, kept_green = check(tmp_path, "--fail-on", "never")
    assert kept_green == 0


@needs_helm_sdk
def test_a_fail_in_an_included_helper_leaves_out_the_template_that_includes_it(
    tmp_path: Path,
) -> None:
    helper = '{{- define "c.need" -}}{{- if not .Values.mode }}{{ fail "no mode" }}{{ end -}}\n'
    service = "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  type: NodePort\n"
    chart(
        tmp_path,
        {
            "_helpers.tpl": helper + "{{- end -}}\n",
            "deployment.yaml": '{{- include "c.need" . }}\n' + DEPLOYMENT,
            "check.yaml": CHECK,
            "service.yaml": service + "  ports: [{port: 80}]\n",
        },
    )
    data, code = check(tmp_path)
    assert code == 2
    assert sorted((n["path"], n["line"]) for n in data["notifications"]) == [
        ("c/templates/check.yaml", 2),
        ("c/templates/deployment.yaml", 1),
    ]
    assert {f["rule_id"] for f in data["findings"]} == {"KL706"}  # the Service alone


@needs_helm_sdk
def test_values_that_render_leave_nothing_out(tmp_path: Path) -> None:
    chart(tmp_path, {"check.yaml": CHECK, "deployment.yaml": DEPLOYMENT})
    data, code = check(tmp_path, "--set", "mode=x")
    assert code == 1 and not data["notifications"]


@needs_helm_sdk
def test_a_message_that_names_another_file_removes_nothing(tmp_path: Path) -> None:
    """The location in Helm's message is text a template controls: a name that is not a
    template file of the chart is no location, and nothing is left out (or deleted)."""
    outside = tmp_path / "keep.yaml"
    outside.write_text("a: b\n")
    forged = '{{- fail "execution error at (c/templates/../../keep.yaml:1:1): x" }}\n'
    chart(tmp_path, {"_helpers.tpl": '{{- define "c.x" }}' + forged + "{{- end }}\n"})
    (tmp_path / "c" / "templates" / "deployment.yaml").write_text(
        '{{- include "c.x" . }}\n' + DEPLOYMENT
    )
    data, code = check(tmp_path)
    assert code == 2 and outside.read_text() == "a: b\n"
    assert [n["path"] for n in data["notifications"]] == ["c/templates/deployment.yaml"]
    assert not data["findings"]


def failure(template: str | None, **kwargs: Any) -> HelmRenderError:
    return HelmRenderError(f"failed in {template}", template, 1, **kwargs)


def test_the_loop_stops_on_a_partial_a_repeat_a_limit_and_the_cap() -> None:
    calls: list[tuple[str, ...]] = []

    def fails_in(names: Any) -> Any:
        def render(left_out: tuple[str, ...]) -> str:
            calls.append(left_out)
            raise failure(next(names))

        return render

    for first in (
        failure("c/templates/_helpers.tpl"),  # a partial: others include its templates
        failure("c/x"),  # no template file
        failure(None),
        failure("c/templates/a.yaml", repeatable=False),  # a limit, not the chart
        HelmRenderError(
            'error calling include: template: no template "lib.x"', "c/templates/a.yaml"
        ),
    ):
        assert render_without_failing(fails_in(iter(())), first) is None
    assert calls == []
    again = fails_in(iter(["c/templates/a.yaml"]))
    assert render_without_failing(again, failure("c/templates/a.yaml")) is None
    assert calls == [("c/templates/a.yaml",)]  # the same template again: it ends there
    calls.clear()
    new = fails_in(iter(f"c/templates/t{n}.yaml" for n in range(10)))
    assert render_without_failing(new, failure("c/templates/first.yaml")) is None
    assert len(calls) == MAX_LEFT_OUT and len(calls[-1]) == MAX_LEFT_OUT


@pytest.mark.parametrize("repeatable", [True, False])
def test_what_renders_comes_back_with_every_failure_in_order(repeatable: bool) -> None:
    names = iter(["c/templates/b.yaml"])

    def render(left_out: tuple[str, ...]) -> tuple[str, ...]:
        name = next(names, None)
        if name is not None:
            raise failure(name, repeatable=repeatable)
        return left_out

    found = render_without_failing(render, failure("c/templates/a.yaml"))
    if not repeatable:  # a time or memory limit: rendering again would not help
        assert found is None
        return
    assert found is not None
    result, failures = found
    assert result == ("c/templates/a.yaml", "c/templates/b.yaml")
    assert [f.template for f in failures] == list(result)
    assert len(result) <= MAX_LEFT_OUT

"""Charts that Helm alone would not render offline: dependencies that are not vendored
(disabled ones left out, enabled ones reported on their entry) and charts whose default values
need ``required`` values (the chart's ``ci/`` values files render them)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from klint.sources.helm.dependencies import dependency_enabled, merged_values
from tests.conftest import HELM_FIXTURES, needs_helm_sdk, run_cli

pytestmark = needs_helm_sdk


def check(*args: str) -> tuple[dict[str, Any], int]:
    result = run_cli("check", "--format", "json", *args)
    return json.loads(result.stdout), result.returncode


def test_condition_first_path_that_resolves_then_tags() -> None:
    values = {"a": {"enabled": False}, "g": {"on": True}, "tags": {"t": False, "u": True}}
    assert dependency_enabled({"condition": "a.enabled"}, values)[0] is False
    assert dependency_enabled({"condition": "missing.x,g.on"}, values)[0] is True
    assert dependency_enabled({"condition": "missing.x", "tags": ["t"]}, values)[0] is False
    assert dependency_enabled({"tags": ["t", "u"]}, values)[0] is True  # any true tag wins
    assert dependency_enabled({"condition": "g.on", "tags": ["t"]}, values)[0] is True
    assert dependency_enabled({}, values)[0] is True


def test_values_from_files_and_set_decide_the_condition(tmp_path: Path) -> None:
    chart = HELM_FIXTURES / "optional-deps"
    extra = tmp_path / "v.yaml"
    extra.write_text("redis-ha:\n  enabled: true\n")
    merged = merged_values(chart, [extra], ["global.cache.enabled=false,tags.monitoring=true"])
    assert merged["redis-ha"]["enabled"] is True
    assert merged["global"]["cache"]["enabled"] is False
    assert merged["tags"]["monitoring"] is True


def test_disabled_missing_dependencies_do_not_stop_the_chart() -> None:
    data, code = check("fixtures/helm/optional-deps")
    assert code == 2  # the enabled dependency could not be linted
    problems = [(n["path"], n["line"], n["code"]) for n in data["notifications"]]
    # only the enabled one (condition global.cache.enabled), on its entry in Chart.yaml
    assert problems == [("fixtures/helm/optional-deps/Chart.yaml", 15, "helm-dependency")]
    assert "dependency cache" in data["notifications"][0]["message"]
    privileged = [f for f in data["findings"] if f["rule_id"] == "KL101"]
    assert [(f["path"], f["line"]) for f in privileged] == [
        ("fixtures/helm/optional-deps/templates/deployment.yaml", 16)
    ]


def test_two_aliases_of_one_missing_chart_are_reported_each_on_its_entry(tmp_path: Path) -> None:
    chart = tmp_path / "ingress"
    shutil.copytree(HELM_FIXTURES / "optional-deps", chart)
    (chart / "Chart.yaml").write_text(
        "apiVersion: v2\nname: ingress\nversion: 0.1.0\ndependencies:\n"
        "  - name: kong\n    alias: controller\n    version: 1.x.x\n"
        "    repository: https://charts.example.invalid\n    condition: controller.enabled\n"
        "  - name: kong\n    alias: gateway\n    version: 1.x.x\n"
        "    repository: https://charts.example.invalid\n    condition: gateway.enabled\n"
    )
    (chart / "values.yaml").write_text("controller:\n  enabled: true\ngateway:\n  enabled: true\n")
    data, code = check(str(chart))
    assert code == 2
    problems = [(n["line"], n["message"]) for n in data["notifications"]]
    assert [line for line, _ in problems] == [5, 10]
    assert "dependency kong (alias controller) (condition controller.enabled" in problems[0][1]
    assert "dependency kong (alias gateway) (condition gateway.enabled" in problems[1][1]


def test_values_that_enable_a_missing_dependency_report_it(tmp_path: Path) -> None:
    values = tmp_path / "on.yaml"
    values.write_text("redis-ha:\n  enabled: true\nglobal:\n  cache:\n    enabled: false\n")
    data, _ = check("-f", str(values), "fixtures/helm/optional-deps")
    lines = sorted(n["line"] for n in data["notifications"] if n["code"] == "helm-dependency")
    assert lines == [6]  # redis-ha now, cache no longer


def test_the_users_chart_is_not_edited(tmp_path: Path) -> None:
    chart = tmp_path / "c"
    shutil.copytree(HELM_FIXTURES / "optional-deps", chart)
    before = (chart / "Chart.yaml").read_bytes()
    result = run_cli("check", str(chart))
    assert result.returncode == 2
    assert (chart / "Chart.yaml").read_bytes() == before


def test_ci_values_render_a_chart_whose_defaults_need_required_values() -> None:
    data, code = check("fixtures/helm/ci-values")
    assert code == 1  # linted: findings, no input problem
    [note] = data["notifications"]
    assert note["code"] == "helm-values" and not note["fatal"]
    # the first of ci/*.yaml in sorted order that renders (a-broken-values.yaml does not)
    assert note["path"] == "fixtures/helm/ci-values/ci/b-daemonset-values.yaml"
    host = [f for f in data["findings"] if f["rule_id"] == "KL102"]
    assert [(r["path"], r["line"]) for r in host[0]["related"]] == [
        ("fixtures/helm/ci-values/ci/b-daemonset-values.yaml", 2)
    ]


def test_user_values_win_over_ci_values(tmp_path: Path) -> None:
    values = tmp_path / "v.yaml"
    values.write_text("mode: deployment\n")
    data, _ = check("-f", str(values), "fixtures/helm/ci-values")
    assert not data["notifications"]
    assert {f["rule_id"] for f in data["findings"]}.isdisjoint({"KL102"})


def test_without_ci_values_required_values_get_placeholders(tmp_path: Path) -> None:
    chart = tmp_path / "c"
    shutil.copytree(HELM_FIXTURES / "ci-values", chart, ignore=shutil.ignore_patterns("ci"))
    result = run_cli("check", "--format", "json", "c", cwd=tmp_path)
    data = json.loads(result.stdout)
    assert result.returncode == 1  # linted, with a note that says how
    [note] = data["notifications"]
    assert (note["code"], note["path"], note["fatal"]) == ("helm-values", "c/Chart.yaml", False)
    assert "mode must be set" in note["message"] and "placeholder" in note["message"]
    # ``mode`` renders as the required message: not "daemonset", so a Deployment
    kinds = {f["object"]["kind"] for f in data["findings"] if f.get("object")}
    assert kinds == {"Deployment"}
    assert {f["path"] for f in data["findings"]} == {"c/templates/workload.yaml"}
    # the user's chart is untouched: the placeholders live in klint's copy only
    assert (chart / "templates" / "workload.yaml").read_text().startswith("{{- $mode := required")


def test_a_render_failure_says_values_would_render_it(tmp_path: Path) -> None:
    chart = tmp_path / "c"
    shutil.copytree(HELM_FIXTURES / "ci-values", chart, ignore=shutil.ignore_patterns("ci"))
    workload = chart / "templates" / "workload.yaml"
    text = workload.read_text().splitlines(keepends=True)
    text[0] = (
        '{{- $mode := .Values.mode }}{{ if not $mode }}{{ fail "mode must be set" }}{{ end }}\n'
    )
    workload.write_text("".join(text))  # ``fail``: no placeholder renders it
    result = run_cli("check", "--format", "json", "c", cwd=tmp_path)
    data = json.loads(result.stdout)
    assert result.returncode == 2
    [problem] = data["notifications"]
    assert problem["path"] == "c/templates/workload.yaml" and problem["line"] == 1
    assert ".klint.yaml" in problem["message"] and "-f" in problem["message"]
    assert str(tmp_path) not in result.stdout + result.stderr


def test_a_library_chart_says_it_has_nothing_to_render(tmp_path: Path) -> None:
    chart = tmp_path / "lib"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: lib\ntype: library\nversion: 1.0.0\n")
    (chart / "templates" / "_x.tpl").write_text('{{- define "lib.x" }}a: b{{ end }}\n')
    result = run_cli("check", "-v", "lib", cwd=tmp_path)
    assert result.returncode == 0
    assert "skipped lib/Chart.yaml:1: a library chart (type: library)" in result.stderr


def test_no_finding_is_about_a_placeholder_klint_made_up(tmp_path: Path) -> None:
    chart = tmp_path / "c"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: c\nversion: 0.1.0\n")
    (chart / "values.yaml").write_text("account: {}\n")
    (chart / "templates" / "binding.yaml").write_text(
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:\n"
        "  name: manager\n  namespace: ns\nroleRef:\n  apiGroup: rbac.authorization.k8s.io\n"
        "  kind: Role\n  name: manager\nsubjects:\n  - kind: ServiceAccount\n"
        '    name: {{ required "account.name must be set" .Values.account.name }}\n'
        "    namespace: ns\n"
        "  - kind: ServiceAccount\n    name: Not_A_Name\n    namespace: ns\n"
    )
    data, code = check(str(chart))
    assert code == 1
    assert [n["code"] for n in data["notifications"]] == ["helm-values"]
    invalid = [(f["rule_id"], f["line"]) for f in data["findings"] if f["rule_id"] == "KL934"]
    # the subject klint filled in is not reported; the invalid name written in the chart is
    assert invalid == [("KL934", 15)]
    assert "must be set" not in json.dumps(data["findings"])


_NAMESPACED = """\
{{- if eq .Release.Namespace "default" }}
{{- fail "Running in the 'default' namespace is not recommended" }}
{{- end }}
apiVersion: v1
kind: Pod
metadata:
  name: plugin
  namespace: {{ .Release.Namespace }}
spec:
  containers:
    - name: plugin
      image: {{ .Values.image }}
"""


def _namespaced_chart(root: Path, refusal: str) -> Path:
    chart = root / "Device_Plugin"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: device-plugin\nversion: 1.0.0\n")
    (chart / "values.yaml").write_text("image: example.com/plugin\n")
    (chart / "templates" / "cm.yaml").write_text(
        _NAMESPACED.replace("'default' namespace", refusal)
    )
    return chart


def test_a_chart_that_refuses_the_default_namespace_is_linted_in_its_own(tmp_path: Path) -> None:
    # nvidia-device-plugin fails on purpose in `default` (sample 9: its only chart, unlinted)
    _namespaced_chart(tmp_path, "'default' namespace")
    result = run_cli("check", "--format", "json", "--no-cache", "Device_Plugin", cwd=tmp_path)
    data = json.loads(result.stdout)
    assert result.returncode in (0, 1)
    [note] = data["notifications"]
    assert (note["code"], note["fatal"]) == ("helm-values", False)
    assert "helm install -n device-plugin" in note["message"]
    assert "not recommended" in note["message"]
    objects = {(f["object"]["kind"], f["object"]["namespace"]) for f in data["findings"]}
    assert objects == {("Pod", "device-plugin")}


def test_a_failure_about_something_else_is_not_retried_in_another_namespace(
    tmp_path: Path,
) -> None:
    _namespaced_chart(tmp_path, "unconfigured setup")
    result = run_cli("check", "--format", "json", "--no-cache", "Device_Plugin", cwd=tmp_path)
    data = json.loads(result.stdout)
    assert result.returncode == 2
    assert all("helm install -n" not in n["message"] for n in data["notifications"])
    assert data["findings"] == []


def test_a_namespace_the_user_chose_is_never_swapped(tmp_path: Path) -> None:
    _namespaced_chart(tmp_path, "'default' namespace")
    result = run_cli(
        "check",
        "--format",
        "json",
        "--no-cache",
        "--namespace",
        "default",
        "Device_Plugin",
        cwd=tmp_path,
    )
    assert result.returncode == 2


def test_a_template_the_values_switch_off_says_so_in_verbose(tmp_path: Path) -> None:
    chart = tmp_path / "c"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: c\nversion: 1.0.0\n")
    (chart / "values.yaml").write_text("hpa: {enabled: false}\n")
    (chart / "templates" / "cm.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: b}\n"
    )
    (chart / "templates" / "hpa.yaml").write_text(
        "# Licensed under the Apache License (apisix's templates start so)\n"
        "{{- if .Values.hpa.enabled }}\napiVersion: autoscaling/v2\n"
        "kind: HorizontalPodAutoscaler\nmetadata: {name: c}\n{{- end }}\n"
    )
    result = run_cli("check", "-v", "--no-cache", "c", cwd=tmp_path)
    skipped = [line for line in result.stderr.splitlines() if "skipped" in line]
    assert skipped == [
        "klint: skipped c/templates/hpa.yaml:1: renders no object with the values used"
    ]

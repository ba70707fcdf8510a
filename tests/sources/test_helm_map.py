"""Template lines and values.yaml lines for fields of rendered objects, on the fixture charts."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from klint.documents import parse_stream
from klint.sources.helm.output import RenderedTemplate
from klint.sources.helm.render import render_chart
from klint.sources.helm.template_map import locate_field, section_indexes, template_line
from klint.sources.helm.values_map import values_line, values_reference
from tests.conftest import CORPUS, HELM_FIXTURES, needs_helm_sdk

FIXTURES = HELM_FIXTURES
WEB = FIXTURES / "web"
needs_sdk = needs_helm_sdk
POD = ("spec", "template", "spec")
CONTAINERS = (*POD, "containers")


def template(path: str) -> str:
    return (WEB / path).read_text()


DEPLOYMENT = template("templates/deployment.yaml")
RBAC = template("templates/rbac.yaml")
VALUES = template("values.yaml")


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ((*POD, "hostNetwork"), (17, 7)),  # a literal
        ((*CONTAINERS, 0, "image"), (24, 11)),
        ((*CONTAINERS, 0, "securityContext"), (26, 11)),
        ((*CONTAINERS, 0, "ports", 0, "containerPort"), (30, 15)),
        ((*CONTAINERS, 0), (23, 11)),  # a list item: its first key
        ((*CONTAINERS, 1, "image"), (33, 11)),  # the second container comes from a range
        (("spec", "replicas"), (8, 3)),
        (("kind",), (2, 1)),
    ],
)
def test_template_line_of_literal_keys(
    path: tuple[str | int, ...], expected: tuple[int, int]
) -> None:
    assert template_line(DEPLOYMENT, path) == expected


def test_fields_rendered_by_a_block_map_to_the_block() -> None:
    # securityContext: {{- toYaml .Values.securityContext | nindent 12 }}
    privileged = locate_field(DEPLOYMENT, (*CONTAINERS, 0, "securityContext", "privileged"))
    assert privileged is not None
    assert (privileged.line, privileged.column) == (27, 13)
    assert privileged.injected and not privileged.exact
    assert privileged.values_path == "securityContext.privileged"
    # labels: {{- include "web.labels" . | nindent 4 }}: no values behind an include
    label = locate_field(DEPLOYMENT, ("metadata", "labels", "app.kubernetes.io/name"))
    assert label is not None
    assert (label.line, label.injected, label.values_path) == (6, True, None)
    # {{- with .Values.podSecurityContext }} securityContext: {{- toYaml . | nindent 8 }}
    pod = locate_field(DEPLOYMENT, (*POD, "securityContext", "runAsNonRoot"))
    assert pod is not None
    assert (pod.line, pod.values_path) == (20, "podSecurityContext.runAsNonRoot")


def test_missing_fields_fall_back_to_the_deepest_ancestor() -> None:
    found = locate_field(DEPLOYMENT, (*CONTAINERS, 0, "resources", "limits"))
    assert found is not None
    assert (found.line, found.depth, found.exact, found.injected) == (23, 5, False, False)
    assert template_line(DEPLOYMENT, (*POD, "volumes")) == (16, 5)
    assert template_line(DEPLOYMENT, ("nothing", "here")) is None
    assert template_line("", ("kind",)) is None


def test_values_paths_of_exact_matches() -> None:
    def values_of(path: tuple[str | int, ...]) -> str | None:
        found = locate_field(DEPLOYMENT, path)
        return found.values_path if found else None

    assert values_of(("spec", "replicas")) == "replicaCount"
    assert values_of((*CONTAINERS, 0, "image")) == "image.tag"  # repository:tag: the tag
    assert values_of((*CONTAINERS, 0, "imagePullPolicy")) == "image.pullPolicy"
    assert values_of((*CONTAINERS, 0, "securityContext")) == "securityContext"
    assert values_of((*CONTAINERS, 1, "image")) == "sidecars"  # a range element: the list
    assert values_of((*POD, "hostNetwork")) is None


@pytest.mark.parametrize(
    ("index", "path", "expected"),
    [
        (0, ("automountServiceAccountToken",), (7, 1)),
        (1, ("kind",), (13, 1)),
        (1, ("rules", 0, "verbs"), (19, 5)),
        (2, ("kind",), (22, 1)),
        (2, ("subjects", 0, "namespace"), (32, 5)),
        (0, ("rules", 0, "verbs"), (19, 5)),  # section 0 has no rules: the one that does
        (7, ("roleRef", "kind"), (27, 3)),  # past the last section: the best match
    ],
)
def test_template_line_in_multi_document_templates(
    index: int, path: tuple[str | int, ...], expected: tuple[int, int]
) -> None:
    assert template_line(RBAC, path, index) == expected


def test_hooks_subcharts_and_aliases() -> None:
    hook = template("templates/hooks/pre-install-job.yaml")
    assert template_line(hook, (*POD, "hostPID")) == (12, 7)
    db = template("charts/db/templates/statefulset.yaml")
    escalation = locate_field(db, (*CONTAINERS, 0, "securityContext", "allowPrivilegeEscalation"))
    assert escalation is not None
    assert (escalation.line, escalation.values_path) == (19, "allowPrivilegeEscalation")
    assert values_line(template("charts/db/values.yaml"), "allowPrivilegeEscalation") == (2, 1)
    cache = template("charts/cache-chart/templates/daemonset.yaml")
    host_path = locate_field(cache, (*POD, "volumes", 0, "hostPath", "path"))
    assert host_path is not None
    assert (host_path.line, host_path.column, host_path.values_path) == (23, 13, "hostPath")


def test_values_line() -> None:
    assert values_line(VALUES, "securityContext.privileged") == (9, 3)
    assert values_line(VALUES, "image.tag") == (5, 3)
    assert values_line(VALUES, "image") == (3, 1)
    assert values_line(VALUES, "sidecars.0.image") == (16, 5)
    assert values_line(VALUES, "sidecars.0") == (15, 5)
    assert values_line(VALUES, "podSecurityContext.runAsNonRoot") == (12, 1)  # its parent
    assert values_line(VALUES, "nope.nothing") is None
    assert values_line(VALUES, "") is None
    assert values_line("", "a") is None
    assert values_line("# a comment\n---\na:\n  b: 1\n", "a.b") == (4, 3)


VALUES_TEMPLATE = """\
a: {{ .Values.a.b | quote }}
b: {{ default "x" .Values.c.d }}
c: {{ $.Values.e.f }}
d: {{ index .Values.g "h-i" }}
{{- with .Values.j }}
e: {{ .k.l }}
{{- with .m }}
f: {{ . }}
{{- end }}
{{- else }}
g: {{ .Release.Name }}
{{- end }}
{{- range $i, $x := .Values.list }}
h: {{ $x.name }} {{ .name }}
{{- end }}
i: {{ include "x" . }}
{{- define "foo" }}
j: {{ .bar }}
{{- end }}
k: {{ ternary .Values.one .Values.two true }}
l: {{ toYaml .Values.sc | nindent 4 }}
m: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"
n: {{ printf "{{ .Values.not.this }}" }}
"""


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (1, "a.b"),
        (2, "c.d"),
        (3, "e.f"),
        (4, "g.h-i"),
        (6, "j.k.l"),
        (8, "j.m"),
        (11, None),  # the else branch of with: "." is the root again
        (14, "list"),
        (16, None),
        (18, None),  # inside define: "." is unknown
        (20, None),  # two unrelated values
        (21, "sc"),
        (22, "image"),  # common prefix
        (23, None),  # inside a string
    ],
)
def test_values_reference(line: int, expected: str | None) -> None:
    assert values_reference(VALUES_TEMPLATE, line) == expected


def make_chart(root: Path, templates: dict[str, str], values: str = "{}\n") -> Path:
    chart = root / "demo"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: demo\nversion: 0.1.0\n")
    (chart / "values.yaml").write_text(values)
    for name, text in templates.items():
        (chart / "templates" / name).write_text(text)
    return chart


CONDITIONAL = """\
{{- if .Values.account }}
apiVersion: v1
kind: ServiceAccount
metadata:
  name: account
---
{{- end }}
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
{{- if .Values.policy }}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: policy
{{- end }}
---
apiVersion: v1
kind: Service
metadata:
  name: web
{{- range .Values.extra }}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ . }}
{{- end }}
"""


def render_one(chart: Path, **options: Any) -> RenderedTemplate:
    [rendered] = render_chart(chart, backend="sdk", **options)
    return rendered


@pytest.mark.parametrize(
    ("sets", "names"),
    [
        ([], ["settings", "web"]),
        (["account=true"], ["account", "settings", "web"]),
        (["policy=true,extra={one,two}"], ["settings", "policy", "web", "one", "two"]),
    ],
)
@needs_sdk
def test_documents_align_with_template_sections(
    tmp_path: Path, sets: list[str], names: list[str]
) -> None:
    rendered = render_one(make_chart(tmp_path, {"all.yaml": CONDITIONAL}), set_values=sets)
    documents = [
        d
        for d in parse_stream(rendered.text, rendered.source).documents
        if isinstance(d.data, dict)
    ]
    assert [d.data["metadata"]["name"] for d in documents] == names
    indexes = section_indexes(CONDITIONAL, rendered.text)
    lines = CONDITIONAL.split("\n")
    for document in documents:
        section = indexes[document.index]
        assert section is not None
        found = template_line(CONDITIONAL, ("metadata", "name"), section)
        assert found is not None
        line = lines[found[0] - 1]
        name = document.data["metadata"]["name"]
        assert line.strip() in (f"name: {name}", "name: {{ . }}"), (name, line)


@needs_sdk
def test_engine_flow_on_the_web_chart() -> None:
    """What the engine does for a finding: rendered object → template line → values line."""
    rendered = {r.source: r for r in render_chart(WEB, backend="sdk")}
    deployment = rendered["web/templates/deployment.yaml"]
    assert deployment.file is not None
    source = deployment.file.read_text()
    [document] = [d for d in parse_stream(deployment.text, deployment.source).documents if d.data]
    section = section_indexes(source, deployment.text)[document.index]
    assert section == 0
    found = locate_field(source, (*CONTAINERS, 0, "securityContext", "privileged"), section)
    assert found is not None and found.values_path is not None
    assert found.line == 27
    values = deployment.file.parents[1] / "values.yaml"
    assert values_line(values.read_text(), found.values_path) == (9, 3)


def leaves(data: Any, path: tuple[str | int, ...] = ()) -> Iterator[tuple[str | int, ...]]:
    if isinstance(data, dict):
        for key, value in data.items():
            yield from leaves(value, (*path, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from leaves(value, (*path, index))
    elif path:
        yield path


@pytest.mark.slow
@pytest.mark.skipif(not (CORPUS / "helm-charts").is_dir(), reason="corpus not available")
@needs_sdk
def test_every_corpus_field_maps_to_a_plausible_line(capsys: pytest.CaptureFixture[str]) -> None:
    """Every leaf of every rendered corpus object maps somewhere; exact hits name the key."""
    counts = {"exact": 0, "block": 0, "ancestor": 0, "none": 0}
    started = time.perf_counter()
    for chart in sorted((CORPUS / "helm-charts").iterdir()):
        for rendered in render_chart(chart):
            if rendered.file is None:
                continue
            source = rendered.file.read_text()
            lines = source.split("\n")
            documents = parse_stream(rendered.text, rendered.source).documents
            indexes = section_indexes(source, rendered.text)
            assert len(indexes) == len(documents), rendered.source
            for document in documents:
                section = indexes[document.index]
                assert section is not None or not isinstance(document.data, dict)
                for path in leaves(document.data):
                    found = locate_field(source, path, section or 0)
                    if found is None:
                        counts["none"] += 1
                    elif found.exact:
                        counts["exact"] += 1
                        if isinstance(path[-1], str):
                            assert path[-1] in lines[found.line - 1], (rendered.source, path)
                    else:
                        counts["block" if found.injected else "ancestor"] += 1
    with capsys.disabled():
        print(f"\nfield mapping on the corpus: {counts}, {time.perf_counter() - started:.1f} s")
    assert counts["exact"] > 3000


_ARMS = """\
apiVersion: v1
kind: Pod
spec:
  containers:
    - name: builder
      {{- with .Values.securityContext }}
      securityContext:
        {{- . | toYaml | nindent 8 }}
      {{- else }}
      {{- if .Values.rootless }}
      securityContext:
        seccompProfile:
          type: Unconfined
        runAsUser: 1000
        privileged: false
      {{- else }}
      securityContext:
        runAsUser: 0
        privileged: true
      {{- end }}
      {{- end }}
"""


def _arm(path: tuple[str | int, ...], context: dict[str, Any] | None) -> int | None:
    rendered = {"spec": {"containers": [{"name": "builder", "securityContext": context}]}}
    found = locate_field(_ARMS, path, 0, (None, None, "builder"), rendered)
    return found.line if found is not None else None


@pytest.mark.parametrize(
    ("context", "path_end", "line"),
    [
        # the rootless arm rendered: its literal lines, not the toYaml of the with arm
        (
            {"seccompProfile": {"type": "Unconfined"}, "runAsUser": 1000, "privileged": False},
            ("seccompProfile", "type"),
            13,
        ),
        (
            {"seccompProfile": {"type": "Unconfined"}, "runAsUser": 1000, "privileged": False},
            (),
            11,
        ),
        # the privileged arm rendered
        ({"runAsUser": 0, "privileged": True}, ("privileged",), 19),
        # values rendered through the with arm, even when they look like the last arm
        ({"runAsUser": 5}, ("runAsUser",), 8),
        ({"privileged": True}, ("privileged",), 8),
    ],
)
def test_the_arm_that_rendered_a_key_is_its_place(
    context: dict[str, Any], path_end: tuple[str, ...], line: int
) -> None:
    path = ("spec", "containers", 0, "securityContext", *path_end)
    assert _arm(path, context) == line


def test_without_the_rendered_object_the_first_arm_stays() -> None:
    path = ("spec", "containers", 0, "securityContext")
    found = locate_field(_ARMS, path, 0, (None, None, "builder"))
    assert found is not None and found.line == 7


def test_a_key_an_if_inside_the_arm_drops_does_not_rule_the_arm_out() -> None:
    template = _ARMS.replace(
        "        seccompProfile:\n          type: Unconfined\n",
        "        {{- if .Values.seccomp }}\n        seccompProfile:\n          type: Unconfined\n"
        "        {{- end }}\n",
    )
    rendered = {
        "spec": {
            "containers": [
                {"name": "builder", "securityContext": {"runAsUser": 1000, "privileged": False}}
            ]
        }
    }
    path = ("spec", "containers", 0, "securityContext", "runAsUser")
    found = locate_field(template, path, 0, (None, None, "builder"), rendered)
    assert found is not None and found.line == 16  # the rootless arm's runAsUser: 1000


_RULES = """\
kind: Role
apiVersion: rbac.authorization.k8s.io/v1
rules:
- apiGroups:
  - example.com
  resources:
  - widgets
  verbs: ["get"]
{{- if .Values.watchAll }}
- apiGroups:
  - admissionregistration.k8s.io
  resources:
  - validatingwebhookconfigurations
  verbs: ["get"]
{{- end }}
- apiGroups:
  - ""
  resources:
  - pods
  - pods/exec
  verbs: ["get", "create"]
"""


def _rule_line(rendered_rules: list[dict[str, Any]], path: tuple[str | int, ...]) -> int | None:
    found = locate_field(_RULES, ("rules", *path), 0, (), {"rules": rendered_rules})
    return found.line if found is not None else None


_WIDGETS = {"apiGroups": ["example.com"], "resources": ["widgets"], "verbs": ["get"]}
_WEBHOOKS = {
    "apiGroups": ["admissionregistration.k8s.io"],
    "resources": ["validatingwebhookconfigurations"],
    "verbs": ["get"],
}
_PODS = {"apiGroups": [""], "resources": ["pods", "pods/exec"], "verbs": ["get", "create"]}


def test_a_list_item_an_if_dropped_is_not_counted() -> None:
    # percona's operator Role: with default values the webhook rule does not render, so
    # rules[1] is the core rule (line 16 on), not the item inside the if (line 10 on)
    assert _rule_line([_WIDGETS, _PODS], (1, "resources", 1)) == 20
    assert _rule_line([_WIDGETS, _PODS], (1,)) == 16
    assert _rule_line([_WIDGETS, _PODS], (0, "resources", 0)) == 7


def test_a_list_item_its_if_kept_is_counted() -> None:
    rules = [_WIDGETS, _WEBHOOKS, _PODS]
    assert _rule_line(rules, (1, "resources", 0)) == 13
    assert _rule_line(rules, (2, "resources", 1)) == 20


def test_without_the_rendered_list_items_are_counted_as_written() -> None:
    found = locate_field(_RULES, ("rules", 1), 0)
    assert found is not None and found.line == 10

"""Findings in a chart land on the block that rendered them (fixtures/helm/lookalike, modelled on
an optional sidecar listed before the main container, both with templated names)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import needs_helm_sdk, run_cli

pytestmark = needs_helm_sdk


def test_look_alike_blocks_are_told_apart_by_the_rendered_container() -> None:
    result = run_cli("check", "--format", "json", "fixtures/helm/lookalike")
    data = json.loads(result.stdout)
    [privileged] = [f for f in data["findings"] if f["rule_id"] == "KL101"]
    # container "alertmanager" is the second block of the template (the sidecar before it
    # is disabled): its securityContext line, and securityContext in values.yaml
    assert (privileged["path"], privileged["line"]) == (
        "fixtures/helm/lookalike/templates/statefulset.yaml",
        23,
    )
    assert [(r["path"], r["line"]) for r in privileged["related"]] == [
        ("fixtures/helm/lookalike/values.yaml", 2)
    ]


def test_findings_in_a_vendored_archive_point_into_it_and_at_the_parents_values() -> None:
    # charts/exporter-1.2.3.tgz as `helm dependency build` leaves it; exporter.securityContext
    # in the parent's values.yaml sets the privileged flag
    result = run_cli("check", "--format", "json", "fixtures/helm/vendored-tgz")
    data = json.loads(result.stdout)
    [privileged] = [f for f in data["findings"] if f["rule_id"] == "KL101"]
    assert privileged["path"] == (
        "fixtures/helm/vendored-tgz/charts/exporter-1.2.3.tgz!/exporter/templates/deployment.yaml"
    )
    assert privileged["line"] == 16  # {{- toYaml .Values.securityContext | nindent 12 }}
    assert [(r["path"], r["line"]) for r in privileged["related"]] == [
        ("fixtures/helm/vendored-tgz/values.yaml", 3)
    ]


def test_a_pod_spec_helper_is_followed_into_helpers_tpl_with_its_values_line() -> None:
    result = run_cli("check", "--format", "json", "fixtures/helm/pod-helper")
    data = json.loads(result.stdout)
    [privileged] = [f for f in data["findings"] if f["rule_id"] == "KL101"]
    # daemonset.yaml only says {{- include "agent.podSpec" . | nindent 6 }}
    assert (privileged["path"], privileged["line"], privileged["column"]) == (
        "fixtures/helm/pod-helper/templates/_helpers.tpl",
        15,
        7,
    )
    assert [(r["path"], r["line"]) for r in privileged["related"]] == [
        ("fixtures/helm/pod-helper/values.yaml", 5)
    ]
    [limits] = [f for f in data["findings"] if f["rule_id"] == "KL401"]
    assert (limits["path"], limits["line"]) == (
        "fixtures/helm/pod-helper/templates/_helpers.tpl",
        11,
    )


def test_a_subchart_folder_gets_its_own_values_line_and_the_parents_key() -> None:
    data = json.loads(run_cli("check", "--format", "json", "fixtures/helm/web").stdout)
    [escalation] = [
        f
        for f in data["findings"]
        if f["rule_id"] == "KL201" and f["path"].endswith("charts/db/templates/statefulset.yaml")
    ]
    # {{ .Values.allowPrivilegeEscalation }} in the db subchart: its own values.yaml
    assert [(r["path"], r["line"]) for r in escalation["related"]] == [
        ("fixtures/helm/web/charts/db/values.yaml", 2)
    ]


def test_the_parents_key_for_a_subchart_wins_over_the_subcharts_own_values(
    tmp_path: Path,
) -> None:
    values = tmp_path / "v.yaml"
    values.write_text("db:\n  allowPrivilegeEscalation: true\n")
    data = json.loads(
        run_cli("check", "--format", "json", "-f", str(values), "fixtures/helm/web").stdout
    )
    [escalation] = [
        f
        for f in data["findings"]
        if f["rule_id"] == "KL201" and f["path"].endswith("charts/db/templates/statefulset.yaml")
    ]
    assert [r["line"] for r in escalation["related"]] == [2]
    assert escalation["related"][0]["path"].endswith("v.yaml")


PASS_THROUGH_HELPER = """\
{{- define "c.securityContext" -}}
{{- $sc := omit .securityContext "enabled" -}}
{{- toYaml $sc -}}
{{- end -}}
"""
PASS_THROUGH_TEMPLATE = """\
{{- $app := .Values.web }}
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
          securityContext: {{ include "c.securityContext" ARGS | nindent 12 }}
""".replace("ARGS", '(dict "securityContext" $app.securityContext "helm" .)')


def test_a_helper_that_prints_what_it_is_handed_locates_at_the_call_and_its_values(
    tmp_path: Path,
) -> None:
    """VictoriaMetrics' library helper ``vm.securityContext`` is ``toYaml`` of its argument:
    its line fits every chart that calls it; the call and the values key passed are what a
    person edits."""
    chart = tmp_path / "c"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: c\nversion: 0.1.0\n")
    (chart / "values.yaml").write_text("web:\n  securityContext:\n    runAsNonRoot: true\n")
    (chart / "templates" / "_helpers.tpl").write_text(PASS_THROUGH_HELPER)
    (chart / "templates" / "deploy.yaml").write_text(PASS_THROUGH_TEMPLATE)
    result = run_cli("check", "--format", "json", "--no-cache", "c", cwd=tmp_path)
    data = json.loads(result.stdout)
    [writable] = [f for f in data["findings"] if f["rule_id"] == "KL150"]
    assert (writable["path"], writable["line"]) == ("c/templates/deploy.yaml", 14)
    assert [(r["path"], r["line"]) for r in writable["related"]] == [("c/values.yaml", 2)]


TWO_ARMS = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: scaler
spec:
  selector: {matchLabels: {app: s}}
  template:
    metadata: {labels: {app: s}}
    spec:
      containers:
        - name: scaler
          image: nginx:1.25
          {{- if .Values.securityContext.scaler }}
          securityContext:
          {{- toYaml .Values.securityContext.scaler | nindent 12 }}
          {{- else }}
          securityContext:
          {{- toYaml .Values.securityContext | nindent 12 }}
          {{- end }}
"""


def test_two_arms_that_print_different_values_are_told_apart_by_the_values(
    tmp_path: Path,
) -> None:
    """keda's http-add-on: the arms differ only in the values they print; the arm whose
    values are what rendered is the one (the first arm did not render)."""
    chart = tmp_path / "c"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: c\nversion: 0.1.0\n")
    (chart / "values.yaml").write_text(
        "securityContext:\n  runAsNonRoot: true\n  # scaler:\n  #   runAsNonRoot: true\n"
    )
    (chart / "templates" / "deployment.yaml").write_text(TWO_ARMS)
    data = json.loads(run_cli("check", "--format", "json", "--no-cache", "c", cwd=tmp_path).stdout)
    [seccomp] = [f for f in data["findings"] if f["rule_id"] == "KL205"]
    assert (seccomp["path"], seccomp["line"]) == ("c/templates/deployment.yaml", 18)
    assert [(r["path"], r["line"]) for r in seccomp["related"]] == [("c/values.yaml", 1)]
    # with the scaler's own values, the first arm renders and is the one
    (chart / "values.yaml").write_text(
        "securityContext:\n  runAsNonRoot: true\n  scaler:\n    runAsUser: 1000\n"
    )
    data = json.loads(run_cli("check", "--format", "json", "--no-cache", "c", cwd=tmp_path).stdout)
    [seccomp] = [f for f in data["findings"] if f["rule_id"] == "KL205"]
    assert (seccomp["path"], seccomp["line"]) == ("c/templates/deployment.yaml", 15)


RULES_WITH_IF_AND_RANGE = """\
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: operator
rules:
- apiGroups:
  - ""
  resources:
  - configmaps
  verbs:
  - get
{{- if .Values.tokens }}
- apiGroups:
  - ""
  resources:
  - serviceaccounts/token
  verbs:
  - create
{{- end }}
- apiGroups:
  - ""
  resources:
  - secrets
  verbs:
  - list
{{- range .Values.kinds }}
- apiGroups:
  - {{ .group | quote }}
  resources:
  - {{ .kind | quote }}
  verbs:
  - get
{{- end }}
"""


def test_rules_after_a_dropped_if_and_into_a_range_keep_their_lines(tmp_path: Path) -> None:
    """keda's operator ClusterRole: a rule an ``if`` dropped before, and rules a ``range``
    made after: each finding stays on the rule that rendered it."""
    chart = tmp_path / "c"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: c\nversion: 0.1.0\n")
    (chart / "values.yaml").write_text('tokens: false\nkinds:\n- {group: "*", kind: "*"}\n')
    (chart / "templates" / "role.yaml").write_text(RULES_WITH_IF_AND_RANGE)
    data = json.loads(run_cli("check", "--format", "json", "--no-cache", "c", cwd=tmp_path).stdout)
    lines = {(f["rule_id"], f["field_path"]): f["line"] for f in data["findings"]}
    assert lines[("KL502", "rules[1].resources[0]")] == 23  # secrets, not the token rule
    assert lines[("KL501", "rules[2].resources[0]")] == 30  # the range's rule


INIT_ARMS_HELPERS = """\
{{- define "p.validator" -}}
name: network-validator
image: example.com/validator:1.0
{{- end }}
{{- define "p.init" -}}
name: proxy-init
image: example.com/init:1.0
securityContext:
  capabilities:
    add: [NET_ADMIN]
{{- end }}
"""
INIT_ARMS = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: identity
spec:
  selector: {matchLabels: {app: i}}
  template:
    metadata: {labels: {app: i}}
    spec:
      containers:
      - name: identity
        image: example.com/identity:1.0
      initContainers:
      {{ if .Values.cniEnabled -}}
      - {{- include "p.validator" . | indent 8 | trimPrefix (repeat 7 " ") }}
      {{ else -}}
      - {{- include "p.init" . | indent 8 | trimPrefix (repeat 7 " ") }}
      {{ end -}}
"""


def test_an_item_that_is_an_include_in_an_else_arm_is_told_by_its_helper_name(
    tmp_path: Path,
) -> None:
    """linkerd's identity Deployment: ``- {{ include }}`` items in ``if``/``else`` arms; the
    one whose helper writes the rendered container's name is the one that rendered."""
    chart = tmp_path / "c"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: c\nversion: 0.1.0\n")
    (chart / "values.yaml").write_text("cniEnabled: false\n")
    (chart / "templates" / "_helpers.tpl").write_text(INIT_ARMS_HELPERS)
    (chart / "templates" / "identity.yaml").write_text(INIT_ARMS)
    data = json.loads(run_cli("check", "--format", "json", "--no-cache", "c", cwd=tmp_path).stdout)
    [added] = [f for f in data["findings"] if f["rule_id"] == "KL107"]
    assert (added["path"], added["line"]) == ("c/templates/identity.yaml", 17)


RANGED_INIT = """\
apiVersion: batch/v1
kind: Job
metadata:
  name: schema
spec:
  template:
    spec:
      restartPolicy: OnFailure
      initContainers:
        {{- range $store := .Values.stores }}
        - name: create-{{ $store }}-store
          image: example.com/tool:1.0
          securityContext:
            allowPrivilegeEscalation: false
        - name: manage-schema-{{ $store }}-store
          image: example.com/tool:1.0
        {{- end }}
      containers:
        - name: done
          image: example.com/done:1.0
"""


def test_items_a_range_makes_are_told_apart_by_their_name_patterns(tmp_path: Path) -> None:
    """temporal's schema Job: a range writes two init containers per store; each finding
    is on the item whose name pattern rendered its container."""
    chart = tmp_path / "c"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: c\nversion: 0.1.0\n")
    (chart / "values.yaml").write_text("stores: [default, visibility]\n")
    (chart / "templates" / "job.yaml").write_text(RANGED_INIT)
    data = json.loads(run_cli("check", "--format", "json", "--no-cache", "c", cwd=tmp_path).stdout)
    escalation = {
        f["field_path"].split(".")[3]: f["line"]
        for f in data["findings"]
        if f["rule_id"] == "KL201"
    }
    assert escalation == {"initContainers[1]": 15, "initContainers[3]": 15, "containers[0]": 19}

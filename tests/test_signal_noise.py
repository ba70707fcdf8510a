"""Default-profile noise on unseen repositories (issue 23 §3, sample 4): development and
sample folders by their names, a test's golden Helm output kept in its test context, a
loopback probe on a host-network pod, Helm hook Jobs' writable root filesystems, and Helm
output of the repository's own chart that leaves resources to the installer. Each is a note
that says why; a privileged container keeps its level."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path
from typing import Any

import pytest

from klint.findings import Severity
from klint.model.component import path_context
from klint.sources.helm.values_map import values_reference
from tests.conftest import lint_text, run_cli


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        # development environments and tools (metallb dev-env/, ECK config/dev/)
        ("dev-env/testsvc.yaml", "not-deployed"),
        ("tools/devenv/registry.yaml", "not-deployed"),
        ("local-dev/app.yaml", "not-deployed"),
        ("config/dev/registry.yaml", "not-deployed"),
        ("deploy/overlays/dev/app.yaml", None),  # an environment overlay is deployed
        ("env/dev/app.yaml", None),
        ("dev/app.yaml", None),
        ("development/app.yaml", None),
        # sample and example folders under other names (metallb configsamples/, ECK recipes/)
        ("configsamples/deployment_l2.yaml", "not-deployed"),
        ("config/recipes/psp/beats.yaml", "not-deployed"),
        ("deploy/config-examples/app.yaml", "not-deployed"),
        ("example-apps/web.yaml", "not-deployed"),
        ("docs/exampleSite/app.yaml", "not-deployed"),
        ("charts/kong/example-values/minimal.yaml", "not-deployed"),
        ("deploy/sampler/app.yaml", None),  # trace samplers are no samples
        ("deploy/sampling/app.yaml", None),
        ("pkg/downsample/app.yaml", None),
        ("deploy/examples.yaml", None),  # the file's own name is not a folder
        # archived inputs, kept for reference (kubernetes/examples _archived/)
        ("_archived/volumes/storageos/pod.yaml", "not-deployed"),
        ("deploy/archive/old.yaml", "not-deployed"),
        ("attic/app.yaml", "not-deployed"),
        ("deploy/archiver/app.yaml", None),
    ],
)
def test_development_and_sample_folders_by_name(path: str, kind: str | None) -> None:
    found = path_context(path)
    assert (found.kind if found else None) == kind


PRIVILEGED_DEV = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: registry}
spec:
  selector: {matchLabels: {app: registry}}
  template:
    metadata: {labels: {app: registry}}
    spec:
      containers:
        - name: registry
          image: registry:2.8.3
          securityContext: {privileged: true}
"""


def test_a_privileged_container_in_a_dev_folder_stays_an_error_others_are_notes() -> None:
    report = lint_text(PRIVILEGED_DEV, path="config/dev/registry.yaml", profiles=("default",))
    by_rule = {f.rule_id: f for f in report.active}
    assert by_rule["KL101"].severity is Severity.ERROR
    assert by_rule["KL202"].severity is Severity.NOTE
    assert "in dev/: a test, example or docs input, not deployed" in by_rule["KL202"].message


HOST_NETWORK_PROBES = """\
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: speaker}
spec:
  selector: {matchLabels: {app: speaker}}
  template:
    metadata: {labels: {app: speaker}}
    spec:
      hostNetwork: %s
      containers:
        - name: speaker
          image: quay.io/metallb/speaker:v0.15.2
          livenessProbe:
            httpGet: {path: /metrics, port: 7472, host: 127.0.0.1}
          readinessProbe:
            tcpSocket: {port: 7472, host: localhost}
          startupProbe:
            httpGet: {path: /, port: 80, host: 169.254.169.254}
"""


def _levels(report: Any, rule: str) -> dict[str, Severity]:
    return {
        f.message.split(" sets ")[1].split(".")[0]: f.severity
        for f in report.active
        if f.rule_id == rule
    }


def test_a_loopback_probe_host_on_a_host_network_pod_is_a_note_implied_by_host_network() -> None:
    report = lint_text(HOST_NETWORK_PROBES % "true", rules=("KL108", "KL102"))
    levels = _levels(report, "KL108")
    assert levels == {
        "livenessProbe": Severity.NOTE,
        "readinessProbe": Severity.NOTE,
        "startupProbe": Severity.WARNING,  # another host is still reached from the node
    }
    note = next(f for f in report.active if f.rule_id == "KL108" and "livenessProbe" in f.message)
    assert "the pod uses hostNetwork (KL102 host-namespaces reports it)" in note.message
    assert ("expected-for", "host-network") in note.properties
    assert any(f.rule_id == "KL102" for f in report.active)  # a note on a node agent


def test_a_loopback_probe_host_without_host_network_stays_a_warning() -> None:
    levels = _levels(lint_text(HOST_NETWORK_PROBES % "false", rules=("KL108",)), "KL108")
    assert set(levels.values()) == {Severity.WARNING}


HOOK_JOB = """\
apiVersion: batch/v1
kind: Job
metadata:
  name: admission-init
  annotations: {"helm.sh/hook": "pre-install,pre-upgrade"}
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: init
          image: volcanosh/vc-webhook-manager:v1.13.0
"""


def test_a_helm_hook_jobs_writable_root_filesystem_is_a_note() -> None:
    (hook,) = [f for f in lint_text(HOOK_JOB, rules=("KL150",)).active]
    assert hook.severity is Severity.NOTE
    assert "a short-lived Helm hook Job (pre-install,pre-upgrade)" in hook.message
    plain = HOOK_JOB.replace('  annotations: {"helm.sh/hook": "pre-install,pre-upgrade"}\n', "")
    (job,) = lint_text(plain, rules=("KL150",)).active
    assert job.severity is Severity.WARNING


CHART_YAML = "apiVersion: v2\nname: demo\nversion: 0.1.0\n"
VALUES = "image: registry.example/demo:1.0.0\nresources: {}\n"
TEMPLATE = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: demo
spec:
  selector:
    matchLabels: {app: demo}
  template:
    metadata:
      labels: {app: demo}
    spec:
      containers:
        - name: app
          image: {{ .Values.image }}
          resources:
            {{- toYaml .Values.resources | nindent 12 }}
"""
RENDERED = """\
---
# Source: demo/templates/deployment.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: demo
spec:
  selector:
    matchLabels: {app: demo}
  template:
    metadata:
      labels: {app: demo}
    spec:
      containers:
        - name: app
          image: registry.example/demo:latest
          resources: {}
"""


def _repo(
    tmp_path: Path, output: str, text: str = RENDERED, chart_folder: str = "charts/web"
) -> Path:
    chart = tmp_path / chart_folder
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text(CHART_YAML)
    (chart / "values.yaml").write_text(VALUES)
    (chart / "templates" / "deployment.yaml").write_text(TEMPLATE)
    (tmp_path / output).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / output).write_text(text)
    return tmp_path


def _findings(repo: Path, *paths: str) -> list[dict[str, Any]]:
    result = run_cli("check", *paths, "--format", "json", "--no-cache", cwd=repo)
    findings: list[dict[str, Any]] = json.loads(result.stdout)["findings"]
    return findings


def test_golden_helm_output_in_a_test_folder_stays_on_its_lines_as_a_note(
    tmp_path: Path,
) -> None:
    """envoy-gateway test/helm/gateway-helm/*.out.yaml: rendered from test values."""
    repo = _repo(tmp_path, "test/helm/demo/default.out.yaml")
    (latest,) = [
        f for f in _findings(repo, "test/helm/demo/default.out.yaml") if f["rule_id"] == "KL301"
    ]
    assert latest["path"] == "test/helm/demo/default.out.yaml"
    assert latest["line"] == 16
    assert latest["severity"] == "note"
    assert "in test/: a test, example or docs input" in latest["message"]


def test_deployed_helm_output_is_still_mapped_onto_the_template(tmp_path: Path) -> None:
    repo = _repo(tmp_path, "deploy/demo.yaml")
    (latest,) = [f for f in _findings(repo, "deploy/demo.yaml") if f["rule_id"] == "KL301"]
    assert latest["path"] == "charts/web/templates/deployment.yaml"
    assert latest["severity"] == "warning"


@pytest.mark.parametrize("chart_folder", ["installer/helm/chart/web", "deploy/helm/charts/web"])
def test_helm_output_of_a_chart_kept_deep_in_the_repository_gets_its_installer_context(
    tmp_path: Path, chart_folder: str
) -> None:
    """volcano installer/volcano-development.yaml, rendered from installer/helm/chart/volcano
    (four levels down, beyond the nearby folders looked at first)."""
    repo = _repo(tmp_path, "installer/demo-development.yaml", chart_folder=chart_folder)
    (limits,) = [f for f in _findings(repo, ".") if f["rule_id"] == "KL401"]
    assert limits["path"] == f"{chart_folder}/templates/deployment.yaml"
    assert limits["severity"] == "note"
    assert (
        "a chart that leaves resources to the installer (set from values.yaml)" in limits["message"]
    )


DEVICE_PLUGIN = """\
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: device-plugin}
spec:
  selector: {matchLabels: {app: dp}}
  template:
    metadata: {labels: {app: dp}}
    spec:
      containers:
        - name: plugin
          image: nvcr.io/nvidia/k8s-device-plugin:v0.17.0
          volumeMounts:
            - {name: dp, mountPath: /var/lib/kubelet/device-plugins}
            - {name: state, mountPath: /var/lib/kubelet/pod-resources}
      volumes:
        - {name: dp, hostPath: {path: /var/lib/kubelet/device-plugins}}
        - {name: state, hostPath: {path: /var/lib/kubelet}}
"""


def test_the_kubelets_device_plugin_folder_is_no_sensitive_mount_the_kubelet_folder_is() -> None:
    """gpu-operator assets/state-sandbox-device-plugin: a device plugin's socket folder."""
    report = lint_text(DEVICE_PLUGIN, rules=("KL154",))
    assert [f.message for f in report.active] == [
        'container "plugin" mounts host path /var/lib/kubelet writable at '
        "/var/lib/kubelet/pod-resources."
    ]


HELPER = """\
{{- define "demo.sidecar" -}}
{{- $root := index . 0 -}}
- name: reload
  image: {{ $root.Values.sidecar.image }}
  resources:
{{ toYaml $root.Values.sidecar.resources | indent 4 }}
  env:
    - name: X
      value: {{ index . 1 | quote }}
{{- end }}
"""


@pytest.mark.parametrize(
    ("line", "expected"),
    [(4, "sidecar.image"), (6, "sidecar.resources"), (9, None)],
)
def test_a_helper_reads_values_through_the_root_context_it_is_given(
    line: int, expected: str | None
) -> None:
    """jenkins _helpers.tpl: ``$root := index . 0`` then ``$root.Values.…``: only the top
    context has ``.Values``, so the key is known."""
    assert values_reference(HELPER, line) == expected


def test_a_sidecar_rendered_by_a_helper_gets_the_installer_resources_note(
    tmp_path: Path,
) -> None:
    chart = tmp_path
    (chart / "templates").mkdir()
    (chart / "Chart.yaml").write_text(CHART_YAML)
    (chart / "values.yaml").write_text(
        "image: registry.example/demo:1.0.0\nresources: {}\n"
        "sidecar:\n  image: registry.example/reload:1.0.0\n  resources: {}\n"
    )
    (chart / "templates" / "_helpers.tpl").write_text(HELPER)
    (chart / "templates" / "deployment.yaml").write_text(
        TEMPLATE + '{{ include "demo.sidecar" (list $ "x") | indent 8 }}\n'
    )
    found = {
        f["message"].split('"')[1]: f for f in _findings(chart, ".") if f["rule_id"] == "KL401"
    }
    reload = found["reload"]
    assert reload["path"] == "templates/_helpers.tpl"
    assert reload["severity"] == "note"
    assert [(r["path"], r["line"]) for r in reload["related"]] == [("values.yaml", 5)]
    assert found["app"]["severity"] == "note"


def _pack(archive: Path, files: dict[str, str]) -> None:
    with tarfile.open(archive, "w:gz") as tar:
        for name, text in sorted(files.items()):
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 0
            tar.addfile(info, io.BytesIO(data))


def test_a_packaged_subchart_that_leaves_resources_to_the_installer_gets_the_note(
    tmp_path: Path,
) -> None:
    """metallb charts/frr-k8s-0.0.25.tgz: ``frrk8s.resources: {}`` in the archive's own
    values.yaml; the finding cites that line inside the archive."""
    (tmp_path / "templates").mkdir()
    (tmp_path / "Chart.yaml").write_text(
        CHART_YAML + "dependencies:\n  - name: sub\n    version: 0.1.0\n"
    )
    (tmp_path / "values.yaml").write_text("sub:\n  image: registry.example/sub:1.0.0\n")
    (tmp_path / "charts").mkdir()
    _pack(
        tmp_path / "charts" / "sub-0.1.0.tgz",
        {
            "sub/Chart.yaml": "apiVersion: v2\nname: sub\nversion: 0.1.0\n",
            "sub/values.yaml": "image: registry.example/sub:0.9.0\nresources: {}\n",
            "sub/templates/deployment.yaml": TEMPLATE,
        },
    )
    (limits,) = [f for f in _findings(tmp_path, ".") if f["rule_id"] == "KL401"]
    assert limits["path"] == "charts/sub-0.1.0.tgz!/sub/templates/deployment.yaml"
    assert limits["severity"] == "note"
    assert [(r["path"], r["line"]) for r in limits["related"]] == [
        ("charts/sub-0.1.0.tgz!/sub/values.yaml", 2)
    ]


LOAD_TEST_TEMPLATE = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: load-{{.Replica}}
  labels: {iteration: "{{.Iteration}}"}
spec:
  selector: {matchLabels: {app: load}}
  template:
    metadata: {labels: {app: load}}
    spec:
      containers:
        - name: app
          image: nginx:1.27
"""


def test_a_template_action_inside_a_name_or_label_makes_a_template_source() -> None:
    # kube-burner templates (vcluster load-test/): the name is rendered per replica
    report = lint_text(LOAD_TEST_TEMPLATE, path="deploy/load.yaml", profiles=("default",))
    invalid = [f for f in report.active if f.rule_id in ("KL929", "KL806")]
    assert {f.rule_id for f in invalid} == {"KL929", "KL806"}
    assert all(f.severity is Severity.NOTE for f in invalid)
    assert all("a Go template source" in f.message for f in invalid)
    plain = lint_text(
        LOAD_TEST_TEMPLATE.replace("{{.Replica}}", "Bad_Name").replace("{{.Iteration}}", "-x"),
        path="deploy/load.yaml",
        profiles=("default",),
    )
    assert {f.severity for f in plain.active if f.rule_id in ("KL929", "KL806")} == {Severity.ERROR}

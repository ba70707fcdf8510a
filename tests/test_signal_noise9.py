"""Default-profile noise on unseen repositories (issue 23 §3, sample 9): a writable host path
in a privileged container is a note (the container can write to the host anyway: the
privileged setting, an error of its own, is what to fix); a chart its maintainers deprecated
gets notes. The runtime socket and the privileged container itself keep their level."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from klint.findings import Severity
from tests.conftest import lint_text, needs_helm_sdk, run_cli

_NODE_PLUGIN = """\
apiVersion: apps/v1
kind: DaemonSet
metadata: {{name: csi-node, namespace: kube-system}}
spec:
  selector: {{matchLabels: {{app: csi-node}}}}
  template:
    metadata: {{labels: {{app: csi-node}}}}
    spec:
      containers:
        - name: node
          image: example.com/csi:v1.2.3
          securityContext: {{privileged: {privileged}}}
          volumeMounts:
            - {{name: kubelet, mountPath: /var/lib/kubelet, mountPropagation: {propagation}}}
            - {{name: sock, mountPath: /run/containerd/containerd.sock}}
      volumes:
        - {{name: kubelet, hostPath: {{path: /var/lib/kubelet}}}}
        - {{name: sock, hostPath: {{path: /run/containerd/containerd.sock}}}}
"""


def _findings(privileged: str, propagation: str = "Bidirectional") -> dict[str, list[object]]:
    text = _NODE_PLUGIN.format(privileged=privileged, propagation=propagation)
    report = lint_text(text, rules=("KL154", "KL101"), path="deploy/csi-node.yaml")
    found: dict[str, list[object]] = {}
    for finding in report.findings:
        found.setdefault(finding.rule_id, []).append((finding.severity, finding.message))
    return found


def test_a_writable_host_path_in_a_privileged_container_is_a_note_that_says_why() -> None:
    found = _findings("true")
    kubelet = [f for f in found["KL154"] if "/var/lib/kubelet" in str(f)]
    assert len(kubelet) == 1
    severity, message = kubelet[0]  # type: ignore[misc]
    assert severity is Severity.NOTE
    assert "privileged: true (privileged-container) is the setting to fix" in str(message)
    assert [s for s, _ in found["KL101"]] == [Severity.ERROR]  # type: ignore[misc]


def test_the_runtime_socket_stays_an_error_in_a_privileged_container() -> None:
    socket = [f for f in _findings("true")["KL154"] if "runtime socket" in str(f)]
    assert [s for s, _ in socket] == [Severity.ERROR]  # type: ignore[misc]


@pytest.mark.parametrize("privileged", ["false", "null"])
def test_the_writable_host_path_stays_an_error_without_privileged(privileged: str) -> None:
    found = _findings(privileged, "None")
    kubelet = [f for f in found["KL154"] if "/var/lib/kubelet" in str(f)]
    assert [s for s, _ in kubelet] == [Severity.ERROR]  # type: ignore[misc]
    assert "KL101" not in found


_DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: dash}
spec:
  selector: {matchLabels: {app: dash}}
  template:
    metadata: {labels: {app: dash}}
    spec:
      containers:
        - name: dash
          image: example.com/dash:1.0.0
          securityContext:
            privileged: {{ .Values.privileged }}
"""


def _chart(root: Path, deprecated: bool) -> None:
    (root / "templates").mkdir(parents=True)
    chart = "apiVersion: v2\nname: dash\nversion: 1.0.0\n"
    (root / "Chart.yaml").write_text(chart + ("deprecated: true\n" if deprecated else ""))
    (root / "values.yaml").write_text("privileged: true\n")
    (root / "templates" / "deployment.yaml").write_text(_DEPLOYMENT)


@needs_helm_sdk
@pytest.mark.parametrize("deprecated", [True, False])
def test_a_deprecated_chart_s_findings_are_notes_except_never_downgraded_ones(
    tmp_path: Path, deprecated: bool
) -> None:
    _chart(tmp_path / "dash", deprecated)
    result = run_cli("check", "--format", "json", "--no-cache", "dash", cwd=tmp_path)
    findings = json.loads(result.stdout)["findings"]
    levels = {f["rule_id"]: f["severity"] for f in findings}
    assert levels["KL101"] == "error"  # a privileged container keeps its level
    assert levels["KL202"] == ("note" if deprecated else "warning")  # runAsNonRoot
    because = [f["message"] for f in findings if f["rule_id"] == "KL202"]
    assert ("a deprecated chart (Chart.yaml deprecated: true)" in because[0]) is deprecated


_INIT_POD = """\
apiVersion: v1
kind: Pod
metadata: {{name: node-setup}}
spec:
  initContainers:
    - name: install
      image: example.com/installer:1.0.0
      {restart}
  containers:
    - name: app
      image: example.com/app:1.0.0
      resources: {{limits: {{cpu: 100m, memory: 64Mi}}}}
"""


@pytest.mark.parametrize(
    ("restart", "severity"),
    [
        ("", Severity.NOTE),  # runs once, to completion, before the app starts
        ("restartPolicy: Always", Severity.WARNING),  # a sidecar lives as long as the pod
    ],
)
def test_an_init_container_without_limits_is_a_note_unless_it_is_a_sidecar(
    restart: str, severity: Severity
) -> None:
    report = lint_text(_INIT_POD.format(restart=restart), rules=("KL401",))
    [finding] = report.findings
    assert finding.severity is severity
    assert ("runs once, to completion" in finding.message) is (severity is Severity.NOTE)

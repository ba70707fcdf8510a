"""Pause containers and pods that listen on nothing (issue 23 §3, sample 7 items 17, 29 and
45: z2jh's user placeholders and image pullers): findings that change nothing on them are
notes that say why; the same findings on ordinary containers and on pods that listen keep
their level."""

from __future__ import annotations

import pytest

from klint.findings import Finding, Report, Severity
from klint.model.pause import is_pause_image
from tests.conftest import lint_text

_POLICY = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: hub, namespace: jh}
spec:
  podSelector: {matchLabels: {component: hub}}
  policyTypes: [Ingress]
  ingress: [{}]
---
apiVersion: v1
kind: Service
metadata: {name: hub, namespace: jh}
spec:
  selector: {component: hub}
  ports: [{port: 8081}]
"""

_PULLER = """
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: continuous-image-puller, namespace: jh}
spec:
  selector: {matchLabels: {component: image-puller}}
  template:
    metadata: {labels: {component: image-puller}}
    spec:
      initContainers:
        - name: image-pull-singleuser
          image: quay.io/jupyterhub/k8s-singleuser-sample:4.0.0
          command: [/bin/sh, -c, echo "Pulling complete"]
      containers:
        - name: pause
          image: registry.k8s.io/pause:3.10{PORTS}
"""


def _by(report: Report, rule: str, name: str = "") -> list[Finding]:
    return [
        f for f in report.active if f.rule_id == rule and (not name or f'"{name}"' in f.message)
    ]


def test_ingress_isolation_on_a_pod_that_listens_on_nothing_is_a_note_that_says_why() -> None:
    report = lint_text(_POLICY + _PULLER.replace("{PORTS}", ""), rules=["KL701"])
    (finding,) = _by(report, "KL701")
    assert finding.severity is Severity.NOTE
    assert "declares no port and no Service selects it" in finding.message
    assert ("expected-for", "no-listener") in finding.properties


@pytest.mark.parametrize(
    "extra",
    [
        "\n          ports: [{containerPort: 8080}]",  # it declares a port
        "\n          livenessProbe: {httpGet: {path: /healthz, port: 10259}}",  # probed on one
        "",  # a Service selects it (added below)
    ],
)
def test_a_pod_with_a_port_probed_or_selected_by_a_service_keeps_the_warning(extra: str) -> None:
    text = _POLICY + _PULLER.replace("{PORTS}", extra)
    if not extra:
        text += (
            "---\napiVersion: v1\nkind: Service\nmetadata: {name: puller, namespace: jh}\n"
            "spec: {selector: {component: image-puller}, ports: [{port: 80}]}\n"
        )
    (finding,) = _by(lint_text(text, rules=["KL701"]), "KL701")
    assert finding.severity is Severity.WARNING
    assert "kept as a note" not in finding.message


def test_without_any_service_in_the_input_the_warning_is_kept() -> None:
    """The Services that would select it may live in another file: no guess then."""
    policy_only = _POLICY.split("---")[0]
    (finding,) = _by(
        lint_text(policy_only + _PULLER.replace("{PORTS}", ""), rules=["KL701"]), "KL701"
    )
    assert finding.severity is Severity.WARNING


@pytest.mark.parametrize(
    ("image", "pause"),
    [
        ("registry.k8s.io/pause:3.10", True),
        ("k8s.gcr.io/pause", True),
        ("gcr.io/google_containers/pause-amd64:3.1", True),
        ("registry.k8s.io/pause@sha256:" + "a" * 64, True),
        ("REGISTRY.K8S.IO/PAUSE:3.9", True),
        ("docker.io/library/pause:1", False),
        ("registry.k8s.io/pause-tool:1", False),
        ("registry.k8s.io/kube-proxy:v1.30.0", False),
        ("evil.example/registry.k8s.io/pause:3.9", False),
        (None, False),
    ],
)
def test_the_pause_image_is_told_by_its_repository(image: str | None, pause: bool) -> None:
    assert is_pause_image(image) is pause


_PLACEHOLDER = """
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: user-placeholder, namespace: jh}
spec:
  selector: {matchLabels: {component: user-placeholder}}
  serviceName: user-placeholder
  template:
    metadata: {labels: {component: user-placeholder}}
    spec:
      containers:
        - name: pause
          image: registry.k8s.io/pause:3.10
          resources: {requests: {memory: 1G}}
        - name: worker
          image: example.com/worker:1.0.0
          resources: {requests: {memory: 1G}}
        - name: privileged-pause
          image: registry.k8s.io/pause:3.10
          resources: {requests: {memory: 1G}}
          securityContext: {privileged: true}
"""


@pytest.mark.parametrize("rule", ["KL401", "KL150"])
def test_limit_and_root_filesystem_findings_on_a_pause_container_are_notes(
    rule: str,
) -> None:
    report = lint_text(_PLACEHOLDER, rules=[rule])
    (pause,) = _by(report, rule, "pause")
    assert pause.severity is Severity.NOTE
    assert "a pause container (registry.k8s.io/pause:3.10)" in pause.message
    assert ("expected-for", "pause") in pause.properties
    (worker,) = _by(report, rule, "worker")
    assert worker.severity is not Severity.NOTE
    assert "pause" not in worker.message


def test_a_privileged_pause_container_keeps_its_level() -> None:
    report = lint_text(_PLACEHOLDER, rules=["KL101"])
    (finding,) = _by(report, "KL101", "privileged-pause")
    assert finding.severity is not Severity.NOTE

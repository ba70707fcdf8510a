"""Node scanners (issue 23 §3, sample 5 item 10): a Job or CronJob that inspects its node
like kube-bench (hostPID only, every hostPath a node configuration folder mounted
read-only) is a node agent: its expected-for:node-agent findings are notes that say so.
Anything more (a writable mount, another folder, another host namespace) keeps its level,
and a privileged container is never lowered."""

from __future__ import annotations

import pytest

from klint.findings import Severity
from tests.conftest import lint_text

# Upstream: deliveryhero/helm-charts stable/kube-bench (cron.yaml + values.yaml), and
# aquasecurity/kube-bench job.yaml.
_CRONJOB = """\
apiVersion: batch/v1
kind: CronJob
metadata: {name: kube-bench, namespace: kube-bench}
spec:
  schedule: "0 1 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          hostPID: true
          restartPolicy: Never
          automountServiceAccountToken: false
          containers:
            - name: kube-bench
              image: "docker.io/aquasec/kube-bench:v0.9.1"
              resources: {limits: {cpu: 100m, memory: 128Mi}}
              volumeMounts:
                - {name: var-lib-kubelet, mountPath: /var/lib/kubelet, readOnly: %(ro)s}
                - {name: etc-kubernetes, mountPath: /etc/kubernetes, readOnly: true}
          volumes:
            - {name: var-lib-kubelet, hostPath: {path: "%(path)s"}}
            - {name: etc-kubernetes, hostPath: {path: /etc/kubernetes}}
"""


def _levels(text: str) -> dict[str, set[Severity]]:
    levels: dict[str, set[Severity]] = {}
    for finding in lint_text(text, path="templates/cron.yaml").active:
        levels.setdefault(finding.rule_id, set()).add(finding.severity)
    return levels


def test_a_cis_scanner_job_reading_node_config_is_a_node_agent() -> None:
    report = lint_text(_CRONJOB % {"ro": "true", "path": "/var/lib/kubelet"}, path="cron.yaml")
    found = {f.rule_id: f for f in report.active}
    for rule in ("KL103", "KL105", "KL202"):  # hostPID, hostPath, may run as root
        assert found[rule].severity is Severity.NOTE
        assert "hostPID reading node configuration read-only" in found[rule].message
        assert "/etc/kubernetes, /var/lib/kubelet" in found[rule].message


@pytest.mark.parametrize(
    "values",
    [
        {"ro": "false", "path": "/var/lib/kubelet"},  # writable
        {"ro": "true", "path": "/var/run/docker.sock"},  # the runtime socket
        {"ro": "true", "path": "/"},  # the whole host
        {"ro": "true", "path": "/etc/kubernetes/../.."},  # climbs out
    ],
)
def test_anything_more_than_reading_node_config_keeps_its_level(values: dict[str, str]) -> None:
    levels = _levels(_CRONJOB % values)
    assert levels["KL103"] == {Severity.ERROR}
    assert Severity.WARNING in levels["KL202"]


def test_another_host_namespace_or_a_privileged_container_is_never_lowered() -> None:
    text = _CRONJOB % {"ro": "true", "path": "/var/lib/kubelet"}
    levels = _levels(text.replace("hostPID: true", "hostPID: true\n          hostNetwork: true"))
    assert Severity.ERROR in levels["KL103"]
    privileged = text.replace(
        "              resources:",
        "              securityContext: {privileged: true}\n              resources:",
    )
    levels = _levels(privileged)
    assert levels["KL101"] == {Severity.ERROR}

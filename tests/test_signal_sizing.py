"""KL401/KL402 sizing (issue 23 §3, sample 5 items 13 and 44): a missing cpu limit beside a
memory limit is a note (CPU is compressible; limits throttle), and a unit of two or more
workloads none of which sets any resources leaves sizing to the installer (notes that say
so); anything else keeps its level."""

from __future__ import annotations

from klint.findings import Finding, Severity
from tests.conftest import lint_text

_POD = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: %s}
spec:
  selector: {matchLabels: {app: %s}}
  template:
    metadata: {labels: {app: %s}}
    spec:
      containers:
        - name: app
          image: "nginx:1.27"
%s
"""


def _workload(name: str, resources: str = "") -> str:
    return _POD % (name, name, name, resources)


def _found(text: str, rule: str = "KL401") -> list[Finding]:
    return [f for f in lint_text(text, rules=[rule]).active if f.rule_id == rule]


def test_only_the_cpu_limit_missing_beside_a_memory_limit_is_a_note() -> None:
    # Upstream: deliveryhero/helm-charts stable/backstage: memory request = limit, no cpu.
    sized = "          resources: {requests: {memory: 1Gi}, limits: {memory: 1Gi}}"
    (finding,) = _found(_workload("frontend", sized))
    assert finding.severity is Severity.NOTE
    assert "no cpu limit" in finding.message and "CPU is compressible" in finding.message
    assert ("expected-for", "memory-limit-without-cpu-limit") in finding.properties


def test_a_missing_memory_limit_beside_a_cpu_limit_stays_a_warning() -> None:
    sized = "          resources: {limits: {cpu: 500m}}"
    (finding,) = _found(_workload("frontend", sized))
    assert finding.severity is Severity.WARNING
    assert "no memory limit" in finding.message


def test_a_unit_where_no_workload_sets_resources_gets_notes_that_say_so() -> None:
    # Upstream: kubeflow/katib manifests: no component sets requests or limits.
    text = _workload("katib-db") + "---\n" + _workload("katib-ui")
    for rule in ("KL401", "KL402"):
        found = _found(text, rule)
        assert len(found) == 2
        for finding in found:
            assert finding.severity is Severity.NOTE
            assert "no workload in this input sets resources" in finding.message
            assert ("expected-for", "unit-without-resources") in finding.properties


def test_a_unit_where_some_workload_sets_resources_keeps_warnings_for_the_others() -> None:
    sized = "          resources: {limits: {cpu: 500m, memory: 1Gi}}"
    text = _workload("katib-db") + "---\n" + _workload("katib-ui", sized)
    (finding,) = _found(text)
    assert finding.severity is Severity.WARNING
    assert finding.object_ref.name == "katib-db"


def test_a_single_unsized_workload_stays_a_warning() -> None:
    (finding,) = _found(_workload("katib-db"))
    assert finding.severity is Severity.WARNING
    assert "no cpu or memory limit" in finding.message

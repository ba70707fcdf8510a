"""Sample 11: findings that a privileged container or the node's network already make moot
are notes that name the finding that reports the cause; without the cause they keep their
level."""

from __future__ import annotations

import pytest

from klint.findings import Severity
from tests.conftest import lint_text

POD = """\
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  hostNetwork: %(host_network)s
  containers:
    - name: c
      image: example.com/c:1.0
      ports: [{containerPort: 8091, hostPort: 8091}]
      securityContext: {privileged: %(privileged)s}
"""


def levels(host_network: bool, privileged: bool) -> dict[str, Severity]:
    text = POD % {"host_network": str(host_network).lower(), "privileged": str(privileged).lower()}
    report = lint_text(text, rules=["KL101", "KL102", "KL106", "KL150", "KL205"])
    return {f.rule_id: f.severity for f in report.active}


def test_a_host_port_on_the_node_network_is_a_note_naming_host_network() -> None:
    assert levels(True, False)["KL106"] is Severity.NOTE
    assert levels(True, False)["KL102"] is Severity.ERROR
    assert levels(False, False)["KL106"] is Severity.WARNING


@pytest.mark.parametrize("rule", ["KL150", "KL205"])
def test_seccomp_and_a_writable_root_on_a_privileged_container_are_notes(rule: str) -> None:
    """A privileged container runs seccomp Unconfined whatever it sets, and can remount its
    root filesystem: KL101 reports the cause, once."""
    assert levels(False, True)[rule] is Severity.NOTE
    assert levels(False, True)["KL101"] is Severity.ERROR
    assert levels(False, False)[rule] is Severity.WARNING


def test_the_notes_say_what_to_fix_first() -> None:
    text = POD % {"host_network": "true", "privileged": "true"}
    report = lint_text(text, rules=["KL106", "KL150", "KL205"])
    messages = {f.rule_id: f.message for f in report.active}
    assert "hostNetwork: true" in messages["KL106"] and "KL102" in messages["KL106"]
    assert "Unconfined" in messages["KL205"] and "KL101" in messages["KL205"]
    assert "remount" in messages["KL150"] and "KL101" in messages["KL150"]

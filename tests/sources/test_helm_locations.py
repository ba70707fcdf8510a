"""Findings in a chart land on the block that rendered them (fixtures/helm/lookalike, modelled on
an optional sidecar listed before the main container, both with templated names)."""

from __future__ import annotations

import json

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

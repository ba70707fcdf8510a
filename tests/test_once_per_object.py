"""A file linted in two units (a base through a deployed overlay and through a test
overlay) is reported once per place, rule and object: the findings of one unit, the one
with the highest level, not a warning and a note at one line (issue 23, sample 6/7)."""

from __future__ import annotations

import json
from pathlib import Path

from klint.findings import (
    Finding,
    Location,
    ObjectRef,
    Severity,
    Span,
    Suppression,
    sorted_once_per_location,
)
from klint.run import RunOptions, run

APP = ObjectRef("apps/v1", "Deployment", "shop", "web")
OTHER_NAMESPACE = ObjectRef("apps/v1", "Deployment", "test", "web")


def _finding(
    severity: Severity,
    message: str,
    obj: ObjectRef = APP,
    rule: str = "KL401",
    line: int = 20,
    suppressed: bool = False,
) -> Finding:
    return Finding(
        rule_id=rule,
        rule_name=rule.lower(),
        severity=severity,
        message=message,
        location=Location("deploy/app.yaml", Span.line(line)),
        object_ref=obj,
        field_path=("spec", "template", "spec", "containers", 0, "resources", "limits"),
        suppression=Suppression("inSource", "ok", "comment") if suppressed else None,
    )


def test_one_place_rule_and_object_keeps_the_findings_of_the_highest_level_unit() -> None:
    note = _finding(Severity.NOTE, "no limit: sizing left to the installer (kept as a note).")
    warning = _finding(Severity.WARNING, "no limit.")
    assert sorted_once_per_location([[note], [warning]]) == [warning]
    assert sorted_once_per_location([[warning], [note]]) == [warning]


def test_distinct_findings_of_one_unit_and_distinct_objects_all_stay() -> None:
    bindings = [
        _finding(Severity.WARNING, 'bound by "a" to secrets.', rule="KL536"),
        _finding(Severity.NOTE, 'bound by "b" to pods (kept as a note).', rule="KL536"),
    ]
    other_unit = [_finding(Severity.NOTE, 'bound by "c" (kept as a note).', rule="KL536")]
    elsewhere = [_finding(Severity.NOTE, "no limit (kept as a note).", obj=OTHER_NAMESPACE)]
    kept = sorted_once_per_location([list(bindings), other_unit, elsewhere])
    assert sorted(f.message for f in kept) == sorted(
        [bindings[0].message, bindings[1].message, elsewhere[0].message]
    )


def test_an_unsuppressed_copy_wins_over_a_suppressed_one_of_a_higher_level() -> None:
    suppressed = _finding(Severity.WARNING, "no limit.", suppressed=True)
    note = _finding(Severity.NOTE, "no limit (kept as a note).")
    assert sorted_once_per_location([[suppressed], [note]]) == [note]


def test_equal_levels_keep_the_first_unit_whatever_the_messages() -> None:
    first = _finding(Severity.NOTE, "b: first unit (kept as a note).")
    second = _finding(Severity.NOTE, "a: second unit (kept as a note).")
    assert sorted_once_per_location([[first], [second]]) == [first]
    assert sorted_once_per_location([[second], [first]]) == [second]


APP_YAML = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
        - name: web
          image: example.com/web:1.0.0
"""
UNSIZED_POD = """\
apiVersion: v1
kind: Pod
metadata: {name: probe}
spec:
  containers:
    - name: probe
      image: example.com/probe:1.0.0
"""


def test_a_base_in_a_deployed_and_a_test_overlay_is_reported_once(tmp_path: Path) -> None:
    """The noise6 case (local-path-provisioner): the deployed overlay has one unsized
    workload (a KL401 warning); a test overlay adds an unsized Pod, so no workload of it
    is sized (a note). One line, one rule, one object: only the warning."""
    (tmp_path / "base").mkdir()
    (tmp_path / "base" / "app.yaml").write_text(APP_YAML)
    (tmp_path / "base" / "kustomization.yaml").write_text("resources: [app.yaml]\n")
    for name, extra in (("prod", ""), ("smoke", ", probe.yaml")):
        overlay = tmp_path / "overlays" / name
        overlay.mkdir(parents=True)
        (overlay / "kustomization.yaml").write_text(f"resources: [../../base{extra}]\n")
    (tmp_path / "overlays" / "smoke" / "probe.yaml").write_text(UNSIZED_POD)
    options = RunOptions(paths=(".",), output_format="json", jobs=1, no_cache=True)
    found = json.loads(run(options, cwd=tmp_path)[1])["findings"]
    at_app = [f for f in found if f["rule_id"] == "KL401" and f["path"] == "base/app.yaml"]
    assert [f["severity"] for f in at_app] == ["warning"]
    on_probe = [f for f in found if f["rule_id"] == "KL401" and "probe" in f["path"]]
    assert [f["severity"] for f in on_probe] == ["note"]  # the other object stays

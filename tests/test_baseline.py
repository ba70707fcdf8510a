"""Baselines: create, then report only new findings; entries survive unrelated edits."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import run_cli

ARGS = ("--profile", "pss-baseline")
BEFORE = """\
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop}
spec:
  hostNetwork: true
  containers:
    - name: app
      image: nginx:1.27
      securityContext: {privileged: true}
"""
# Unrelated lines added above (everything moves down), one new finding, nothing fixed.
AFTER = """\
# Web front end
apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: shop
  labels: {app: web}
spec:
  hostNetwork: true
  hostPID: true
  containers:
    - name: app
      image: nginx:1.27
      securityContext: {privileged: true}
"""


def repo(tmp_path: Path, text: str) -> Path:
    (tmp_path / ".git").mkdir(exist_ok=True)
    (tmp_path / "app.yaml").write_text(text, encoding="utf-8")
    return tmp_path


def test_create_records_findings_by_fingerprint(tmp_path: Path) -> None:
    repo(tmp_path, BEFORE)
    created = run_cli("baseline", "create", *ARGS, "-o", "base.json", "app.yaml", cwd=tmp_path)
    assert created.returncode == 0, created.stderr
    assert created.stderr == "klint: recorded 2 findings in base.json\n"
    data = json.loads((tmp_path / "base.json").read_text(encoding="utf-8"))
    assert data["version"] == 1
    assert [(e["rule"], e["object"], e["path"], e["field_path"]) for e in data["findings"]] == [
        ("KL101", "Pod/shop/web", "app.yaml", "spec.containers[0].securityContext.privileged"),
        ("KL102", "Pod/shop/web", "app.yaml", "spec.hostNetwork"),
    ]
    assert all(len(e["fingerprint"]) == 32 for e in data["findings"])


def test_round_trip_survives_line_moves_and_reports_only_new(tmp_path: Path) -> None:
    repo(tmp_path, BEFORE)
    run_cli("baseline", "create", *ARGS, "-o", ".klint-baseline.json", "app.yaml", cwd=tmp_path)
    unchanged = run_cli(
        "check", *ARGS, "--baseline", ".klint-baseline.json", "app.yaml", cwd=tmp_path
    )
    assert unchanged.returncode == 0
    assert unchanged.stdout == (
        "klint: 0 findings (0 errors, 0 warnings, 0 notes, 2 suppressed, 2 baselined, "
        "0 baseline entries fixed) in 1 object from 1 file\n"
    )
    repo(tmp_path, AFTER)
    changed = run_cli(
        "check", *ARGS, "--baseline", ".klint-baseline.json", "app.yaml", cwd=tmp_path
    )
    assert changed.returncode == 1
    lines = changed.stdout.splitlines()
    assert [line.split(": ")[0] + " " + line.rsplit("[", 1)[1] for line in lines[:-1]] == [
        "app.yaml:10:12 KL103 host-pid]",
    ]
    assert "2 baselined, 0 baseline entries fixed" in lines[-1]
    shown = run_cli(
        "check",
        *ARGS,
        "--baseline",
        ".klint-baseline.json",
        "--show-suppressed",
        "app.yaml",
        cwd=tmp_path,
    )
    assert [line.split(": ")[0] for line in shown.stdout.splitlines()[:-1]] == [
        "app.yaml:9:16",
        "app.yaml:10:12",
        "app.yaml:14:37",
    ]
    assert "(suppressed: in baseline .klint-baseline.json)" in shown.stdout


def test_fixed_entries_are_counted_and_sarif_states(tmp_path: Path) -> None:
    repo(tmp_path, BEFORE)
    run_cli("baseline", "create", *ARGS, "-o", "b.json", "app.yaml", cwd=tmp_path)
    repo(tmp_path, AFTER.replace("  hostNetwork: true\n", ""))
    text = run_cli("check", *ARGS, "--baseline", "b.json", "app.yaml", cwd=tmp_path)
    assert "1 baselined, 1 baseline entry fixed" in text.stdout.splitlines()[-1]
    sarif = json.loads(
        run_cli(
            "check", *ARGS, "--baseline", "b.json", "--format", "sarif", "app.yaml", cwd=tmp_path
        ).stdout
    )
    (run,) = sarif["runs"]
    assert [(r["ruleId"], r["baselineState"]) for r in run["results"]] == [
        ("KL103", "new"),
        ("KL101", "unchanged"),
    ]
    assert run["results"][1]["suppressions"] == [
        {"kind": "external", "justification": "in baseline b.json", "status": "accepted"}
    ]
    assert run["properties"]["klint/baseline"] == {"file": "b.json", "unchanged": 1, "fixed": 1}


def test_duplicate_findings_each_need_an_entry(tmp_path: Path) -> None:
    from klint.baseline import apply_baseline, entry_of
    from klint.findings import Finding, Location, ObjectRef, Report, Severity, Span

    def finding(line: int) -> Finding:
        return Finding(
            "KL101",
            "privileged-container",
            Severity.ERROR,
            "m.",
            Location("a.yaml", Span.line(line)),
            ObjectRef("v1", "Pod", "", "p"),
            ("spec",),
        )

    report = Report(findings=[finding(3), finding(9)])
    apply_baseline(report, [entry_of(finding(1))], "b.json")
    assert [f.suppression is not None for f in report.findings] == [True, False]


def test_invalid_baseline_is_exit_2(tmp_path: Path) -> None:
    repo(tmp_path, BEFORE)
    (tmp_path / "b.json").write_text("{}", encoding="utf-8")
    result = run_cli("check", "--baseline", "b.json", "app.yaml", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == (
        "klint: error: b.json: not a klint baseline (expected version 1 and findings)\n"
    )

"""Suppressions: inline comments, annotations, config exemptions; reasons; unused ones."""

from __future__ import annotations

from pathlib import Path

from klint.findings import Report
from klint.run import RunOptions, run
from tests.conftest import run_cli

RULES = {"KL101", "KL102", "KL103"}

WORKLOAD = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  annotations:
    klint.dev/ignore: host-network
    klint.dev/ignore-reason: the ingress controller binds host ports
spec:
  template:
    metadata:
      annotations:
        klint.dev/ignore.sidecar: privileged-container
    spec:
      hostNetwork: true
      containers:
        - name: app
          image: nginx:1.27
          securityContext:
            # klint: ignore[KL101] debugging build, removed in JIRA-42
            privileged: true
        - name: sidecar
          image: nginx:1.27
          securityContext: {privileged: true}
        - name: other
          image: nginx:1.27
          securityContext:
            privileged: true # klint: ignore[privileged-container]
        - name: last
          image: nginx:1.27
          securityContext:
            privileged: true # klint: ignore[host-pid] not the right rule
"""


def lint_dir(tmp_path: Path, text: str, config: str = "", baseline: str | None = None) -> Report:
    (tmp_path / ".git").mkdir(exist_ok=True)
    (tmp_path / "app.yaml").write_text(text, encoding="utf-8")
    if config:
        (tmp_path / ".klint.yaml").write_text(config, encoding="utf-8")
    options = RunOptions(
        paths=("app.yaml",),
        output_format="json",
        baseline=Path(baseline) if baseline else None,
    )
    report, _, _ = run(options, cwd=tmp_path)
    report.findings = [f for f in report.findings if f.rule_id in RULES]
    return report


def findings(report: Report) -> list[tuple[int, str, str | None, str | None]]:
    return [
        (
            f.location.span.start_line,
            f.rule_id,
            f.suppression.source if f.suppression else None,
            f.suppression.justification if f.suppression else None,
        )
        for f in report.findings
    ]


def notes(report: Report) -> list[tuple[int, int, str, str]]:
    return [
        (
            n.location.span.start_line if n.location else 0,
            n.location.span.start_column if n.location else 0,
            n.code,
            n.message,
        )
        for n in report.notifications
    ]


def test_comments_and_annotations(tmp_path: Path) -> None:
    report = lint_dir(tmp_path, WORKLOAD)
    assert findings(report) == [
        (15, "KL102", "annotation", "the ingress controller binds host ports"),
        (21, "KL101", "comment", "debugging build, removed in JIRA-42"),
        (24, "KL101", "annotation", "no reason given"),
        (28, "KL101", "comment", "no reason given"),
        (32, "KL101", None, None),
    ]
    assert all(f.suppression.kind == "inSource" for f in report.findings if f.suppression)
    assert notes(report) == [
        (
            13,
            35,
            "suppression-without-reason",
            "suppression of privileged-container has no reason: add `klint.dev/ignore-reason`.",
        ),
        (
            28,
            30,
            "suppression-without-reason",
            "suppression of privileged-container has no reason: "
            "write the reason after the closing bracket.",
        ),
        (32, 30, "unused-suppression", "suppression of host-pid matches no finding; remove it."),
    ]


def test_comment_on_line_above_only_when_alone(tmp_path: Path) -> None:
    text = """\
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  hostPID: true # klint: ignore[KL103] shared debugging pod
  hostNetwork: true
  # klint: ignore[KL101] reviewed in SEC-7
  # a second comment line between is fine
  containers: [{name: a, image: "nginx:1", securityContext: {privileged: true}}]
"""
    report = lint_dir(tmp_path, text)
    assert findings(report) == [
        (5, "KL103", "comment", "shared debugging pod"),
        (6, "KL102", None, None),  # the trailing comment above belongs to its own line
        (9, "KL101", "comment", "reviewed in SEC-7"),
    ]
    assert notes(report) == []


def test_ignore_file_and_malformed_and_unknown(tmp_path: Path) -> None:
    text = """\
# klint: ignore-file[host-network, KL999] this namespace is the node agent's
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  hostNetwork: true # klint: ignore KL102
  hostPID: true
"""
    report = lint_dir(tmp_path, text)
    assert findings(report) == [
        (6, "KL102", "comment", "this namespace is the node agent's"),
        (7, "KL103", None, None),
    ]
    assert notes(report) == [
        (1, 1, "unused-suppression", "suppression names unknown rule 'KL999'; remove or fix it."),
        (
            6,
            1,
            "invalid-suppression",
            "malformed suppression comment: write `# klint: ignore[rule,...] reason` "
            "or `# klint: ignore-file[rule,...] reason`.",
        ),
    ]


def test_workload_annotation_per_container_with_own_reason(tmp_path: Path) -> None:
    text = """\
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: agent
  annotations:
    klint.dev/ignore.agent: privileged-container, host-pid
    klint.dev/ignore-reason.agent: the agent loads eBPF programs
spec:
  template:
    spec:
      containers:
        - name: agent
          image: cilium:1.16
          securityContext: {privileged: true}
        - name: init
          image: busybox:1.36
          securityContext: {privileged: true}
"""
    report = lint_dir(tmp_path, text)
    assert findings(report) == [
        (14, "KL101", "annotation", "the agent loads eBPF programs"),
        (17, "KL101", None, None),
    ]
    assert notes(report) == [
        (6, 29, "unused-suppression", "suppression of host-pid matches no finding; remove it."),
    ]


EXEMPT_CONFIG = """\
exemptions:
  - rules: [privileged-container]
    kind: Deployment
    namespace: shop
    name: "w*"
    container: last
    reason: the last container is a vendor image
  - rules: [host-pid]
    reason: expired long ago
    expires: "2020-01-31"
  - name: nothing-matches
    reason: stale entry
"""


def test_config_exemptions_expiry_and_unused(tmp_path: Path) -> None:
    report = lint_dir(tmp_path, WORKLOAD + "---\n" + _HOST_PID, EXEMPT_CONFIG)
    assert findings(report)[4] == (32, "KL101", "config", "the last container is a vendor image")
    assert report.findings[4].suppression is not None
    assert report.findings[4].suppression.kind == "external"
    assert findings(report)[5] == (38, "KL103", None, None)  # expired: not suppressed
    config_notes = [n for n in notes(report) if n[2] != "suppression-without-reason"]
    assert [
        (n.location.path if n.location else None)
        for n in report.notifications
        if n.code == "expired-suppression"
    ] == [".klint.yaml"]
    assert config_notes == [
        (
            8,
            5,
            "expired-suppression",
            "exemption expired on 2020-01-31: it no longer suppresses findings "
            "(reason: expired long ago).",
        ),
        (11, 5, "unused-suppression", "exemption matches no finding; remove it."),
        (32, 30, "unused-suppression", "suppression of host-pid matches no finding; remove it."),
    ]


_HOST_PID = """\
apiVersion: v1
kind: Pod
metadata: {name: other, namespace: shop}
spec:
  hostPID: true
  containers: [{name: a, image: "nginx:1"}]
"""


def test_suppressed_findings_do_not_fail_and_are_listed(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    text = (
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n"
        "  hostNetwork: true # klint: ignore[KL102] accepted\n"
        "  containers: [{name: a, image: 'nginx:1'}]\n"
    )
    (tmp_path / "p.yaml").write_text(text, encoding="utf-8")
    args = ("check", "--select", "KL102", "--profile", "pss-baseline", "--ignore", "KL101")
    plain = run_cli(*args, "p.yaml", cwd=tmp_path)
    assert plain.returncode == 0, plain.stdout
    assert plain.stdout.splitlines()[-1].startswith(
        "klint: 0 findings (0 errors, 0 warnings, 0 notes, 1 suppressed)"
    )
    listed = run_cli(*args, "--show-suppressed", "p.yaml", cwd=tmp_path)
    assert listed.stdout.splitlines()[0] == (
        "p.yaml:5:16: error: the pod sets hostNetwork to true (Pod Security Standards baseline: "
        "Host Namespaces). [KL102 host-network] (suppressed: accepted)"
    )
    sarif = run_cli(*args, "--format", "sarif", "p.yaml", cwd=tmp_path)
    assert '"kind": "inSource"' in sarif.stdout
    assert '"justification": "accepted"' in sarif.stdout


def test_stdin_comments_use_the_buffer(tmp_path: Path) -> None:
    text = (
        b"apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n"
        b"  hostNetwork: true # klint: ignore[KL102] accepted\n"
    )
    result = run_cli("check", "--no-config", "--format", "json", "-", stdin=text, cwd=tmp_path)
    assert '"justification": "accepted"' in result.stdout

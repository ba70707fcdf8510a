"""Output a pull request can still forge (issue 22, class 3): no repository text starts a
GitHub workflow command on any line klint prints, on every command: ``klint fix`` (render
errors, advice), ``klint fix --diff`` (diff context), ``klint rules``, ``klint explain``, and
the text and Markdown reports of a custom rule's texts."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.conftest import needs_helm_sdk, run_cli

FORGED = "::error file=README.md,line=1::FORGED"
POD = """\
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers:
    - name: c
      image: nginx:1.27
      env:
        - name: X
          value: |
            ::error file=README.md,line=1::FORGED
             ::add-mask::x
      securityContext:
        privileged: true
"""
RULE = """\
id: {id}
name: evil-rule
summary: A hostile custom rule
description: "Written by the pull request.\\n::error file=a::DESCRIPTION\\n  ::add-mask::d"
remediation: "Nothing.\\n::error file=a::REMEDIATION."
severity: error
security_severity: 5.0
profiles: [default]
tags: [test]
references:
  nsa: ["x\\n::error file=a::NSA", "::add-mask::n"]
  docs: ["https://example.com/\\n::error::DOCS"]
check: json-schema
params:
  target: object
  message: "bad\\n::error file=a::MESSAGE"
  schema: {{type: object, properties: {{kind: {{const: Secret}}}}}}
examples:
  pass: [{{manifest: "kind: Secret"}}]
  fail: [{{manifest: "kind: ConfigMap"}}]
"""


def forged_lines(text: str, own: str | None = None) -> list[str]:
    """Lines the Actions runner would run: ``::`` after leading whitespace, or ``##[``;
    ``own`` matches the commands klint's github format writes itself."""
    return [
        line
        for line in re.split(r"\r\n|\r|\n", text)
        if (line.lstrip().startswith("::") and not (own and re.match(own, line))) or "##[" in line
    ]


@pytest.fixture()
def repo(tmp_path: Path) -> Path:
    (tmp_path / ".git").mkdir()
    (tmp_path / "pods").mkdir()
    (tmp_path / "pods" / "pod.yaml").write_text(POD)
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "evil.yaml").write_text(RULE.format(id="EVIL-001"))
    (tmp_path / "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n")
    return tmp_path


def test_fix_diff_neutralises_context_lines(repo: Path) -> None:
    done = run_cli("fix", "--no-config", "--diff", "--unsafe", "pods", cwd=repo)
    assert done.stdout.startswith("--- a/pods/pod.yaml"), done.stderr
    assert "\\x3a:error file=README.md,line=1::FORGED" in done.stdout  # shown, neutralised
    assert forged_lines(done.stdout + done.stderr) == []


@needs_helm_sdk
def test_fix_prints_render_errors_and_advice_safely(repo: Path) -> None:
    templates = repo / "chart" / "templates"
    templates.mkdir(parents=True)
    (repo / "chart" / "Chart.yaml").write_text("apiVersion: v2\nname: chart\nversion: 1\n")
    (templates / "x.yaml").write_text(f'{{{{ fail "x\\n{FORGED}\\n::add-mask::x" }}}}\n')
    done = run_cli("fix", "--no-config", "chart", cwd=repo)
    assert "FORGED" in done.stderr  # the render error is reported
    assert forged_lines(done.stdout + done.stderr) == []
    # advice names the template: a chart path that starts a workflow command is neutralised
    (templates / "x.yaml").write_text(POD.replace("nginx:1.27", "nginx:{{ .Chart.Version }}"))
    advice = run_cli("fix", "--no-config", "chart", "--diff", cwd=repo)
    assert "klint does not rewrite Helm charts" in advice.stderr
    assert forged_lines(advice.stdout + advice.stderr) == []


def test_rules_and_explain_print_custom_rule_texts_safely(repo: Path) -> None:
    for args in (
        ("rules", "--framework", "nsa"),
        ("rules",),
        ("explain", "EVIL-001"),
        ("explain", "EVIL-001", "--markdown"),
    ):
        done = run_cli(*args, "--no-config", "--rules-dir", "rules", cwd=repo)
        assert done.returncode == 0, done.stderr
        assert "EVIL-001" in done.stdout
        assert forged_lines(done.stdout + done.stderr) == [], args


@pytest.mark.parametrize("output", ["text", "markdown", "github", "compliance"])
def test_reports_of_a_custom_rule_cannot_forge(repo: Path, output: str) -> None:
    done = run_cli(
        "check", "--no-config", "--rules-dir", "rules", "--format", output, "cm.yaml", cwd=repo
    )
    assert "EVIL-001" in done.stdout, done.stderr
    own = r"::(error|warning|notice) file=cm\.yaml,line=\d+," if output == "github" else None
    assert forged_lines(done.stdout + done.stderr, own) == []


@pytest.mark.parametrize("field", ["id", "name"])
def test_rule_ids_and_names_are_matched_whole(repo: Path, field: str) -> None:
    text = RULE.format(id="EVIL-001")
    text = (
        text.replace("id: EVIL-001", 'id: "EVIL-001\\n"')
        if field == "id"
        else text.replace("name: evil-rule", 'name: "evil-rule\\n"')
    )
    (repo / "rules" / "evil.yaml").write_text(text)
    done = run_cli("check", "--no-config", "--rules-dir", "rules", "cm.yaml", cwd=repo)
    assert done.returncode == 2
    assert "does not match" in done.stderr
    assert forged_lines(done.stdout + done.stderr) == []


def test_a_neutralised_diff_still_applies(repo: Path) -> None:
    (repo / "pods" / "pod.yaml").write_text(POD.replace("::", "ok"))
    done = run_cli("fix", "--no-config", "--diff", "--unsafe", "pods", cwd=repo)
    assert "\\x3a" not in done.stdout
    applied = subprocess.run(
        ["git", "apply", "--check", "-"],
        input=done.stdout,
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
    )
    assert applied.returncode == 0, applied.stderr

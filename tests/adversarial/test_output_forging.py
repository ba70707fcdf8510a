"""File names and YAML values cannot forge CI output: workflow commands, bidi reordering,
XML that no longer parses."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from klint.reporters import FORMATS
from tests.conftest import run_cli

PRIVILEGED = """\
apiVersion: v1
kind: Pod
metadata: {{name: "{name}"}}
spec:
  containers:
    - {{name: "{name}", image: nginx:1.27, securityContext: {{privileged: true}}}}
"""
RLO = "\u202e"
HOSTILE_NAMES = (
    "::add-mask::x.yaml",
    "::error file=README.md::forged.yaml",
    " ::warning::indented.yaml",
    "legacy ##[add-mask]secret.yaml",
    f"bidi{RLO}lmay.exe.yaml",
    "nonchar\ufffe\uffff.yaml",
)


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("forging")
    (root / ".git").mkdir()
    for name in HOSTILE_NAMES:
        (root / name).write_text(PRIVILEGED.format(name=f"app{RLO}gpj"), encoding="utf-8")
    # A name that is not UTF-8 (Python sees a lone surrogate): no format may crash on it.
    with open(bytes(root) + b"/latin\xff.yaml", "w", encoding="utf-8") as handle:
        handle.write(PRIVILEGED.format(name="app"))
    (root / "::add-mask::broken.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: [\n", encoding="utf-8"
    )
    return root


def check(repo: Path, output_format: str) -> str:
    result = run_cli("check", "--no-config", "--format", output_format, ".", cwd=repo)
    assert result.returncode == 1, result.stderr
    return result.stdout


@pytest.mark.parametrize("output_format", FORMATS)
def test_no_format_emits_a_workflow_command_or_a_bidi_control(
    repo: Path, output_format: str
) -> None:
    output = check(repo, output_format)
    assert RLO not in output and "\ufffe" not in output and "\uffff" not in output
    assert "##[" not in output
    for line in output.splitlines():
        if output_format == "github":
            assert line.startswith(("::error file=", "::warning file=", "::notice file=")), line
            assert line.count("::") == 2, line  # the command's own two, no injected ones
        else:
            assert not line.lstrip().startswith("::"), line


def test_text_quotes_a_path_that_would_start_a_command(repo: Path) -> None:
    output = check(repo, "text")
    assert '"::add-mask::x.yaml":6:' in output
    assert '"::add-mask::broken.yaml":' in output
    assert '" ::warning::indented.yaml":6:' in output
    assert "legacy ##\\[add-mask]secret.yaml:6:" in output
    assert "bidi\\u202elmay.exe.yaml:6:" in output


def test_json_keeps_paths_exact_and_spells_out_bidi_in_messages(repo: Path) -> None:
    output = check(repo, "json")
    assert "\\u202e" in output  # the raw character is escaped in the JSON text
    findings = json.loads(output)["findings"]
    paths = {f["path"] for f in findings}
    assert f"bidi{RLO}lmay.exe.yaml" in paths  # exact: a tool can open the file
    messages = [f["message"] for f in findings if f["rule_id"] == "KL101"]
    assert len(messages) == len(HOSTILE_NAMES) + 1
    assert sum('container "app\\u202egpj"' in m for m in messages) == len(HOSTILE_NAMES)


def test_sarif_messages_show_the_bidi_control_as_text(repo: Path) -> None:
    log = json.loads(check(repo, "sarif"))
    texts = [r["message"]["text"] for r in log["runs"][0]["results"] if r["ruleId"] == "KL101"]
    assert len(texts) == len(HOSTILE_NAMES) + 1
    assert sum('container "app\\u202egpj"' in text for text in texts) == len(HOSTILE_NAMES)


def test_sarif_keeps_the_bytes_of_a_name_that_is_not_utf8(repo: Path) -> None:
    log = json.loads(check(repo, "sarif"))
    uris = {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        for r in log["runs"][0]["results"]
    }
    assert "latin%FF.yaml" in uris


def test_junit_parses_with_characters_xml_forbids(repo: Path) -> None:
    root = ET.fromstring(check(repo, "junit"))
    names = [case.get("classname", "") for case in root.iter("testcase")]
    assert any("nonchar\\ufffe\\uffff.yaml" in name for name in names)


def test_an_error_naming_a_hostile_file_stays_on_one_line(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "x\n::warning::forged.yaml").write_text("id: [\n", encoding="utf-8")
    (tmp_path / ".klint.yaml").write_text("rules-dirs: [rules]\n", encoding="utf-8")
    (tmp_path / "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\n", encoding="utf-8")
    result = run_cli("check", "cm.yaml", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1, result.stderr
    assert "x\\x0a::warning::forged.yaml" in result.stderr

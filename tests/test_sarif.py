"""SARIF 2.1.0: valid against the official OASIS schema and shaped as GitHub needs."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

from tests.conftest import REPO, run_cli

INSECURE = "fixtures/examples/insecure-deployment.yaml"


@cache
def _validator() -> jsonschema.Draft4Validator:
    schema = json.loads((REPO / "schemas" / "sarif-schema-2.1.0.json").read_text())
    return jsonschema.Draft4Validator(schema)


def sarif(*args: str, stdin: bytes | None = None, cwd: Path | None = None) -> dict[str, Any]:
    result = run_cli("check", "--format", "sarif", *args, stdin=stdin, cwd=cwd)
    assert result.returncode in (0, 1), result.stderr
    log: dict[str, Any] = json.loads(result.stdout)
    errors = sorted(_validator().iter_errors(log), key=str)
    assert not errors, errors[0].message
    return log


def test_valid_with_no_findings_one_and_many_files_and_bad_input() -> None:
    assert sarif("fixtures/examples/hardened-deployment.yaml")["runs"][0]["results"] == []
    assert sarif(INSECURE)["runs"][0]["results"]
    log = sarif("fixtures/examples", "fixtures/bad", "fixtures/cases")
    notes = log["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert {n["descriptor"]["id"] for n in notes} >= {"yaml-syntax", "encoding", "binary-file"}


def test_run_and_driver_shape() -> None:
    log = sarif(INSECURE)
    assert log["$schema"] == "https://json.schemastore.org/sarif-2.1.0.json"
    assert log["version"] == "2.1.0"
    assert len(log["runs"]) == 1
    run = log["runs"][0]
    driver = run["tool"]["driver"]
    assert driver["name"] == "klint"
    assert driver["fullName"] and driver["semanticVersion"] and driver["informationUri"]
    assert run["automationDetails"]["id"] == "klint/"
    assert run["columnKind"] == "unicodeCodePoints"
    for rule in driver["rules"]:
        assert len(rule["name"]) <= 255
        assert 0 < len(rule["shortDescription"]["text"]) <= 1024
        assert 0 < len(rule["fullDescription"]["text"]) <= 1024
        assert rule["help"]["text"] and rule["help"]["markdown"] and rule["helpUri"]
        assert rule["defaultConfiguration"]["level"] in {"note", "warning", "error"}
        props = rule["properties"]
        assert "security" in props["tags"] and len(props["tags"]) <= 10
        assert props["precision"] in {"very-high", "high", "medium", "low"}
        assert isinstance(props["security-severity"], str)
        assert 0 < float(props["security-severity"]) <= 10


def test_results_shape_and_positions() -> None:
    run = sarif(INSECURE)["runs"][0]
    ids = [rule["id"] for rule in run["tool"]["driver"]["rules"]]
    for result in run["results"]:
        assert ids[result["ruleIndex"]] == result["ruleId"]
        assert result["level"] in {"note", "warning", "error"}
        assert result["message"]["text"].endswith(".")
        assert len(result["locations"]) == 1
        physical = result["locations"][0]["physicalLocation"]
        assert physical["artifactLocation"] == {"uri": INSECURE, "uriBaseId": "%SRCROOT%"}
        region = physical["region"]
        assert region["startLine"] >= 1 and region["endLine"] >= region["startLine"]
        assert region["startColumn"] >= 1 and region["endColumn"] >= 1
        assert result["partialFingerprints"]["klint/v1"]
        assert "primaryLocationLineHash" not in result["partialFingerprints"]
    privileged = next(r for r in run["results"] if r["ruleId"] == "KL101")
    assert privileged["locations"][0]["physicalLocation"]["region"] == {
        "startLine": 23,
        "startColumn": 25,
        "endLine": 23,
        "endColumn": 29,
    }
    assert privileged["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] == (
        "Deployment/shop/web"
    )


def test_category_option() -> None:
    assert sarif("--category", "k8s", INSECURE)["runs"][0]["automationDetails"]["id"] == "k8s/"


def test_byte_identical_output() -> None:
    first = run_cli("check", "--format", "sarif", "fixtures").stdout
    second = run_cli("check", "--format", "sarif", "fixtures").stdout
    assert first == second and first


def test_fingerprints_survive_unrelated_line_moves(tmp_path: Path) -> None:
    source = (REPO / INSECURE).read_text()
    (tmp_path / "a.yaml").write_text(source)
    (tmp_path / "b.yaml").write_text("# a new comment\n# and another\n" + source)

    def prints(name: str) -> list[tuple[str, str, int]]:
        run = sarif(name, cwd=tmp_path)["runs"][0]
        return sorted(
            (
                r["ruleId"],
                r["partialFingerprints"]["klint/v1"],
                r["locations"][0]["physicalLocation"]["region"]["startLine"],
            )
            for r in run["results"]
        )

    before, after = prints("a.yaml"), prints("b.yaml")
    assert [(rule, fp) for rule, fp, _ in before] == [(rule, fp) for rule, fp, _ in after]
    assert [line + 2 for _, _, line in before] == [line for _, _, line in after]


def test_uri_is_relative_to_the_git_root_and_percent_encoded(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    sub = tmp_path / "my dir"
    sub.mkdir()
    (sub / "pod.yaml").write_text((REPO / INSECURE).read_text())
    run = sarif("pod.yaml", cwd=sub)["runs"][0]
    uri = run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "my%20dir/pod.yaml"


def test_suppressed_results_are_marked_accepted_and_valid(tmp_path: Path) -> None:
    source = (
        (REPO / INSECURE)
        .read_text()
        .replace("privileged: true", "privileged: true # klint: ignore[KL101] lab-only debug image")
    )
    (tmp_path / "pod.yaml").write_text(source)
    run = sarif("pod.yaml", cwd=tmp_path)["runs"][0]
    suppressed = [r for r in run["results"] if r.get("suppressions")]
    assert [r["ruleId"] for r in suppressed] == ["KL101"]
    assert suppressed[0]["suppressions"] == [
        {"kind": "inSource", "justification": "lab-only debug image", "status": "accepted"}
    ]

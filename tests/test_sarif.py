"""SARIF 2.1.0: valid against the official OASIS schema and shaped as GitHub needs."""

from __future__ import annotations

import hashlib
import json
import re
import tarfile
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

from klint.findings import archive_member
from tests.conftest import REPO, needs_helm_sdk, run_cli

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
        assert props["precision"] in {"very-high", "high", "medium", "low"}
        if rule["id"] == "KL000":  # input problems are not security alerts in code scanning
            assert props["tags"] == ["input"] and "security-severity" not in props
            continue
        assert "security" in props["tags"] and len(props["tags"]) <= 10
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
        assert result["partialFingerprints"]["klint/v2"]
        assert re.fullmatch(
            r"[0-9a-f]{16}:[0-9]+", result["partialFingerprints"]["primaryLocationLineHash"]
        )
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

    def prints() -> list[tuple[str, str, str, int]]:
        run = sarif("a.yaml", cwd=tmp_path)["runs"][0]
        return sorted(
            (
                r["ruleId"],
                r["partialFingerprints"]["klint/v2"],
                r["partialFingerprints"]["primaryLocationLineHash"],
                r["locations"][0]["physicalLocation"]["region"]["startLine"],
            )
            for r in run["results"]
        )

    before = prints()
    (tmp_path / "a.yaml").write_text("# a new comment\n# and another\n" + source)
    after = prints()
    assert [item[:3] for item in before] == [item[:3] for item in after]
    assert [item[3] + 2 for item in before] == [item[3] for item in after]


def test_the_same_object_in_two_files_has_two_fingerprints(tmp_path: Path) -> None:
    source = (REPO / INSECURE).read_text()
    (tmp_path / "a.yaml").write_text(source)
    (tmp_path / "b.yaml").write_text(source)
    results = sarif("a.yaml", "b.yaml", cwd=tmp_path)["runs"][0]["results"]
    prints = [r["partialFingerprints"]["klint/v2"] for r in results]
    assert (
        len(prints)
        == len(set(prints))
        == 2 * len(sarif("a.yaml", cwd=tmp_path)["runs"][0]["results"])
    )


def test_input_problems_are_results_of_their_own_rule_too(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: [\n")
    (tmp_path / "ok.yaml").write_text((REPO / INSECURE).read_text())
    run = sarif("bad.yaml", "ok.yaml", cwd=tmp_path)["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert rules[0]["id"] == "KL000" and rules[0]["name"] == "input-problem"
    problems = [r for r in run["results"] if r["ruleId"] == "KL000"]
    assert len(problems) == 1
    (problem,) = problems
    assert problem["ruleIndex"] == 0 and problem["level"] == "error"
    assert problem["message"]["text"].startswith("YAML syntax error")
    where = problem["locations"][0]["physicalLocation"]
    assert where["artifactLocation"]["uri"] == "bad.yaml"
    assert where["region"]["startLine"] == 4
    notes = run["invocations"][0]["toolExecutionNotifications"]
    assert [n["descriptor"]["id"] for n in notes] == ["yaml-syntax"]
    paths = [
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in run["results"]
    ]
    assert paths == sorted(paths)  # one order: file, then line


def test_related_location_end_column_stays_on_its_line(tmp_path: Path) -> None:
    from klint.catalog import load_catalog
    from klint.findings import Finding, Location, RelatedLocation, Report, Severity, Span
    from klint.reporters.base import ReportContext
    from klint.reporters.sarif import SarifReporter

    (tmp_path / "values.yaml").write_text("image:\n  tag: 1.0\n")
    (tmp_path / "t.yaml").write_text("kind: Pod\n")
    related = RelatedLocation(Location("values.yaml", Span(2, 3, 2, 40)), "set here")
    found = Finding(
        "KL101",
        "privileged-container",
        Severity.ERROR,
        "privileged.",
        Location("t.yaml", Span(1, 1, 1, 5)),
        None,
        ("spec",),
        related=(related,),
    )
    rules = [rule for rule in load_catalog() if rule.id == "KL101"]
    context = ReportContext(rules=rules, cwd=tmp_path, root=tmp_path)
    text = SarifReporter().render(Report(findings=[found]), context)
    (result,) = json.loads(text)["runs"][0]["results"]
    region = result["relatedLocations"][0]["physicalLocation"]["region"]
    assert region == {"startLine": 2, "startColumn": 3, "endLine": 2, "endColumn": 11}


def _results(*args: str) -> list[tuple[str, str, int, str]]:
    run = sarif("--no-config", *args)["runs"][0]
    return sorted(
        (
            r["ruleId"],
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            r["locations"][0]["physicalLocation"]["region"]["startLine"],
            r["partialFingerprints"]["klint/v2"],
        )
        for r in run["results"]
    )


def test_the_union_of_the_shards_is_the_unsharded_run() -> None:
    whole = _results("fixtures/cases", "fixtures/examples", "fixtures/helm/web")
    shards = [
        _results("--shard", f"{i}/3", "fixtures/cases", "fixtures/examples", "fixtures/helm/web")
        for i in (1, 2, 3)
    ]
    assert sorted(r for shard in shards for r in shard) == whole  # disjoint, and complete
    assert sum(1 for shard in shards if shard) >= 2
    chart = {s for s, shard in enumerate(shards) for r in shard if r[1].startswith("fixtures/helm")}
    assert len(chart) == 1  # a chart never splits
    log = sarif("--shard", "2/3", INSECURE)
    assert log["runs"][0]["automationDetails"]["id"] == "klint/shard-2/"
    assert (
        sarif("--shard", "2/3", "--category", "k8s", INSECURE)["runs"][0]["automationDetails"]["id"]
        == "k8s/"
    )


def test_shards_do_not_move_when_units_are_added_and_bad_shards_are_usage_errors(
    tmp_path: Path,
) -> None:
    source = (REPO / INSECURE).read_text()
    for name in ("a", "b", "c", "d"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "pod.yaml").write_text(source)

    def placement() -> dict[str, int]:
        found: dict[str, int] = {}
        for index in (1, 2):
            run = sarif("--no-config", "--shard", f"{index}/2", ".", cwd=tmp_path)["runs"][0]
            for r in run["results"]:
                uri = r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                found[uri] = index
        return found

    before = placement()
    assert set(before) == {f"{n}/pod.yaml" for n in "abcd"}
    for name in ("e", "f", "g"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "pod.yaml").write_text(source)
    after = placement()
    assert {uri: after[uri] for uri in before} == before
    assert set(after.values()) == {1, 2}
    for bad in ("0/3", "4/3", "x", "1/0"):
        result = run_cli("check", "--shard", bad, INSECURE)
        assert result.returncode == 2 and "--shard" in result.stderr, bad


ARCHIVE = "fixtures/helm/vendored-tgz/charts/exporter-1.2.3.tgz"


@needs_helm_sdk
def test_a_template_inside_a_chart_archive_is_a_nested_artifact() -> None:
    run = sarif("fixtures/helm/vendored-tgz")["runs"][0]
    # the archive is a top-level artifact, the template a nested one (SARIF §3.24.2/§3.24.3)
    assert run["artifacts"] == [
        {"location": {"uri": ARCHIVE, "uriBaseId": "%SRCROOT%"}, "mimeType": "application/gzip"},
        {"location": {"uri": "exporter/templates/deployment.yaml"}, "parentIndex": 0},
    ]
    inside = [
        r
        for r in run["results"]
        if r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].startswith(ARCHIVE)
    ]
    assert {r["ruleId"] for r in inside} >= {"KL101", "KL401"}
    with tarfile.open(REPO / ARCHIVE) as tar:
        handle = tar.extractfile("exporter/templates/deployment.yaml")
        assert handle is not None
        template = handle.read().decode().splitlines()
    for result in inside:
        physical = result["locations"][0]["physicalLocation"]
        # GitHub reads only this uri (relative to the repository root): archive, !/, member
        assert physical["artifactLocation"] == {
            "uri": f"{ARCHIVE}%21/exporter/templates/deployment.yaml",
            "uriBaseId": "%SRCROOT%",
        }
        # the line hash GitHub tracks alerts by comes from the template's own line
        line = " ".join(template[physical["region"]["startLine"] - 1].split())
        digest = hashlib.sha256(line.encode()).hexdigest()[:16]
        assert result["partialFingerprints"]["primaryLocationLineHash"].startswith(digest + ":")
        assert (
            physical["region"]["endColumn"] <= len(template[physical["region"]["endLine"] - 1]) + 1
        )


def test_a_run_without_archives_has_no_artifacts_table() -> None:
    assert "artifacts" not in sarif(INSECURE)["runs"][0]


def test_archive_member_paths_are_told_apart_from_other_paths() -> None:
    assert archive_member("c/charts/dep-1.2.3.tgz!/dep/templates/x.yaml") == (
        "c/charts/dep-1.2.3.tgz",
        "dep/templates/x.yaml",
    )
    assert archive_member("c/charts/dep.tar.gz!/dep/values.yaml") == (
        "c/charts/dep.tar.gz",
        "dep/values.yaml",
    )
    for other in ("deploy/pod.yaml", "odd!/name.yaml", "c/dep.tgz!/", "c/dep.zip!/x.yaml"):
        assert archive_member(other) is None


@needs_helm_sdk
def test_a_crd_inside_a_subchart_archive_is_a_nested_artifact_too() -> None:
    run = sarif("fixtures/helm/subchart-crds")["runs"][0]
    archive = "fixtures/helm/subchart-crds/charts/packed-0.1.0.tgz"
    assert run["artifacts"] == [
        {"location": {"uri": archive, "uriBaseId": "%SRCROOT%"}, "mimeType": "application/gzip"},
        {"location": {"uri": "packed/crds/things.yaml"}, "parentIndex": 0},
    ]
    uris = {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in run["results"]
    }
    assert f"{archive}%21/packed/crds/things.yaml" in uris

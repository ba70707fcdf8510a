"""Custom rules: rule files in the built-in format, built-in checks with params, json-schema."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from klint.catalog import CatalogError, load_catalog
from klint.engine import bind_rules, lint
from klint.findings import Report
from klint.selection import select_rules
from klint.sources.base import LoadSettings
from klint.sources.manifests import StdinBuffer
from tests.conftest import FIXTURES, run_cli

CUSTOM = FIXTURES / "custom-rules"
RULES = CUSTOM / "rules"
_EXPECT = re.compile(r"#\s*expect:\s*([A-Za-z0-9_,\s-]+?)\s*$")


def lint_custom(text: str, rules: list[str]) -> Report:
    catalog = load_catalog([RULES])
    selected = select_rules(catalog, (), select=rules)
    unit = StdinBuffer(text.encode(), "test.yaml")
    return lint([unit], bind_rules(selected), LoadSettings(), (1, 35))


def test_custom_rules_load_validated_next_to_builtins() -> None:
    catalog = load_catalog([RULES])
    custom = {rule.id: rule for rule in catalog if not rule.builtin}
    assert sorted(custom) == ["ORG-001", "ORG-002", "ORG-003"]
    assert custom["ORG-001"].check == "missing-limits"
    assert custom["ORG-002"].check == "json-schema"


def test_invalid_custom_rule_names_file_and_problem() -> None:
    with pytest.raises(CatalogError) as raised:
        load_catalog([CUSTOM / "invalid"])
    message = str(raised.value)
    assert message.startswith(str(CUSTOM / "invalid" / "bad-severity.yaml") + ": severity: ")
    assert "'critical' is not one of" in message


def test_custom_rules_line_exact() -> None:
    text = (CUSTOM / "manifests.yaml").read_text(encoding="utf-8")
    report = lint_custom(text, ["ORG-001", "ORG-002", "ORG-003"])
    found = sorted((f.location.span.start_line, f.rule_id) for f in report.active)
    expected = sorted(
        (number, rule.strip())
        for number, line in enumerate(text.splitlines(), start=1)
        if (match := _EXPECT.search(line))
        for rule in match.group(1).split(",")
    )
    assert (
        found
        == expected
        == [
            (5, "ORG-003"),
            (11, "ORG-001"),
            (12, "ORG-002"),
            (17, "ORG-001"),
            (17, "ORG-002"),
        ]
    )


def test_json_schema_messages_and_paths() -> None:
    text = (CUSTOM / "manifests.yaml").read_text(encoding="utf-8")
    report = lint_custom(text, ["ORG-002", "ORG-003"])
    by_rule = {(f.rule_id, f.location.span.start_line): f for f in report.active}
    image = by_rule[("ORG-002", 12)]
    assert image.field_path == ("spec", "template", "spec", "containers", 0, "image")
    assert image.message == (
        "container \"app\": 'docker.io/library/nginx:1.27' does not match "
        "'^registry\\\\.example\\\\.com/'."
    )
    missing = by_rule[("ORG-002", 17)]
    assert missing.field_path == ("spec", "template", "spec", "containers", 2, "image")
    assert missing.message == "container \"noimage\": 'image' is a required property."
    label = by_rule[("ORG-003", 5)]
    assert label.field_path == ("metadata", "labels", "team")
    assert label.message == (
        "Deployment \"web\" has no team label ('team' is a required property)."
    )


def test_json_schema_pod_target_and_kinds() -> None:
    from klint.checks import REGISTRY
    from klint.checks.base import UnitContext
    from klint.documents import parse_stream
    from klint.model.resource import resources_from_document

    text = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  hostNetwork: true\n"
    document = parse_stream(text, "p.yaml").documents[0]
    resource = next(resources_from_document(document))
    check = REGISTRY["json-schema"]
    schema = {"properties": {"hostNetwork": {"const": False}}}
    hits = list(check.run(resource, UnitContext([resource]), {"schema": schema, "target": "pod"}))
    assert [(v.path, v.message) for v in hits] == [
        (("spec", "hostNetwork"), "the pod spec: False was expected.")
    ]
    skipped = check.run(
        resource, UnitContext([resource]), {"schema": schema, "target": "pod", "kinds": ["Job"]}
    )
    assert list(skipped) == []


def test_invalid_json_schema_param_is_a_clear_error(tmp_path: Path) -> None:
    rule = (RULES / "image-outside-registry.yaml").read_text(encoding="utf-8")
    broken = rule.replace("type: object\n    required", "type: 5\n    required")
    (tmp_path / "broken.yaml").write_text(broken, encoding="utf-8")
    result = run_cli("check", "--no-config", "--rules-dir", str(tmp_path), "-", stdin=b"a: 1\n")
    assert result.returncode == 2
    assert f"{tmp_path / 'broken.yaml'}: params of rule ORG-002:" in result.stderr


def test_custom_rule_examples_hold() -> None:
    for rule in load_catalog([RULES]):
        if rule.builtin:
            continue
        for example in rule.examples:
            report = lint_custom(example.manifest, [rule.id])
            lines = [f.location.span.start_line for f in report.active]
            assert lines == ([] if example.passes else example.expected_lines()), rule.id


def test_custom_rules_in_rules_listing_sarif_and_docs(tmp_path: Path) -> None:
    listing = run_cli("rules", "--no-config", "--rules-dir", str(RULES))
    assert listing.returncode == 0
    assert "ORG-002  image-outside-registry" in listing.stdout
    # from the file's folder: under fixtures/ a finding is a note (test input), exit 0
    sarif = run_cli(
        "check",
        "--no-config",
        "--rules-dir",
        str(RULES),
        "--select",
        "ORG-002",
        "--format",
        "sarif",
        "manifests.yaml",
        cwd=CUSTOM,
    )
    assert sarif.returncode == 1
    assert '"id": "ORG-002"' in sarif.stdout
    assert '"ruleId": "ORG-002"' in sarif.stdout
    docs = run_cli("docs", "--rules-dir", str(RULES), "-o", str(tmp_path))
    assert docs.returncode == 0
    assert (tmp_path / "image-outside-registry.md").is_file()


def test_rules_dirs_from_config(tmp_path: Path) -> None:
    import shutil

    (tmp_path / ".git").mkdir()
    shutil.copytree(RULES, tmp_path / "org-rules")  # rules-dirs stay inside the repository
    (tmp_path / ".klint.yaml").write_text(
        "rules-dirs: [org-rules]\nextends: [org]\n", encoding="utf-8"
    )
    target = tmp_path / "deploy.yaml"
    target.write_text((CUSTOM / "manifests.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    result = run_cli("check", "deploy.yaml", cwd=tmp_path)
    assert result.returncode == 1
    lines = [line.split(": ")[0] for line in result.stdout.splitlines() if "[ORG-" in line]
    assert lines == [
        "deploy.yaml:5:3",
        "deploy.yaml:11:11",
        "deploy.yaml:12:18",
        "deploy.yaml:17:11",
        "deploy.yaml:17:11",
    ]


def test_plugin_checks_load_lazily_from_entry_points(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.metadata
    from types import SimpleNamespace

    from klint import plugins
    from klint.checks import REGISTRY
    from klint.checks.base import Check, Violation

    def no_debug(resource, context, params):  # type: ignore[no-untyped-def]
        if resource.labels.get("debug") == "true":
            yield Violation(("metadata", "labels", "debug"), "the object sets debug to true.")

    check = Check("no-debug-label", no_debug, "Objects labelled debug=true.")
    calls: list[str] = []

    def entry_points(group: str) -> list[SimpleNamespace]:
        calls.append(group)
        return [SimpleNamespace(name="demo", value="demo:CHECKS", load=lambda: [check])]

    monkeypatch.setattr(importlib.metadata, "entry_points", entry_points)
    monkeypatch.delitem(REGISTRY, "no-debug-label", raising=False)
    plugins.ensure_checks(["privileged"])  # all built in: entry points are not read
    assert calls == []
    try:
        plugins.ensure_checks(["no-debug-label"])
        assert calls == ["klint.checks"]
        assert REGISTRY["no-debug-label"] is check
    finally:
        REGISTRY.pop("no-debug-label", None)

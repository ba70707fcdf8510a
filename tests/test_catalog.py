"""Meta-tests over the whole catalogue: the rules keep each other honest."""

from __future__ import annotations

import re
from pathlib import Path

import jsonschema
import pytest
import yaml

from klint.catalog import PROFILES, Rule, builtin_rules_dir, rule_schema
from klint.checks import REGISTRY
from klint.checks.generic import CHECKS as GENERIC_CHECKS
from klint.docs import index_page, rule_page
from klint.engine import bind_rules
from tests.conftest import REPO


def test_every_rule_file_matches_the_schema() -> None:
    validator = jsonschema.Draft202012Validator(rule_schema())
    files = sorted(builtin_rules_dir().rglob("*.yaml"))
    assert files
    for path in files:
        errors = list(validator.iter_errors(yaml.safe_load(path.read_text())))
        assert not errors, f"{path}: {errors[0].message}"


def test_ids_and_names_are_unique_and_well_formed(catalog: list[Rule]) -> None:
    ids = [rule.id for rule in catalog]
    names = [rule.name for rule in catalog]
    assert len(ids) == len(set(ids))
    assert len(names) == len(set(names))
    for rule in catalog:
        assert re.fullmatch(r"KL[1-9][0-9]{2,3}", rule.id), rule.id
        assert rule.source.endswith(f"{rule.name}.yaml"), "file name must be the rule name"


def test_every_rule_binds_to_a_check_with_valid_params(catalog: list[Rule]) -> None:
    assert len(bind_rules(catalog, validate_builtin=True)) == len(catalog)


def test_every_registered_check_is_used(catalog: list[Rule]) -> None:
    used = {rule.check for rule in catalog}
    generic = {check.name for check in GENERIC_CHECKS}  # for custom rules (test_custom_rules)
    assert set(REGISTRY) - used - generic == set()


def test_rules_have_pass_and_fail_examples_and_real_profiles(catalog: list[Rule]) -> None:
    for rule in catalog:
        assert any(e.passes for e in rule.examples), rule.id
        assert any(not e.passes for e in rule.examples), rule.id
        assert set(rule.profiles) <= set(PROFILES), rule.id
        assert rule.remediation.endswith("."), rule.id
        assert 0 < rule.security_severity <= 10


def test_overrides_name_existing_rules(catalog: list[Rule]) -> None:
    ids = {rule.id for rule in catalog}
    for rule in catalog:
        assert set(rule.overrides) <= ids, rule.id


def test_generated_docs_are_current(catalog: list[Rule]) -> None:
    docs = REPO / "docs" / "rules"
    for rule in catalog:
        page = docs / f"{rule.name}.md"
        assert page.exists() and page.read_text() == rule_page(rule), (
            f"{page} is stale: run `python -m klint docs`"
        )
    assert (docs / "README.md").read_text() == index_page(catalog)
    stale = {p.name for p in docs.glob("*.md")} - {f"{r.name}.md" for r in catalog} - {"README.md"}
    assert not stale, f"docs for removed rules: {stale}"


def test_catalog_cache_matches_the_rule_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from klint.catalog import load_catalog

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    first = load_catalog()  # parses and writes the cache
    assert list((tmp_path / "klint").glob("catalog-*.marshal"))
    second = load_catalog()  # reads the cache
    assert first == second == load_catalog(validate_builtin=True)


def test_readme_rule_table_is_current(catalog: list[Rule]) -> None:
    from klint.docs import README_END, README_START, readme_rules_table

    text = (REPO / "README.md").read_text()
    body = text[text.index(README_START) + len(README_START) : text.index(README_END)]
    assert body.strip() == readme_rules_table(catalog), (
        "README rule table is stale: run `python -m klint docs --readme README.md`"
    )

"""Fixture manifests with line-exact expectations.

Each ``fixtures/cases/**/*.yaml`` file marks offending lines with ``# expect: ID[, ID]``
(an ``# expect: -`` line documents a deliberate pass). A header comment
``# klint-test: profile=NAME`` or ``# klint-test: rules=ID,ID`` sets which rules run;
without one every rule runs. The test asserts the exact set of (line, rule) findings.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from klint.catalog import load_catalog
from klint.selection import select_rules
from tests.conftest import FIXTURES, lint_text

CASES = sorted((FIXTURES / "cases").rglob("*.yaml"))
_EXPECT = re.compile(r"#\s*expect:\s*([A-Za-z0-9_,\s-]+?)\s*$")
_HEADER = re.compile(r"#\s*klint-test:\s*(profile|rules)=(\S+)")


def expectations(text: str) -> set[tuple[int, str]]:
    expected = set()
    for number, line in enumerate(text.splitlines(), start=1):
        match = _EXPECT.search(line)
        if match:
            for rule in match.group(1).split(","):
                if rule.strip() and rule.strip() != "-":
                    expected.add((number, rule.strip()))
    return expected


def scope(text: str) -> tuple[list[str], list[str]]:
    match = _HEADER.search(text)
    if match is None:
        return ["all"], []
    kind, value = match.groups()
    return (value.split(","), []) if kind == "profile" else ([], value.split(","))


@pytest.mark.parametrize("case", CASES, ids=[str(c.relative_to(FIXTURES)) for c in CASES])
def test_case(case: Path) -> None:
    text = case.read_text(encoding="utf-8")
    profiles, rules = scope(text)
    selected = select_rules(load_catalog(), profiles, rules)
    report = lint_text(text, rules=[r.id for r in selected])
    found = {(f.location.span.start_line, f.rule_id) for f in report.active}
    assert found == expectations(text)

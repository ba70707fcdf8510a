"""Every pass/fail example in the catalogue runs here, line-exact: examples are tests."""

from __future__ import annotations

import pytest

from klint.catalog import load_catalog
from tests.conftest import hits, lint_text

EXAMPLES = [
    pytest.param(rule, example, id=f"{rule.id}-{'pass' if example.passes else 'fail'}{number}")
    for rule in load_catalog()
    for number, example in enumerate(rule.examples)
]


@pytest.mark.parametrize(("rule", "example"), EXAMPLES)
def test_example(rule, example) -> None:  # type: ignore[no-untyped-def]
    report = lint_text(example.manifest, rules=[rule.id])
    assert not report.notifications, report.notifications
    lines = sorted({line for line, _, _ in hits(report, rule.id)})
    if example.passes:
        assert lines == [], f"{rule.id} should pass but reported lines {lines}"
    else:
        assert example.expected_lines(), "a fail example must mark lines with '# expect'"
        assert lines == example.expected_lines()

"""Cross-object network-policy checks are indexed, not policy × workload (issue 22).

6,000 aliased policies over 6,000 aliased Deployments once took over a minute in KL701.
The checks now index the policies by namespace, then by one ``matchLabels`` pair, and keep
one verdict per (namespace, label set) and per distinct selector. The tests count selector
evaluations (a monkeypatched counter), never seconds: the count must not grow with the
number of aliases, and must grow linearly with distinct objects.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from klint.checks import selectors
from tests.conftest import lint_text

POLICY = (
    "{{apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: {{name: p{i}, "
    "namespace: shop}}, spec: {{podSelector: {{matchLabels: {{app: web{i}}}}}}}}}"
)
DEPLOYMENT = (
    "{{apiVersion: apps/v1, kind: Deployment, metadata: {{name: d{i}, namespace: shop}}, "
    "spec: {{selector: {{matchLabels: {{app: web{i}}}}}, template: {{metadata: {{labels: "
    "{{app: web{i}}}}}, spec: {{containers: [{{name: app, image: 'nginx:1.27'}}]}}}}}}}}"
)
# No matchLabels: the index cannot narrow it, so only the verdict cache keeps it linear.
EXPRESSION_POLICY = (
    "{apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: {name: p, "
    "namespace: shop}, spec: {podSelector: {matchExpressions: [{key: app, operator: In, "
    "values: [web0]}]}}}"
)
RULES = ["KL701", "KL703"]


def aliased(count: int) -> str:
    """One List: a policy and a Deployment, each followed by ``count - 1`` aliases of it."""
    lines = ["apiVersion: v1", "kind: List", "items:"]
    lines.append("  - &policy " + EXPRESSION_POLICY)
    lines += ["  - *policy"] * (count - 1)
    lines.append("  - &workload " + DEPLOYMENT.format(i=1))  # selected by no policy
    lines += ["  - *workload"] * (count - 1)
    return "\n".join(lines) + "\n"


def distinct(count: int) -> str:
    """``count`` policies and ``count`` Deployments, each policy selecting one Deployment,
    plus one Deployment no policy selects."""
    lines = ["apiVersion: v1", "kind: List", "items:"]
    lines += ["  - " + POLICY.format(i=i) for i in range(count)]
    lines += ["  - " + DEPLOYMENT.format(i=i) for i in range(count + 1)]
    return "\n".join(lines) + "\n"


@pytest.fixture
def evaluations(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], tuple[int, list[str]]]:
    """Lint a text with the network-policy rules; (selector evaluations, rule ids found)."""
    original = selectors.matches_label_selector

    def run(text: str) -> tuple[int, list[str]]:
        count = 0

        def counted(selector: Any, labels: Any) -> bool:
            nonlocal count
            count += 1
            return original(selector, labels)

        monkeypatch.setattr(selectors, "matches_label_selector", counted)
        report = lint_text(text, rules=RULES)
        monkeypatch.setattr(selectors, "matches_label_selector", original)
        assert not report.notifications, report.notifications
        return count, [f.rule_id for f in report.active]

    return run


def test_thousands_of_aliased_policies_over_thousands_of_aliased_workloads(
    evaluations: Callable[[str], tuple[int, list[str]]],
) -> None:
    # 4,500 + 4,500 objects: within the unit's object budget (10,000 after List and alias
    # expansion; past it the unit is refused before any check runs)
    count, found = evaluations(aliased(4_500))
    # the aliases share the anchored definition's lines: one finding each, still found
    assert sorted(set(found)) == ["KL701", "KL703"]
    assert 1 <= count <= 4  # one verdict per distinct (selector, label set), not 20 million


def test_distinct_policies_and_workloads_cost_linear_evaluations(
    evaluations: Callable[[str], tuple[int, list[str]]],
) -> None:
    small, found_small = evaluations(distinct(300))
    large, found_large = evaluations(distinct(600))
    assert found_small.count("KL701") == found_large.count("KL701") == 1
    assert "KL703" not in found_small + found_large
    assert large <= 2 * small + 8, (small, large)  # quadratic would be 4x

"""``check: cel`` custom rules: an expression over ``object`` and ``params``."""

from __future__ import annotations

import pytest

from klint.catalog import CatalogError, load_catalog
from klint.engine import bind_rules, lint
from klint.findings import Report
from klint.selection import select_rules
from klint.sources.base import LoadSettings
from klint.sources.manifests import StdinBuffer
from tests.conftest import FIXTURES

pytest.importorskip("cel_expr_python")

CEL = FIXTURES / "cel-rules"


def lint_with(text: str, directory: str, rule: str, overrides: dict | None = None) -> Report:
    catalog = load_catalog([CEL / directory])
    selected = select_rules(catalog, (), select=[rule])
    active = bind_rules(selected, param_overrides=overrides)
    return lint([StdinBuffer(text.encode(), "test.yaml")], active, LoadSettings(), (1, 35))


@pytest.mark.parametrize(
    ("rule", "number"),
    [(r.id, n) for r in load_catalog([CEL / "rules"]) if not r.builtin for n in range(2)],
)
def test_examples_of_cel_rules(rule: str, number: int) -> None:
    found = next(r for r in load_catalog([CEL / "rules"]) if r.id == rule)
    example = found.examples[number]
    report = lint_with(example.manifest, "rules", rule)
    lines = sorted(f.location.span.start_line for f in report.active)
    assert lines == ([] if example.passes else example.expected_lines())


def test_expression_is_a_param_and_params_reach_cel() -> None:
    rule = next(r for r in load_catalog([CEL / "rules"]) if r.id == "CEL-001")
    assert rule.check == "cel"
    assert rule.params["expression"].startswith("!has(object.spec.replicas)")
    manifest = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: {replicas: 9}\n"
    (finding,) = lint_with(manifest, "rules", "CEL-001").active
    assert finding.message == 'Deployment "web": spec.replicas is 9, at most 5 allowed.'
    # a config override of a param changes what the expression sees
    tuned = lint_with(manifest, "rules", "CEL-001", {"CEL-001": {"maxReplicas": 10}})
    assert not tuned.active


def test_kinds_limit_the_rule() -> None:
    manifest = "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: d}\nspec: {replicas: 9}\n"
    assert not lint_with(manifest, "rules", "CEL-001").active


def test_static_message_with_quantity_library() -> None:
    manifest = (
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n"
        "    - {name: a, image: x, resources: {limits: {memory: 4Gi}}}\n"
    )
    (finding,) = lint_with(manifest, "rules", "CEL-002").active
    assert finding.message == 'Pod "p": a container\'s memory limit is above 2Gi.'


def test_broken_expression_is_a_finding_not_a_crash() -> None:
    manifest = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n"
    report = lint_with(manifest, "broken", "CEL-003")
    (finding,) = report.active
    assert finding.message.startswith("the rule's expression does not compile: 1:23:")
    assert not report.notifications


def test_cel_rule_without_expression_is_rejected() -> None:
    with pytest.raises(CatalogError, match=r"no-expression\.yaml"):
        load_catalog([CEL / "invalid"])

"""A hostile expression must not hang or exhaust klint: time and memory budgets."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from klint.cel import sandbox
from klint.cel.plan import Plan, Step
from tests.conftest import REPO, lint_text

pytest.importorskip("cel_expr_python")

FINE = Plan("fine", (Step("check", "", "object.x == 1", "'x is ' + string(object.x)"),))
SLOW = Plan("slow", (Step("check", "", "object.s.find('(x+x+)+y') == ''"),))
GREEDY = Plan("greedy", (Step("check", "", "object.l.map(a, object.s + object.s).size() > 0"),))


@pytest.fixture
def evaluator(monkeypatch: pytest.MonkeyPatch) -> sandbox.Evaluator:
    monkeypatch.setattr(sandbox, "TIME_BUDGET", 0.5)
    monkeypatch.setattr(sandbox, "MEMORY_BUDGET", 256 << 20)
    fresh = sandbox.Evaluator()
    yield fresh
    fresh.close()


def test_slow_expression_is_stopped_and_the_rest_still_evaluated(
    evaluator: sandbox.Evaluator,
) -> None:
    started = time.monotonic()
    slow, fine = evaluator.run([(SLOW, {"object": {"s": "x" * 64}}), (FINE, {"object": {"x": 2}})])
    assert time.monotonic() - started < 5
    assert slow.status == "budget" and "longer than 0.5 s" in slow.detail
    assert fine.status == "done" and fine.failures[0].message == "x is 2"
    # the exhausted plan is not tried again in this run; the others are
    again, ok = evaluator.run([(SLOW, {"object": {"s": ""}}), (FINE, {"object": {"x": 1}})])
    assert again.status == "budget" and ok.status == "done" and not ok.failures


def test_memory_hungry_expression_is_stopped(evaluator: sandbox.Evaluator) -> None:
    data = {"object": {"l": list(range(9000)), "s": "x" * 100_000}}
    (outcome,) = evaluator.run([(GREEDY, data)])
    assert outcome.status == "budget"
    assert "memory" in outcome.detail or "longer" in outcome.detail
    (fine,) = evaluator.run([(FINE, {"object": {"x": 1}})])
    assert fine.status == "done"


def test_comprehension_iterations_are_bounded() -> None:
    nested = ".all(a, [0,1,2,3,4,5,6,7,8,9]" * 5 + ".all(b, true)" + ")" * 5
    text = (
        "apiVersion: admissionregistration.k8s.io/v1\n"
        "kind: ValidatingAdmissionPolicy\nmetadata: {name: nested}\nspec:\n"
        "  matchConstraints:\n    resourceRules:\n"
        "      - {apiGroups: [''], apiVersions: [v1], operations: [CREATE],"
        " resources: [configmaps]}\n"
        f'  validations:\n    - expression: "[0,1,2,3,4,5,6,7,8,9]{nested}"\n'
        "---\napiVersion: admissionregistration.k8s.io/v1\n"
        "kind: ValidatingAdmissionPolicyBinding\nmetadata: {name: nested}\n"
        "spec: {policyName: nested, validationActions: [Deny]}\n"
        "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n"
    )
    started = time.monotonic()
    report = lint_text(text, rules=["KL960"])
    assert time.monotonic() - started < 5
    (finding,) = report.active
    assert "Iteration budget exceeded" in finding.message


def test_a_run_without_cel_does_not_import_the_runtime() -> None:
    code = (
        "import sys\n"
        "from tests.conftest import lint_text\n"
        "lint_text('apiVersion: v1\\nkind: ConfigMap\\nmetadata: {name: a}\\n')\n"
        "print(*(m in sys.modules for m in ('cel_expr_python', 'klint.cel.sandbox',"
        " 'klint.checks.admission_policy', 'klint.checks.crd_validation')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert result.stdout.split() == ["False", "False", "False", "False"]


def test_without_the_runtime_policies_are_reported_not_evaluated(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from klint.cel import sandbox as module

    monkeypatch.setattr(module, "_runtime_available", lambda: False)
    text = (REPO / "fixtures" / "admission-policy" / "k8s-docs" / "demo-policy.yaml").read_text()
    report = lint_text(text, rules=["KL960", "KL961"])
    assert not report.notifications
    messages = {(f.rule_id, f.message) for f in report.active}
    from klint.cel.environment import unavailable_message

    assert messages == {("KL961", unavailable_message() + ".")}
    assert "klint[cel]" not in unavailable_message()  # an extra that installs nothing now

"""``check: cel``: custom rules written as one CEL expression over ``object`` and ``params``.

The rule file gives ``expression`` (top level, or in ``params``); it must be true for the
object to pass. Optional params: ``kinds`` (the kinds it applies to), ``message`` or
``messageExpression`` (CEL, for the finding's text); every other param is visible to the
expression as ``params.<name>``, so a config file can tune it like any rule's params.
Evaluation uses the same runtime, Kubernetes libraries and budget as admission policies.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from klint.cel.plan import Outcome, Plan, Step
from klint.cel.trace import traced_path
from klint.checks.base import Params, UnitContext, Violation
from klint.model.resource import Resource

RESERVED = frozenset({"expression", "kinds", "message", "messageExpression"})
CHUNK = 256  # objects per request to the evaluator


def cel_rule(resource: Resource, context: UnitContext, params: Params) -> Iterator[Violation]:
    """The object must satisfy the rule's CEL ``expression``."""
    kinds = params.get("kinds") or ()
    if kinds and resource.kind not in kinds:
        return
    key = f"cel-rule:{json.dumps(dict(params), sort_keys=True, default=str)}"
    outcomes = context.derived(key, lambda c: _evaluate_unit(c, params))
    outcome = outcomes.get(id(resource.data))
    if isinstance(outcome, str):
        yield Violation(("kind",), outcome)
    elif outcome is not None:
        yield from _violations(resource, params, outcome)


def _evaluate_unit(context: UnitContext, params: Params) -> dict[int, Outcome | str]:
    """The rule's outcome for every object of the unit it applies to, in one batch."""
    from klint.cel.environment import CelUnavailable
    from klint.cel.sandbox import evaluator

    kinds = params.get("kinds") or ()
    targets = [r for r in context.resources if not kinds or r.kind in kinds]
    step = Step("check", "", str(params["expression"]), str(params.get("messageExpression") or ""))
    plan = Plan(f"cel-rule#{hash((step.expression, step.message_expression))}", (step,))
    values = {key: value for key, value in params.items() if key not in RESERVED}
    batch = [(plan, {"object": r.data, "params": values}) for r in targets]
    try:
        outcomes: list[Outcome | str] = []
        for start in range(0, len(batch), CHUNK):
            outcomes.extend(evaluator().run(batch[start : start + CHUNK], context.budget))
    except CelUnavailable as error:
        outcomes = [f"{error}."] * len(targets)
    return {id(r.data): outcome for r, outcome in zip(targets, outcomes, strict=True)}


def _violations(resource: Resource, params: Params, outcome: Outcome) -> Iterator[Violation]:
    expression = str(params["expression"])
    label = f'{resource.kind or "object"} "{resource.name or "?"}"'
    if outcome.status == "budget":
        yield Violation(("kind",), f"the rule could not be evaluated on {label}: {outcome.detail}.")
    for failure in outcome.failures:
        if failure.kind == "compile":
            detail = failure.message.strip().splitlines()[0]
            yield Violation(("kind",), f"the rule's expression does not compile: {detail}.")
        elif failure.kind == "error":
            detail = failure.message.strip().splitlines()[0]
            yield Violation(
                traced_path(expression, resource.data, {}),
                f"{label}: the rule's expression failed: {detail}.",
            )
        else:
            text = failure.message or str(params.get("message") or f"fails `{expression}`")
            message = text if text.startswith(label) else f"{label}: {text}"
            yield Violation(traced_path(expression, resource.data, {}), f"{message.rstrip('.')}.")

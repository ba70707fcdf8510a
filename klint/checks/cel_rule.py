"""``check: cel``: custom rules written as one CEL expression over ``object`` and ``params``.

The rule file gives ``expression`` (top level, or in ``params``); it must be true for the
object to pass. Optional params: ``kinds`` (the kinds it applies to), ``message`` or
``messageExpression`` (CEL, for the finding's text); every other param is visible to the
expression as ``params.<name>``, so a config file can tune it like any rule's params.
Evaluation uses the same runtime, Kubernetes libraries and budget as admission policies.
"""

from __future__ import annotations

from collections.abc import Iterator

from klint.cel.plan import Plan, Step
from klint.cel.trace import traced_path
from klint.checks.base import Params, UnitContext, Violation
from klint.model.resource import Resource

RESERVED = frozenset({"expression", "kinds", "message", "messageExpression"})


def cel_rule(resource: Resource, context: UnitContext, params: Params) -> Iterator[Violation]:
    """The object must satisfy the rule's CEL ``expression``."""
    kinds = params.get("kinds") or ()
    if kinds and resource.kind not in kinds:
        return
    from klint.cel.environment import CelUnavailable
    from klint.cel.sandbox import evaluator

    expression = str(params["expression"])
    step = Step("check", "", expression, str(params.get("messageExpression") or ""))
    plan = Plan(f"cel-rule#{hash((step.expression, step.message_expression))}", (step,))
    values = {key: value for key, value in params.items() if key not in RESERVED}
    try:
        (outcome,) = evaluator().run([(plan, {"object": resource.data, "params": values})])
    except CelUnavailable as error:
        yield Violation(("kind",), f"{error}.")
        return
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

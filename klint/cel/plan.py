"""A plan: the expressions of one policy or rule, evaluated in order over one object.

Admission policies, CRD rules and CEL custom rules all reduce to the same shape: match
conditions that must hold (else the object is skipped), variables later expressions read
as ``variables.<name>``, and checks that must be true, each with an optional message
expression. :func:`run_plan` runs one plan; it is what the sandboxed evaluator executes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Step:
    """One expression: a ``condition``, a ``variable`` or a ``check``."""

    kind: str
    name: str
    expression: str
    message_expression: str = ""


@dataclass(frozen=True)
class Plan:
    """The steps of one policy/rule; ``key`` names it in problems."""

    key: str
    steps: tuple[Step, ...]


@dataclass(frozen=True)
class Failure:
    """A check that did not pass: ``kind`` is ``false``, ``error`` or ``compile``."""

    index: int  # the step's index in the plan
    kind: str
    message: str  # the evaluated message expression, or the error text


@dataclass(frozen=True)
class Outcome:
    """What a plan gave for one object: ``done``, ``skipped`` or ``budget``."""

    status: str
    failures: tuple[Failure, ...] = ()
    detail: str = ""


def compile_errors(plan: Plan) -> list[Failure]:
    """The steps of ``plan`` that do not compile (reported once, not per object)."""
    from klint.cel.environment import CelCompileError, compile_expression

    failures = []
    for index, step in enumerate(plan.steps):
        for text in (step.expression, step.message_expression):
            if not text:
                continue
            try:
                compile_expression(text)
            except CelCompileError as error:
                failures.append(Failure(index, "compile", str(error)))
    return failures


def run_plan(plan: Plan, bindings: dict[str, Any]) -> Outcome:
    """Evaluate ``plan`` over ``bindings`` (``object``, ``params``, ``self`` ...).

    A plan with a step that does not compile is not evaluated at all: its result would be
    unknown (the expression may use a library klint lacks), so only the errors come back.
    """
    from klint.cel.environment import CelEvalError, evaluate

    broken = compile_errors(plan)
    if broken:
        return Outcome("done", tuple(broken))
    scope = dict(bindings)
    variables: dict[str, Any] = {}
    scope["variables"] = variables
    failures: list[Failure] = []
    for index, step in enumerate(plan.steps):
        try:
            value = evaluate(step.expression, scope)
        except CelEvalError as error:
            if step.kind != "variable":  # an unused broken variable rejects nothing
                failures.append(Failure(index, "error", str(error)))
            if step.kind == "condition":
                return Outcome("done", tuple(failures))
            continue
        if step.kind == "variable":
            variables[step.name] = value
        elif not isinstance(value, bool):
            failures.append(Failure(index, "error", f"expected a boolean, got {_type(value)}"))
        elif step.kind == "condition" and not value:
            return Outcome("skipped")
        elif step.kind == "check" and not value:
            failures.append(Failure(index, "false", _message(step, scope)))
    return Outcome("done", tuple(failures))


def _message(step: Step, scope: dict[str, Any]) -> str:
    """The message expression's value; empty when it fails or is not a non-empty string."""
    from klint.cel.environment import CelCompileError, CelEvalError, evaluate

    if not step.message_expression:
        return ""
    try:
        value = evaluate(step.message_expression, scope)
    except (CelCompileError, CelEvalError):
        return ""
    return value.strip() if isinstance(value, str) and "\n" not in value else ""


def _type(value: Any) -> str:
    return {str: "string", int: "int", float: "double", list: "list", dict: "map"}.get(
        type(value), type(value).__name__
    )

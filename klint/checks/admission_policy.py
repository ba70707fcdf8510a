"""ValidatingAdmissionPolicies evaluated offline: what the cluster's own policies reject.

For each object, every binding whose policy and binding both match it (see
:mod:`klint.checks.admission_policy_match`) runs the policy as the API server would on
CREATE: ``matchConditions``, ``variables``, then each validation, with ``params``
resolved from the binding's ``paramRef`` and ``namespaceObject`` from the input. A
validation that is false (or fails, under ``failurePolicy: Fail``) is a finding named after
the policy and binding, with the binding's ``validationActions`` as its level (Deny →
error, Warn → warning, Audit → note), at the field the expression reads where it can be
traced. What klint could not evaluate is reported by a second rule.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from klint.cel.plan import Failure, Plan, Step
from klint.checks.admission_policy_match import (
    BINDING_KIND,
    POLICY_KIND,
    is_policy_object,
    matches,
    namespace_name,
    namespace_object,
    params_for,
    policy_set,
    resource_name,
)
from klint.checks.base import Check, Params, UnitContext, Violation
from klint.findings import FieldPath, Severity
from klint.model.resource import Resource

_ACTIONS = {"Deny": Severity.ERROR, "Warn": Severity.WARNING, "Audit": Severity.NOTE}
_VERBS = {Severity.ERROR: "denies", Severity.WARNING: "warns about", Severity.NOTE: "audits"}
_OBJECT_PATH = re.compile(r"\bobject((?:\.[A-Za-z_][A-Za-z0-9_]*|\[[0-9]+\])+)")
_VARIABLE = re.compile(r"\bvariables\.([A-Za-z_][A-Za-z0-9_]*)")


@dataclass
class Evaluation:
    """The findings of all policies for one object."""

    violations: list[Violation] = field(default_factory=list)
    problems: list[Violation] = field(default_factory=list)


_last: tuple[Any, weakref.ref[UnitContext], Evaluation] | None = None


def evaluate_policies(resource: Resource, context: UnitContext, params: Params) -> Evaluation:
    """Evaluate every matching policy once per object; both rules read the result."""
    global _last
    if _last is not None and _last[0] is resource.data and _last[1]() is context:
        return _last[2]
    result = _evaluate(resource, context, tuple(params.get("policy_files") or ()))
    _last = (resource.data, weakref.ref(context), result)
    return result


def _evaluate(resource: Resource, context: UnitContext, files: tuple[str, ...]) -> Evaluation:
    result = Evaluation()
    policies = policy_set(context, files)
    if not policies.bindings or is_policy_object(resource) or not resource.kind:
        return result
    batch: list[tuple[Plan, dict[str, Any]]] = []
    owners: list[tuple[Resource, Resource]] = []
    for binding in policies.bindings:
        policy = policies.policies.get(str(binding.get("spec", "policyName")))
        if policy is None or not _applies(policy, binding, resource, context):
            continue
        found = params_for(policy, binding, resource, policies.objects)
        if found is not None and not found:
            if binding.get("spec", "paramRef", "parameterNotFoundAction") != "Allow":
                result.problems.append(_problem(policy, binding, resource, _no_params(binding)))
            continue
        for param in found if found is not None else [None]:
            batch.append((plan_of(policy), _bindings(resource, context, param)))
            owners.append((policy, binding))
    if not batch:
        return result
    from klint.cel.environment import CelUnavailable
    from klint.cel.sandbox import evaluator

    try:
        outcomes = evaluator().run(batch)
    except CelUnavailable as error:
        result.problems.append(Violation(("kind",), f"{error}."))
        return result
    reported: set[tuple[str, int, str]] = set()
    compile_reported = context.derived("admission-policy-compile-errors", _new_set)
    for (policy, binding), (plan, _), outcome in zip(owners, batch, outcomes, strict=True):
        if outcome.status == "budget":
            result.problems.append(_problem(policy, binding, resource, outcome.detail))
        for failure in outcome.failures:
            key = (policy.name, failure.index, failure.kind)
            seen = compile_reported if failure.kind == "compile" else reported
            if key not in seen:
                seen.add(key)
                _report(result, policy, binding, resource, plan, failure)
    return result


def _new_set(_: UnitContext) -> set[tuple[str, int, str]]:
    return set()


def _applies(policy: Resource, binding: Resource, resource: Resource, ctx: UnitContext) -> bool:
    constraints = policy.get("spec", "matchConstraints")
    return constraints is not None and (
        matches(constraints, resource, ctx)
        and matches(binding.get("spec", "matchResources"), resource, ctx)
    )


def plan_of(policy: Resource) -> Plan:
    """The policy's expressions in evaluation order (conditions, variables, validations)."""
    steps = []
    for kind, key in (("condition", "matchConditions"), ("variable", "variables")):
        for item in _items(policy.get("spec", key)):
            steps.append(Step(kind, str(item.get("name", "")), str(item.get("expression", ""))))
    for index, item in enumerate(_items(policy.get("spec", "validations"))):
        message = item.get("messageExpression")
        steps.append(Step("check", str(index), str(item.get("expression", "")), str(message or "")))
    return Plan(f"ValidatingAdmissionPolicy/{policy.name}#{hash(tuple(steps))}", tuple(steps))


def _items(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _bindings(resource: Resource, context: UnitContext, param: Any) -> dict[str, Any]:
    group, _, version = resource.api_version.rpartition("/")
    kind = {"group": group, "version": version, "kind": resource.kind}
    namespace = namespace_object(resource, context)
    data = resource.data
    if namespace is not None and not resource.namespace:  # the API server sets it on CREATE
        metadata = {**resource.metadata, "namespace": namespace_name(namespace)}
        data = {**data, "metadata": metadata}
    return {
        "object": data,
        "oldObject": None,
        "params": param,
        "namespaceObject": namespace,
        "request": {
            "operation": "CREATE",
            "kind": kind,
            "resource": {**kind, "resource": resource_name(resource, context)},
            "requestKind": kind,
            "name": resource.name,
            "namespace": namespace_name(namespace) if namespace is not None else "",
            "userInfo": {"username": "", "groups": []},
            "dryRun": False,
        },
    }


def _report(
    result: Evaluation,
    policy: Resource,
    binding: Resource,
    resource: Resource,
    plan: Plan,
    failure: Failure,
) -> None:
    step = plan.steps[failure.index]
    who = _who(policy, binding)
    if failure.kind == "compile":
        where = {"condition": "matchCondition", "check": "validation"}.get(step.kind, step.kind)
        result.problems.append(
            Violation(
                ("kind",),
                f"{who}: {where} `{_short(step.expression)}` does not compile: "
                f"{_first_line(failure.message)}.",
            )
        )
        return
    if failure.kind == "error" and policy.get("spec", "failurePolicy") == "Ignore":
        return
    severity = _severity(binding)
    if failure.kind == "error":
        text = f"expression `{_short(step.expression)}` failed: {_first_line(failure.message)}"
    else:
        validation = _items(policy.get("spec", "validations"))[int(step.name)]
        text = failure.message or str(
            validation.get("message") or f"failed expression: {_short(step.expression)}"
        )
    path = traced_path(step.expression, resource.data, _variables(plan))
    result.violations.append(
        Violation(
            path,
            f"{who} {_VERBS[severity]} {resource.kind} {_quoted(resource.name)}: "
            f"{text.rstrip('.')}.",
            severity=severity,
            properties=(("policy", policy.name), ("binding", binding.name)),
        )
    )


def _severity(binding: Resource) -> Severity:
    actions = binding.get("spec", "validationActions")
    levels = [_ACTIONS[a] for a in actions if a in _ACTIONS] if isinstance(actions, list) else []
    return max(levels, key=lambda level: level.rank) if levels else Severity.ERROR


def _variables(plan: Plan) -> dict[str, str]:
    return {step.name: step.expression for step in plan.steps if step.kind == "variable"}


def traced_path(expression: str, data: Any, variables: dict[str, str], depth: int = 0) -> FieldPath:
    """The deepest existing field of the first ``object.a.b`` the expression reads."""
    match = _OBJECT_PATH.search(expression)
    if match is None:
        variable = _VARIABLE.search(expression)
        if variable is not None and variable.group(1) in variables and depth < 5:
            return traced_path(variables[variable.group(1)], data, variables, depth + 1)
        return ()
    path: list[str | int] = []
    current = data
    for part in re.findall(r"\.([A-Za-z_][A-Za-z0-9_]*)|\[([0-9]+)\]", match.group(1)):
        if part[0] and isinstance(current, dict) and part[0] in current:
            current = current[part[0]]
            path.append(part[0])
        elif part[1] and isinstance(current, list) and int(part[1]) < len(current):
            current = current[int(part[1])]
            path.append(int(part[1]))
        else:
            break
    return tuple(path)


def _problem(policy: Resource, binding: Resource, resource: Resource, detail: str) -> Violation:
    return Violation(
        ("kind",),
        f"{_who(policy, binding)} could not be evaluated on {resource.kind} "
        f"{_quoted(resource.name)}: {detail.rstrip('.')}.",
    )


def _no_params(binding: Resource) -> str:
    reference = binding.get("spec", "paramRef")
    name = reference.get("name") if isinstance(reference, dict) else None
    return (
        f'its params object "{name}" is not in the input' if name else "no params object matches"
    ) + " (parameterNotFoundAction: Deny rejects the request)"


def _who(policy: Resource, binding: Resource) -> str:
    return f"{POLICY_KIND} {_quoted(policy.name)} with binding {_quoted(binding.name)}"


def _quoted(name: str) -> str:
    return f'"{name or "?"}"'


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= 120 else text[:117] + "..."


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0].rstrip(".") if text.strip() else "error"


def policy_violation(
    resource: Resource, context: UnitContext, params: Params
) -> Iterator[Violation]:
    """Objects a ValidatingAdmissionPolicy of the input (or ``--policy``) rejects or warns about."""
    yield from evaluate_policies(resource, context, params).violations


_PARAMS = {
    "type": "object",
    "additionalProperties": False,
    "properties": {"policy_files": {"type": "array", "items": {"type": "string"}}},
}
PARAMS_SCHEMA = _PARAMS
CHECKS = (Check("admission-policy", policy_violation, policy_violation.__doc__ or "", _PARAMS),)
# The checks that read ``policy_files`` (``--policy``): this one and cel-not-evaluated.
POLICY_CHECKS = frozenset({"admission-policy", "cel-not-evaluated"})
__all__ = ["BINDING_KIND", "CHECKS", "PARAMS_SCHEMA", "POLICY_CHECKS"]

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

import json
from dataclasses import dataclass, field
from typing import Any

from klint.cel.plan import Failure, Outcome, Plan, Step
from klint.cel.trace import traced_path
from klint.checks.admission_policy_match import (
    POLICY_KIND,
    is_policy_object,
    matches,
    namespace_name,
    namespace_object,
    params_for,
    policy_set,
    resource_name,
)
from klint.checks.base import Params, UnitContext, Violation
from klint.findings import Severity
from klint.model.resource import Resource

_ACTIONS = {"Deny": Severity.ERROR, "Warn": Severity.WARNING, "Audit": Severity.NOTE}
_VERBS = {Severity.ERROR: "denies", Severity.WARNING: "warns about", Severity.NOTE: "audits"}


@dataclass
class Evaluation:
    """The findings of all policies for one object."""

    violations: list[Violation] = field(default_factory=list)
    problems: list[Violation] = field(default_factory=list)


_NOTHING = Evaluation()
CHUNK = 256  # plans per request to the evaluator


def evaluate_policies(resource: Resource, context: UnitContext, params: Params) -> Evaluation:
    """What the policies say about ``resource``; the whole unit is evaluated on first use.

    One batch per unit (in chunks) instead of one request per object: the evaluator runs
    in a child process, and a round trip costs more than most policies.
    """
    files = tuple(params.get("policy_files") or ())
    results = context.derived(f"admission-policy-results:{files}", lambda c: _evaluate(c, files))
    return results.get(id(resource.data), _NOTHING)


@dataclass(frozen=True)
class _Pending:
    resource: Resource
    policy: Resource
    binding: Resource
    plan: Plan
    bindings: dict[str, Any]


def _evaluate(context: UnitContext, files: tuple[str, ...]) -> dict[int, Evaluation]:
    """Every (object, binding, param) the policies apply to, evaluated in chunks as found.

    Nothing is built for the whole cross product at once: each object's request (a copy
    of the object with defaults) lives only until its chunk is evaluated, bindings repeated
    through YAML aliases count once, and equal requests are evaluated once.
    """
    results: dict[int, Evaluation] = {}
    policies = policy_set(context, files)
    if not policies.bindings:
        return results
    candidates: dict[tuple[str, ...], list[Resource]] = {}
    for candidate in policies.objects:
        candidates.setdefault((candidate.api_version, candidate.kind), []).append(candidate)
        key = (candidate.api_version, candidate.kind, candidate.name)
        candidates.setdefault(key, []).append(candidate)
    bound = [
        (policy, binding, plan_of(policy))
        for binding in _distinct(policies.bindings)
        if (policy := policies.policies.get(str(binding.get("spec", "policyName")))) is not None
    ]
    run = _Runner(results, context)
    for resource in context.resources:
        context.budget.check()
        if is_policy_object(resource) or not resource.kind:
            continue
        requests: dict[int, dict[str, Any]] = {}  # by param: this object's requests
        for policy, binding, plan in bound:
            if not _applies(policy, binding, resource, context):
                continue
            kind = policy.get("spec", "paramKind")
            wanted = (
                (str(kind.get("apiVersion")), str(kind.get("kind")))
                if isinstance(kind, dict)
                else ("", "")
            )
            name = binding.get("spec", "paramRef", "name")
            pool = candidates.get((*wanted, name) if isinstance(name, str) else wanted, [])
            found = params_for(policy, binding, resource, pool)
            if found is not None and not found:
                if binding.get("spec", "paramRef", "parameterNotFoundAction") != "Allow":
                    problem = _problem(policy, binding, resource, _no_params(binding))
                    _result(results, resource).problems.append(problem)
                continue
            for param in found if found is not None else [None]:
                request = requests.get(id(param))
                if request is None:
                    request = requests[id(param)] = _bindings(resource, context, param)
                run.add(_Pending(resource, policy, binding, plan, request))
    run.flush()
    return results


def _distinct(bindings: list[Resource]) -> list[Resource]:
    """Each binding once: copies (YAML aliases, repeated documents) would say the same."""
    seen: dict[str, Resource] = {}
    for binding in bindings:
        key = json.dumps(binding.data, sort_keys=True, default=str)
        seen.setdefault(key, binding)
    return list(seen.values())


def _result(results: dict[int, Evaluation], resource: Resource) -> Evaluation:
    return results.setdefault(id(resource.data), Evaluation())


class _Runner:
    """Evaluates pending requests a chunk at a time and files their findings."""

    def __init__(self, results: dict[int, Evaluation], context: UnitContext) -> None:
        self.results = results
        self.context = context
        self.pending: list[_Pending] = []
        self.unavailable = ""
        self.compile_reported: set[tuple[str, int, str]] = set()
        self.reported: set[tuple[int, str, int, str]] = set()

    def add(self, item: _Pending) -> None:
        self.pending.append(item)
        if len(self.pending) >= CHUNK:
            self.flush()

    def flush(self) -> None:
        from klint.cel.environment import CelUnavailable
        from klint.cel.sandbox import evaluator

        chunk, self.pending = self.pending, []
        if not chunk:
            return
        try:
            if self.unavailable:
                raise CelUnavailable(self.unavailable)
            batch = [(item.plan, item.bindings) for item in chunk]
            outcomes = evaluator().run(batch, self.context.budget)
        except CelUnavailable as error:
            self.unavailable = str(error)
            for item in chunk:
                problems = _result(self.results, item.resource).problems
                if not problems or problems[-1].message != f"{error}.":
                    problems.append(Violation(("kind",), f"{error}."))
            return
        for item, outcome in zip(chunk, outcomes, strict=True):
            self._file(item, outcome)

    def _file(self, item: _Pending, outcome: Outcome) -> None:
        result = _result(self.results, item.resource)
        if outcome.status == "budget":
            result.problems.append(
                _problem(item.policy, item.binding, item.resource, outcome.detail)
            )
        for failure in outcome.failures:
            if failure.kind == "compile":
                key = (item.policy.name, failure.index, failure.kind)
                if key in self.compile_reported:
                    continue
                self.compile_reported.add(key)
            else:
                local = (id(item.resource.data), item.policy.name, failure.index, failure.kind)
                if local in self.reported:
                    continue
                self.reported.add(local)
            _report(result, item.policy, item.binding, item.resource, item.plan, failure)


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
    from klint.checks.admission_defaults import with_defaults

    namespace = namespace_object(resource, context)
    data = with_defaults(resource)
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

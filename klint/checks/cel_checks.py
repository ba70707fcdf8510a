"""The CEL checks, registered without loading them: policies, CRD rules, ``check: cel``.

The modules that evaluate CEL (and the runtime itself) are imported only when a unit has
something for them: a ValidatingAdmissionPolicyBinding or ``--policy`` files, a
CustomResourceDefinition or ``--crd`` files, or a custom rule with ``check: cel``. A run
without any of these costs one cheap test per object and rule.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from klint.checks.base import Check, Params, UnitContext, Violation
from klint.model.resource import Resource

POLICY_PARAMS: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {"policy_files": {"type": "array", "items": {"type": "string"}}},
}
# The checks that read ``policy_files`` (``--policy``).
POLICY_CHECKS = frozenset({"admission-policy", "cel-not-evaluated"})
BINDING_KINDS = ("ValidatingAdmissionPolicyBinding",)


def _has_policies(context: UnitContext, params: Params) -> bool:
    return bool(params.get("policy_files")) or bool(context.of_kind(*BINDING_KINDS))


def _has_crds(context: UnitContext) -> bool:
    return bool(context.crd_paths) or bool(context.of_kind("CustomResourceDefinition"))


def admission_policy(
    resource: Resource, context: UnitContext, params: Params
) -> Iterable[Violation]:
    """Objects a ValidatingAdmissionPolicy of the input (or ``--policy``) rejects or warns about."""
    if not _has_policies(context, params):
        return ()
    from klint.checks.admission_policy import evaluate_policies

    return evaluate_policies(resource, context, params).violations


def crd_rules(resource: Resource, context: UnitContext, _: Params) -> Iterable[Violation]:
    """Custom resources that break a CRD validation rule (and CRD rules that do not compile)."""
    if not _has_crds(context):
        return ()
    from klint.checks.crd_validation import evaluate_crd_rules

    return evaluate_crd_rules(resource, context).violations


def cel_not_evaluated(
    resource: Resource, context: UnitContext, params: Params
) -> Iterable[Violation]:
    """Policies and CRD rules klint could not evaluate (compile errors, budget, params)."""
    found: list[Violation] = []
    if _has_policies(context, params):
        from klint.checks.admission_policy import evaluate_policies

        found.extend(evaluate_policies(resource, context, params).problems)
    if _has_crds(context):
        from klint.checks.crd_validation import evaluate_crd_rules

        found.extend(evaluate_crd_rules(resource, context).problems)
    return found


def cel_rule(resource: Resource, context: UnitContext, params: Params) -> Iterable[Violation]:
    """Custom rules: a CEL expression over ``object`` (and ``params``) must be true."""
    from klint.checks.cel_rule import cel_rule as evaluate

    return evaluate(resource, context, params)


CEL_CHECK = Check(
    "cel",
    cel_rule,
    "Custom rules: a CEL expression over `object` (and `params`) must be true.",
    {
        "type": "object",
        "required": ["expression"],
        "properties": {
            "expression": {"type": "string", "minLength": 1},
            "kinds": {"type": "array", "items": {"type": "string"}, "minItems": 1},
            "message": {"type": "string", "minLength": 1},
            "messageExpression": {"type": "string", "minLength": 1},
        },
    },
)
CHECKS = (
    Check("admission-policy", admission_policy, admission_policy.__doc__ or "", POLICY_PARAMS),
    Check("cel-not-evaluated", cel_not_evaluated, cel_not_evaluated.__doc__ or "", POLICY_PARAMS),
    Check("crd-validation-rules", crd_rules, crd_rules.__doc__ or ""),
)

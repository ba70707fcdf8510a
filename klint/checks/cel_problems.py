"""What klint could not evaluate: admission policies and CRD rules that it had to skip."""

from __future__ import annotations

from collections.abc import Iterator

from klint.checks.admission_policy import PARAMS_SCHEMA, evaluate_policies
from klint.checks.base import Check, Params, UnitContext, Violation
from klint.checks.crd_validation import evaluate_crd_rules
from klint.model.resource import Resource


def cel_not_evaluated(
    resource: Resource, context: UnitContext, params: Params
) -> Iterator[Violation]:
    """Policies and CRD rules klint could not evaluate (compile errors, budget, params)."""
    yield from evaluate_policies(resource, context, params).problems
    yield from evaluate_crd_rules(resource, context).problems


CHECKS = (
    Check("cel-not-evaluated", cel_not_evaluated, cel_not_evaluated.__doc__ or "", PARAMS_SCHEMA),
)

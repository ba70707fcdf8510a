"""Units → documents → resources → checks → findings.

The engine knows nothing about flags or output formats. It runs the selected rules over
each lint unit, turns each violation's field path into a location through the unit's
locator, applies the configured severity and collects everything in a :class:`Report`.
"""

from __future__ import annotations

from klint.errors import KlintError

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from klint.catalog import Rule
from klint.checks import REGISTRY, Check, UnitContext, Violation
from klint.findings import Finding, Notification, Report, Severity
from klint.model.resource import Resource, resources_from_document
from klint.sources.base import LintUnit, LoadedUnit, LoadSettings


class EngineError(KlintError):
    """A rule refers to an unknown check or carries invalid params."""


@dataclass(frozen=True)
class ActiveRule:
    """A selected rule bound to its check, params and effective severity."""

    rule: Rule
    check: Check
    params: dict[str, Any]
    severity: Severity | None  # a configured override; None keeps the rule's/violation's


@dataclass
class UnitResult:
    """What linting one unit produced."""

    findings: list[Finding] = field(default_factory=list)
    notifications: list[Notification] = field(default_factory=list)
    files: int = 0
    objects: int = 0


def bind_rules(
    rules: Sequence[Rule],
    severity_overrides: dict[str, Severity] | None = None,
    param_overrides: dict[str, dict[str, Any]] | None = None,
    *,
    validate_builtin: bool = False,
) -> list[ActiveRule]:
    """Attach each rule to its registered check and validate the merged params.

    Built-in rules with their own params are validated by the test suite, so start-up
    skips them (jsonschema costs ~40 ms to import); custom rules and overrides are always
    validated.
    """
    severity_overrides = severity_overrides or {}
    param_overrides = param_overrides or {}
    active = []
    for rule in rules:
        check = REGISTRY.get(rule.check)
        if check is None:
            raise EngineError(f"{rule.source}: rule {rule.id} uses unknown check {rule.check!r}")
        params = {**rule.params, **param_overrides.get(rule.id, {})}
        if validate_builtin or not rule.builtin or rule.id in param_overrides:
            _validate_params(rule, check, params)
        active.append(ActiveRule(rule, check, params, severity_overrides.get(rule.id)))
    return active


def _validate_params(rule: Rule, check: Check, params: dict[str, Any]) -> None:
    if not check.params_schema:
        if params:
            raise EngineError(f"{rule.source}: check {check.name!r} takes no params")
        return
    import jsonschema

    merged = {**check.defaults, **params}
    errors = list(jsonschema.Draft202012Validator(check.params_schema).iter_errors(merged))
    if errors:
        raise EngineError(f"{rule.source}: params of rule {rule.id}: {errors[0].message}")


def lint_unit(
    unit: LintUnit, rules: Sequence[ActiveRule], settings: LoadSettings, kube_version: tuple[int, int]
) -> UnitResult:
    """Load one unit and run every rule over its objects."""
    loaded = unit.load(settings)
    result = UnitResult(notifications=list(loaded.problems), files=loaded.files)
    resources = [r for document in loaded.documents for r in resources_from_document(document)]
    result.objects = len(resources)
    context = UnitContext(resources, kube_version)
    for resource in resources:
        for active in rules:
            for violation in _run(active, resource, context, result):
                result.findings.append(_finding(active, resource, violation, loaded))
    return result


def _run(
    active: ActiveRule, resource: Resource, context: UnitContext, result: UnitResult
) -> Iterable[Violation]:
    """Run a check, turning an unexpected exception into a notification, never a crash."""
    try:
        return list(active.check.run(resource, context, active.params))
    except Exception as error:  # noqa: BLE001 - a bug in one check must not stop the run
        location, _ = _locate_root(resource)
        result.notifications.append(
            Notification(
                "internal-check-error",
                f"rule {active.rule.id} failed on {resource.ref.describe()}: "
                f"{type(error).__name__}: {error}",
                location,
                fatal=True,
            )
        )
        return []


def _locate_root(resource: Resource) -> tuple[Any, Any]:
    from klint.sources.base import DocumentLocator

    return DocumentLocator().locate(resource, ())


def _finding(
    active: ActiveRule, resource: Resource, violation: Violation, loaded: LoadedUnit
) -> Finding:
    location, related = loaded.locator.locate(resource, violation.path)
    severity = active.severity or violation.severity or active.rule.severity
    return Finding(
        rule_id=active.rule.id,
        rule_name=active.rule.name,
        severity=severity,
        message=violation.message,
        location=location,
        object_ref=resource.ref,
        field_path=violation.path,
        related=related,
        properties=violation.properties,
    )


def lint(
    units: Sequence[LintUnit],
    rules: Sequence[ActiveRule],
    settings: LoadSettings,
    kube_version: tuple[int, int],
) -> Report:
    """Lint every unit in order and return the sorted report."""
    report = Report(rule_ids=[active.rule.id for active in rules])
    for unit in units:
        result = lint_unit(unit, rules, settings, kube_version)
        report.findings.extend(result.findings)
        report.notifications.extend(result.notifications)
        report.files_scanned += result.files
        report.objects_scanned += result.objects
    report.sort()
    return report

"""The engine's vocabulary: rules bound to their checks, one unit's results, the unit hook.

Kept apart from :mod:`klint.engine` (which re-exports them) so that module stays about
running units; ``bind_rules`` validates custom rules' and overridden params here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from types import MappingProxyType
from typing import Any, Protocol

from klint.catalog import Rule
from klint.checks import REGISTRY, Check
from klint.checks.base import CheckFunction
from klint.checks.rbac_rules import grants_everything, is_rbac
from klint.errors import KlintError
from klint.findings import Finding, Notification, Severity
from klint.model.resource import Resource
from klint.sources.base import LoadedUnit


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
    skipped: list[Notification] = field(default_factory=list)
    file_paths: frozenset[str] | None = None  # the files counted, where the unit knows them


@dataclass
class PackedResult(UnitResult):
    """A worker's result with its findings pickled (~110 B each instead of ~480 as objects):
    they wait packed in the parent until the workers are gone."""

    packed: bytes = b""


def packed(result: UnitResult) -> PackedResult:
    """``result`` with its findings packed (by a worker, for the parent)."""
    kept = {f.name: getattr(result, f.name) for f in fields(UnitResult) if f.name != "findings"}
    import pickle  # a worker's: a serial run never packs

    return PackedResult(packed=pickle.dumps(result.findings, pickle.HIGHEST_PROTOCOL), **kept)


def unpacked(result: UnitResult) -> UnitResult:
    """``result`` with its findings as objects (a worker sends them packed)."""
    if not isinstance(result, PackedResult):
        return result
    kept = {f.name: getattr(result, f.name) for f in fields(UnitResult) if f.name != "findings"}
    import pickle

    return UnitResult(findings=pickle.loads(result.packed), **kept)


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


def bound_checks(
    rules: Sequence[ActiveRule],
) -> list[tuple[ActiveRule, CheckFunction, Mapping[str, Any]]]:
    """Each rule with its check function and its params merged over the check's defaults
    once (what ``Check.run`` does per call), read-only as every call gets the same ones."""
    return [
        (active, active.check.function, MappingProxyType(_merged_params(active)))
        for active in rules
    ]


def _merged_params(active: ActiveRule) -> dict[str, Any]:
    return {**active.check.defaults, **active.params}


def without_replaced(
    pairs: list[tuple[Resource, Finding]], rules: Sequence[ActiveRule]
) -> list[tuple[Resource, Finding]]:
    """Each PSS violation once, under the most basic rule that reports it.

    A restricted PSS rule that ``overrides`` a baseline one finds what it finds and more.
    Where the baseline rule ran too and reported the same field of the same object, and the
    restricted violation says it violates that baseline control (``pss-also-violates``),
    the baseline finding stands (its id, wording and severity, so suppressions and
    configuration by its id act on it) and the restricted rule reports only what it adds.
    """
    controls = {a.rule.id: _pss_control(a.rule) for a in rules}
    replaced = {a.rule.id: a.rule.overrides for a in rules if a.rule.overrides}
    if not replaced:
        return pairs
    reported = {(id(resource), f.rule_id, f.field_path) for resource, f in pairs}

    def duplicate(resource: Resource, finding: Finding) -> bool:
        also = dict(finding.properties).get("pss-also-violates")
        return also is not None and any(
            controls.get(base) == also and (id(resource), base, finding.field_path) in reported
            for base in replaced.get(finding.rule_id, ())
        )

    return [(resource, f) for resource, f in pairs if not duplicate(resource, f)]


def _pss_control(rule: Rule) -> str | None:
    pss = rule.references.get("pss")
    return str(pss.get("check")) if isinstance(pss, dict) and pss.get("check") else None


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


class UnitHook(Protocol):
    """Post-processing of one unit's findings while its objects and files are at hand.

    Suppressions use it: they need the object a finding came from and the raw lines.
    """

    def __call__(
        self,
        loaded: LoadedUnit,
        resources: Sequence[Resource],
        pairs: Sequence[tuple[Resource, Finding]],
    ) -> tuple[list[Finding], list[Notification]]: ...


WILDCARD_RULE = "KL501"
# Rules that report a permission a role rule grants (KL502-KL514): all implied by `*`/`*`/`*`.
PERMISSION_RULES = frozenset(f"KL{n}" for n in range(502, 515))


def implied_by_wildcard(
    pairs: list[tuple[Resource, Finding]],
) -> list[tuple[Resource, Finding]]:
    """Permission findings on a role rule that grants everything (``*`` groups, resources
    and verbs) are notes that point to the wildcard finding on the same rule: one finding
    says the rule allows everything, and the permissions it implies add nothing. A rule more
    severe than the wildcard finding keeps its level once (the most severe, by rule id), so
    the rule's severity shows; the other severe ones point to it."""
    wildcards: dict[tuple[int, Any], int] = {}
    for resource, finding in pairs:
        path = finding.field_path
        if finding.rule_id == WILDCARD_RULE and len(path) > 1 and isinstance(path[1], int):
            rules = resource.data.get("rules")
            rule = rules[path[1]] if isinstance(rules, list) and len(rules) > path[1] else None
            if isinstance(rule, dict) and grants_everything(rule):
                key = (id(resource), path[1])
                wildcards[key] = max(wildcards.get(key, 0), finding.severity.rank)
    if not wildcards:
        return pairs
    kept: dict[tuple[int, Any], tuple[int, str]] = {}  # the severe one that keeps its level
    for resource, finding in pairs:
        rule = _permission_key(resource, finding)
        if rule is not None and rule in wildcards and finding.severity.rank > wildcards[rule]:
            candidate = (-finding.severity.rank, finding.rule_id)
            kept[rule] = min(kept.get(rule, candidate), candidate)
    return [(resource, _implied(resource, f, wildcards, kept)) for resource, f in pairs]


def _permission_key(resource: Resource, finding: Finding) -> tuple[int, Any] | None:
    """The role rule a permission finding is on (object, rule index); None for others."""
    path = finding.field_path
    if finding.rule_id not in PERMISSION_RULES or len(path) < 2 or path[0] != "rules":
        return None
    return (id(resource), path[1])


def _implied(
    resource: Resource,
    finding: Finding,
    wildcards: dict[tuple[int, Any], int],
    kept: dict[tuple[int, Any], tuple[int, str]],
) -> Finding:
    key = _permission_key(resource, finding)
    rank = wildcards.get(key) if key is not None else None
    if key is None or rank is None or finding.severity is Severity.NOTE:
        return finding
    reported = WILDCARD_RULE
    if rank < finding.severity.rank:
        keeper = kept[key][1]
        if finding.rule_id == keeper:
            return finding
        reported = f"{WILDCARD_RULE} and {keeper}"
    message = finding.message.rstrip(".")
    return replace(
        finding,
        severity=Severity.NOTE,
        message=f"{message} (implied by the wildcard rule reported as {reported}; kept as a note).",
        properties=(*finding.properties, ("expected-for", "wildcard-rule")),
    )


ADMIN_BINDING_RULE = "KL515"
_BINDINGS = ("RoleBinding", "ClusterRoleBinding")
_ROLE_FINDINGS = PERMISSION_RULES | {WILDCARD_RULE}


def implied_by_admin_binding(
    pairs: list[tuple[Resource, Finding]], resources: Sequence[Resource]
) -> list[tuple[Resource, Finding]]:
    """Findings on a role (KL501-KL514) whose every subject already holds every permission
    through a ClusterRoleBinding reported by KL515 (cluster-admin, or a role that allows
    everything) are notes that point to that binding: the narrower role adds nothing the
    subject does not have, and the binding is the line to edit. A role with no binding in
    the unit, or one subject without such a binding, keeps its findings."""
    admins: dict[tuple[str, str, str], Resource] = {}
    for resource, finding in pairs:
        if finding.rule_id == ADMIN_BINDING_RULE and is_rbac(resource, ("ClusterRoleBinding",)):
            for subject in _subject_keys(resource):
                admins.setdefault(subject, resource)
    if not admins:
        return pairs
    by_ref: dict[tuple[str, str], list[Resource]] = {}
    for binding in resources:
        ref = binding.data.get("roleRef") if is_rbac(binding, _BINDINGS) else None
        if isinstance(ref, dict):
            by_ref.setdefault((str(ref.get("kind")), str(ref.get("name"))), []).append(binding)
    holders: dict[int, Resource | None] = {}

    def holder(role: Resource) -> Resource | None:
        if id(role) not in holders:
            bindings = by_ref.get((role.kind, role.name), [])
            holders[id(role)] = _admin_holder(role, bindings, admins)
        return holders[id(role)]

    result = []
    for resource, finding in pairs:
        if finding.rule_id in _ROLE_FINDINGS and finding.severity is not Severity.NOTE:
            admin = holder(resource) if resource.kind in ("Role", "ClusterRole") else None
            if admin is not None:
                finding = replace(
                    finding,
                    severity=Severity.NOTE,
                    message=f"{finding.message.rstrip('.')} (every subject bound to this role "
                    f'already holds every permission through ClusterRoleBinding "{admin.name}", '
                    f"reported as {ADMIN_BINDING_RULE}; kept as a note).",
                    properties=(*finding.properties, ("expected-for", "subject-holds-everything")),
                )
        result.append((resource, finding))
    return result


def _admin_holder(
    role: Resource, bindings: Sequence[Resource], admins: dict[tuple[str, str, str], Resource]
) -> Resource | None:
    """The admin binding every subject of every binding of ``role`` holds (the first, by
    binding order), None when the role is unbound or one subject holds none."""
    found: Resource | None = None
    bound = False
    for binding in bindings:
        if not _names(binding, role):
            continue
        bound = True
        for subject in _subject_keys(binding):
            admin = admins.get(subject)
            if admin is None or admin is binding:
                return None
            found = found or admin
    return found if bound else None


def _names(binding: Resource, role: Resource) -> bool:
    """Whether the binding's roleRef is ``role`` (a Role only from its own namespace)."""
    ref = binding.data.get("roleRef")
    if not isinstance(ref, dict) or ref.get("kind") != role.kind or ref.get("name") != role.name:
        return False
    return role.kind == "ClusterRole" or (binding.namespace or "") == (role.namespace or "")


def _subject_keys(binding: Resource) -> list[tuple[str, str, str]]:
    """(kind, name, namespace) of each subject; a ServiceAccount's namespace defaults to the
    binding's, other kinds have none."""
    subjects = binding.data.get("subjects")
    keys = []
    for subject in subjects if isinstance(subjects, list) else []:
        if not isinstance(subject, dict):
            continue
        kind, name = str(subject.get("kind") or ""), str(subject.get("name") or "")
        namespace = ""
        if kind == "ServiceAccount":
            namespace = str(subject.get("namespace") or binding.namespace or "")
        keys.append((kind, name, namespace))
    return keys

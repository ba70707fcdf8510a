"""CRD validation rules (``x-kubernetes-validations``) evaluated on the custom resources.

The CRD comes from the lint unit or ``--crd`` (the schema rules' index). The schema and
the object are walked together; at every node with rules, each rule is evaluated with
``self`` bound to the value there, after the schema's ``default`` values are filled in as
the API server does before validating. Transition rules (those reading ``oldSelf``) need
the stored object and are skipped, except those with ``optionalOldSelf: true``, which the
API server runs on create too, with ``oldSelf`` an empty optional. A failing rule is
reported at its ``fieldPath`` when given, else at the node, with its ``message`` /
``messageExpression`` and ``reason``. Rules that do not compile, or do not type-check
against the schema (:mod:`klint.checks.crd_validation_types`), and list-map keys that
collide once defaults are applied are reported too.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from klint.cel.plan import Plan, Step
from klint.checks.base import UnitContext, Violation
from klint.checks.schema import crd_schemas
from klint.findings import FieldPath, field_path_text
from klint.k8s_schemas import shared
from klint.model.resource import Resource

MAX_RULE_VALUES = 5_000  # (rule, value) pairs per object; the rest are not evaluated
_OLD_SELF = re.compile(r"\boldSelf\b")
_FIELD_PART = re.compile(r"\.([A-Za-z_$][A-Za-z0-9_$-]*)|\['((?:[^'\\]|\\.)*)'\]|\[([0-9]+)\]")
_REASONS = {
    "FieldValueInvalid": "Invalid value",
    "FieldValueForbidden": "Forbidden",
    "FieldValueRequired": "Required value",
    "FieldValueDuplicate": "Duplicate value",
}


@dataclass(frozen=True)
class RuleAt:
    """One rule of the schema and the value its ``self`` is bound to."""

    rule: dict[str, Any]
    path: FieldPath
    value: Any
    on_create: bool = False  # an ``optionalOldSelf`` rule: ``oldSelf`` is ``optional.none()``


@dataclass
class CrdEvaluation:
    """Violations and evaluation problems for one object."""

    violations: list[Violation] = field(default_factory=list)
    problems: list[Violation] = field(default_factory=list)


_NOTHING = CrdEvaluation()
CHUNK = 512  # (rule, value) pairs per request to the evaluator


def evaluate_crd_rules(resource: Resource, context: UnitContext) -> CrdEvaluation:
    """The CRD rule findings of ``resource``; the whole unit is evaluated on first use."""
    results = context.derived("crd-rule-results", _evaluate_unit)
    return results.get(id(resource.data), _NOTHING)


def _evaluate_unit(context: UnitContext) -> dict[int, CrdEvaluation]:
    results: dict[int, CrdEvaluation] = {}
    pending: list[tuple[Resource, RuleAt]] = []
    schemas = crd_schemas(context)
    for resource in context.resources:
        context.budget.check()
        if resource.kind == "CustomResourceDefinition":
            problems = list(_compile_problems(resource))
            if problems:
                results.setdefault(id(resource.data), CrdEvaluation()).violations.extend(problems)
            continue
        crd = schemas.get((resource.api_version, resource.kind))
        if crd is None or crd.schema is None:
            continue
        found: list[RuleAt] = []
        defaulted = with_defaults(crd.schema, resource.data)
        duplicates = list(list_key_duplicates(crd.schema, defaulted, (), resource))
        if duplicates:
            results.setdefault(id(resource.data), CrdEvaluation()).violations.extend(duplicates)
        collect(crd.schema, defaulted, (), found)
        pending.extend((resource, item) for item in found)
    if pending:
        _run(pending, results, context)
    return results


def _run(
    pending: list[tuple[Resource, RuleAt]],
    results: dict[int, CrdEvaluation],
    context: UnitContext,
) -> None:
    from klint.cel.environment import CelUnavailable
    from klint.cel.sandbox import evaluator

    batch = [(_plan(item.rule, item.on_create), {"self": item.value}) for _, item in pending]
    try:
        outcomes = []
        for start in range(0, len(batch), CHUNK):
            outcomes.extend(evaluator().run(batch[start : start + CHUNK], context.budget))
    except CelUnavailable as error:
        for resource in {id(r.data): r for r, _ in pending}.values():
            result = results.setdefault(id(resource.data), CrdEvaluation())
            result.problems.append(Violation(("kind",), f"{error}."))
        return
    for (resource, item), outcome in zip(pending, outcomes, strict=True):
        result = results.setdefault(id(resource.data), CrdEvaluation())
        label = f'{resource.kind} "{resource.name or "?"}"'
        rule_text = str(item.rule.get("rule"))
        if outcome.status == "budget":
            result.problems.append(
                Violation(
                    item.path,
                    f"validation rule `{_short(rule_text)}` could not be evaluated on {label}: "
                    f"{outcome.detail}.",
                )
            )
        for failure in outcome.failures:
            if failure.kind == "compile":
                continue  # reported on the CRD
            path = (*item.path, *field_path(str(item.rule.get("fieldPath") or "")))
            result.violations.append(Violation(path, _message(item, failure, label, path)))


def _message(item: RuleAt, failure: Any, label: str, path: FieldPath) -> str:
    rule_text = str(item.rule.get("rule"))
    where = field_path_text(path) or "the object"
    reason = _REASONS.get(str(item.rule.get("reason") or ""), "Invalid value")
    if failure.kind == "error":
        text = f"rule `{_short(rule_text)}` failed: {failure.message}"
    else:
        text = failure.message or str(item.rule.get("message") or f"failed rule: {rule_text}")
    return f"{label}: {where}: {reason}: {text.strip().rstrip('.')} (CRD validation rule)."


def _plan(rule: dict[str, Any], on_create: bool = False) -> Plan:
    text = str(rule.get("rule", ""))
    message = str(rule.get("messageExpression") or "")
    if on_create:  # a create: there is no old object, so oldSelf is an empty optional
        text = f"cel.bind(oldSelf, optional.none(), ({text}))"
        message = message and f"cel.bind(oldSelf, optional.none(), ({message}))"
    step = Step("check", "", text, message)
    return Plan(f"crd-rule#{hash((text, step.message_expression))}", (step,))


def collect(schema: Any, value: Any, path: FieldPath, found: list[RuleAt]) -> None:
    """Every (rule, value) below ``schema`` for ``value``, depth first, bounded."""
    if not isinstance(schema, dict) or len(found) >= MAX_RULE_VALUES or value is None:
        return
    for rule in schema.get("x-kubernetes-validations") or ():
        text = rule.get("rule") if isinstance(rule, dict) else None
        if isinstance(text, str) and not _OLD_SELF.search(text):
            found.append(RuleAt(rule, path, value))
        elif isinstance(text, str) and rule.get("optionalOldSelf") is True:
            found.append(RuleAt(rule, path, value, on_create=True))
    if isinstance(value, dict):
        properties = schema.get("properties")
        additional = schema.get("additionalProperties")
        for key, item in value.items():
            if isinstance(properties, dict) and key in properties:
                collect(properties[key], item, (*path, str(key)), found)
            elif isinstance(additional, dict):
                collect(additional, item, (*path, str(key)), found)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            collect(schema.get("items"), item, (*path, index), found)


def list_key_duplicates(
    schema: Any, value: Any, path: FieldPath, resource: Resource
) -> Iterator[Violation]:
    """Entries of ``x-kubernetes-list-type: map`` lists that share their keys, and repeated
    items of ``set`` lists, after defaulting (the API server's "Duplicate value")."""
    if not isinstance(schema, dict) or value is None:
        return
    if isinstance(value, list):
        kind, keys = schema.get("x-kubernetes-list-type"), schema.get("x-kubernetes-list-map-keys")
        seen: set[str] = set()
        for index, item in enumerate(value):
            if kind == "map" and isinstance(keys, list) and isinstance(item, dict):
                identity = json.dumps({str(k): item.get(str(k)) for k in keys}, sort_keys=True)
            elif kind == "set":
                identity = json.dumps(item, sort_keys=True, default=str)
            else:
                identity = ""
            if identity and identity in seen:
                label = f'{resource.kind} "{resource.name or "?"}"'
                where = field_path_text((*path, index))
                yield Violation(
                    (*path, index),
                    f"{label}: {where}: Duplicate value: {identity} (list-{kind} keys must be "
                    "unique once the schema's defaults are applied).",
                )
            seen.add(identity)
            yield from list_key_duplicates(schema.get("items"), item, (*path, index), resource)
    elif isinstance(value, dict):
        properties = schema.get("properties")
        additional = schema.get("additionalProperties")
        for key, item in value.items():
            if isinstance(properties, dict) and key in properties:
                yield from list_key_duplicates(properties[key], item, (*path, str(key)), resource)
            elif isinstance(additional, dict):
                yield from list_key_duplicates(additional, item, (*path, str(key)), resource)


def with_defaults(schema: Any, value: Any) -> Any:
    """``value`` with the schema's ``default`` values filled in (a copy; depth-bounded)."""
    result = copy.deepcopy(value)
    _fill_defaults(schema, result, 0)
    return result


def _fill_defaults(schema: Any, value: Any, depth: int) -> None:
    if not isinstance(schema, dict) or depth > 64:
        return
    if isinstance(value, dict):
        properties = schema.get("properties")
        if isinstance(properties, dict):
            for key, sub in properties.items():
                if key not in value and isinstance(sub, dict) and "default" in sub:
                    value[key] = copy.deepcopy(sub["default"])
                if key in value:
                    _fill_defaults(sub, value[key], depth + 1)
    elif isinstance(value, list):
        for item in value:
            _fill_defaults(schema.get("items"), item, depth + 1)


def field_path(text: str) -> FieldPath:
    """``.spec.x['a.b'][0]`` → ``("spec", "x", "a.b", 0)``; unparsable parts end it."""
    parts: list[str | int] = []
    position = 0
    while position < len(text):
        match = _FIELD_PART.match(text, position)
        if match is None:
            break
        name, quoted, index = match.groups()
        parts.append(int(index) if index is not None else (name or quoted.replace("\\'", "'")))
        position = match.end()
    return tuple(parts)


def _compile_problems(crd: Resource) -> Iterator[Violation]:
    from klint.cel.environment import CelCompileError, CelUnavailable, compile_expression

    for path, rule in _crd_rules(crd.data, ()):
        for key in ("rule", "messageExpression"):
            text = rule.get(key)
            if not isinstance(text, str):
                continue
            try:
                compile_expression(text)
                detail = "" if key != "rule" else _type_problem(crd.data, path, rule, text)
            except CelUnavailable:
                return
            except CelCompileError as error:
                detail = str(error).strip().splitlines()[0]
            if detail:
                yield Violation(
                    (*path, key),
                    f"CRD validation {key} `{_short(text)}` does not compile: {detail}; "
                    "the API server rejects this CustomResourceDefinition.",
                )


def _type_problem(crd: Any, path: FieldPath, rule: dict[str, Any], text: str) -> str:
    """The rule type-checked against the schema node it sits on (see crd_validation_types)."""
    from klint.checks.crd_validation_types import type_problem
    from klint.model.resource import dig

    node_path = path[:-2]
    root = bool(node_path) and node_path[-1] == "openAPIV3Schema"
    optional = rule.get("optionalOldSelf") is True
    return type_problem(text, dig(crd, node_path), root=root, optional_old_self=optional)


_SHARED_RULES: dict[int, tuple[Any, list[tuple[FieldPath, dict[str, Any]]]]] = {}


def _crd_rules(value: Any, path: FieldPath) -> Iterator[tuple[FieldPath, dict[str, Any]]]:
    if shared(value):  # a schema many overlays hold: walked once
        found = _SHARED_RULES.get(id(value))
        if found is None or found[0] is not value:
            found = (value, list(_walk_rules(value, ())))
            _SHARED_RULES[id(value)] = found
        for where, rule in found[1]:
            yield (*path, *where), rule
        return
    yield from _walk_rules(value, path)


def _walk_rules(value: Any, path: FieldPath) -> Iterator[tuple[FieldPath, dict[str, Any]]]:
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "x-kubernetes-validations" and isinstance(item, list):
                for index, rule in enumerate(item):
                    if isinstance(rule, dict):
                        yield (*path, key, index), rule
            else:
                yield from _crd_rules(item, (*path, str(key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _crd_rules(item, (*path, index))


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= 120 else text[:117] + "..."

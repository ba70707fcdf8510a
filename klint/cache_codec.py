"""One unit's results as JSON and back, for the result cache (never pickle).

Findings are written as flat lists in field order (a unit can hold 20,000 of them: a generic
walk over the dataclasses cost seconds). The field names are checked against the ones this
codec was written for, so a new field makes every entry unreadable (:class:`CodecError`)
instead of silently dropping it; anything malformed in an entry is a CodecError too, and the
unit is linted again, never half-used.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from klint.engine import UnitResult
from klint.findings import (
    Applicability,
    Finding,
    Fix,
    Location,
    Notification,
    ObjectRef,
    RelatedLocation,
    Severity,
    Span,
    Suppression,
    TextEdit,
)

EXPECTED_FIELDS: dict[type, tuple[str, ...]] = {
    UnitResult: ("findings", "notifications", "files", "objects", "skipped", "file_paths"),
    Finding: (
        "rule_id",
        "rule_name",
        "severity",
        "message",
        "location",
        "object_ref",
        "field_path",
        "related",
        "properties",
        "suppression",
        "source_identity",
        "fix",
    ),
    Notification: ("code", "message", "location", "level", "fatal", "repeatable"),
    Location: ("path", "span"),
    Span: ("start_line", "start_column", "end_line", "end_column"),
    ObjectRef: ("api_version", "kind", "namespace", "name"),
    RelatedLocation: ("location", "message"),
    Suppression: ("kind", "justification", "source"),
    Fix: ("description", "applicability", "edits"),
    TextEdit: ("span", "text"),
}
CURRENT = all(
    tuple(f.name for f in dataclasses.fields(cls)) == names
    for cls, names in EXPECTED_FIELDS.items()
)


class CodecError(Exception):
    """An entry that does not decode to unit results."""


def encode_result(result: UnitResult) -> dict[str, Any]:
    """A JSON-ready mapping of one unit's results."""
    if not CURRENT:
        raise CodecError("the result types changed: update klint/cache_codec.py")
    return {
        "findings": [_finding(f) for f in result.findings],
        "notifications": [_notification(n) for n in result.notifications],
        "skipped": [_notification(n) for n in result.skipped],
        "files": result.files,
        "objects": result.objects,
        "file_paths": None if result.file_paths is None else sorted(result.file_paths),
    }


def decode_result(data: Any) -> UnitResult:
    """The unit results :func:`encode_result` wrote; :class:`CodecError` when malformed."""
    if not CURRENT:
        raise CodecError("the result types changed")
    try:
        return UnitResult(
            findings=[_to_finding(f) for f in data["findings"]],
            notifications=[_to_notification(n) for n in data["notifications"]],
            skipped=[_to_notification(n) for n in data["skipped"]],
            files=_int(data["files"]),
            objects=_int(data["objects"]),
            file_paths=_paths(data["file_paths"]),
        )
    except (KeyError, TypeError, ValueError, IndexError) as error:
        raise CodecError(str(error)) from None


def _paths(data: Any) -> frozenset[str] | None:
    if data is None:
        return None
    if not isinstance(data, list) or not all(isinstance(p, str) for p in data):
        raise ValueError("file_paths: a list of strings")
    return frozenset(data)


def _location(location: Location) -> list[Any]:
    span = location.span
    return [location.path, span.start_line, span.start_column, span.end_line, span.end_column]


def _finding(f: Finding) -> list[Any]:
    ref = f.object_ref
    fix = f.fix
    return [
        f.rule_id,
        f.rule_name,
        f.severity.value,
        f.message,
        _location(f.location),
        None if ref is None else [ref.api_version, ref.kind, ref.namespace, ref.name],
        list(f.field_path),
        [[*_location(r.location), r.message] for r in f.related],
        [list(pair) for pair in f.properties],
        None
        if f.suppression is None
        else [f.suppression.kind, f.suppression.justification, f.suppression.source],
        f.source_identity,
        None
        if fix is None
        else [
            fix.description,
            fix.applicability.value,
            [[*_span(e.span), e.text] for e in fix.edits],
        ],
    ]


def _span(span: Span) -> list[int]:
    return [span.start_line, span.start_column, span.end_line, span.end_column]


def _notification(n: Notification) -> list[Any]:
    where = None if n.location is None else _location(n.location)
    return [n.code, n.message, where, n.level.value, n.fatal, n.repeatable]


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError("expected a string")
    return value


def _int(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError("expected an integer")
    return value


def _to_span(values: Any) -> Span:
    a, b, c, d = values
    return Span(_int(a), _int(b), _int(c), _int(d))


def _to_location(values: Any) -> Location:
    path, *span = values
    return Location(_str(path), _to_span(span))


def _to_finding(values: Any) -> Finding:
    (rule_id, name, level, message, where, ref, path, related, props, sup, ident, fix) = values
    return Finding(
        rule_id=_str(rule_id),
        rule_name=_str(name),
        severity=Severity(level),
        message=_str(message),
        location=_to_location(where),
        object_ref=None if ref is None else ObjectRef(*(_str(part) for part in ref)),
        field_path=tuple(p if isinstance(p, int) else _str(p) for p in path),
        related=tuple(RelatedLocation(_to_location(r[:5]), _str(r[5])) for r in related),
        properties=tuple((_str(k), _str(v)) for k, v in props),
        suppression=None if sup is None else Suppression(*(_str(part) for part in sup)),
        source_identity=_str(ident),
        fix=None if fix is None else _to_fix(fix),
    )


def _to_fix(values: Any) -> Fix:
    description, applicability, edits = values
    return Fix(
        _str(description),
        Applicability(applicability),
        tuple(TextEdit(_to_span(e[:4]), _str(e[4])) for e in edits),
    )


def _to_notification(values: Any) -> Notification:
    code, message, where, level, fatal, repeatable = values
    if not isinstance(fatal, bool) or repeatable is not True:
        raise TypeError("expected a boolean (and only repeatable problems are stored)")
    location = None if where is None else _to_location(where)
    return Notification(_str(code), _str(message), location, Severity(level), fatal, repeatable)

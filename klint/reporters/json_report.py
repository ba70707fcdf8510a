"""Stable JSON: ``{"version": 1, "tool", "summary", "findings", "notifications"}``.

The shape is documented in the README and only changes with a new ``version``.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from typing import Any

from klint.findings import Finding, Location, Notification, Report, field_path_text
from klint.reporters.base import ReportContext
from klint.reporters.indented_json import dump_indented

SCHEMA_VERSION = 1


def location_dict(location: Location) -> dict[str, Any]:
    span = location.span
    return {
        "path": location.path,
        "line": span.start_line,
        "column": span.start_column,
        "end_line": span.end_line,
        "end_column": span.end_column,
    }


def finding_dict(finding: Finding) -> dict[str, Any]:
    ref = finding.object_ref
    return {
        "rule_id": finding.rule_id,
        "rule_name": finding.rule_name,
        "severity": finding.severity.value,
        "message": finding.message,
        **location_dict(finding.location),
        "object": None
        if ref is None
        else {
            "api_version": ref.api_version,
            "kind": ref.kind,
            "namespace": ref.namespace,
            "name": ref.name,
        },
        "field_path": field_path_text(finding.field_path),
        "fingerprint": finding.fingerprint,
        "related": [{"message": r.message, **location_dict(r.location)} for r in finding.related],
        "properties": dict(finding.properties),
        "suppressed": None
        if finding.suppression is None
        else {
            "kind": finding.suppression.kind,
            "source": finding.suppression.source,
            "justification": finding.suppression.justification,
        },
    }


def notification_dict(notification: Notification) -> dict[str, Any]:
    where = location_dict(notification.location) if notification.location else {"path": None}
    return {
        "code": notification.code,
        "level": notification.level.value,
        "message": notification.message,
        "fatal": notification.fatal,
        **where,
    }


class JsonReporter:
    """Machine-readable output with every field of every finding."""

    def render(self, report: Report, context: ReportContext) -> str:
        return "".join(self.stream(report, context))

    def stream(self, report: Report, context: ReportContext) -> Iterator[str]:
        """The document in pieces: the summary, then one piece per finding."""
        counts = Counter(f.severity.value for f in report.active)
        document = {
            "version": SCHEMA_VERSION,
            "tool": {"name": "klint", "version": context.version},
            "summary": {
                "findings": len(report.active),
                "suppressed": len(report.suppressed),
                "by_severity": {
                    level: counts.get(level, 0) for level in ("error", "warning", "note")
                },
                "notifications": len(report.notifications),
                "files": report.files_scanned,
                "objects": report.objects_scanned,
            },
        }
        yield "{\n" + ",\n".join(_member(key, value) for key, value in document.items())
        yield from _array("findings", (finding_dict(f) for f in report.findings))
        yield from _array("notifications", (notification_dict(n) for n in report.notifications))
        yield "\n}\n"


# The document is assembled one finding at a time, exactly as ``json.dumps(indent=2)`` lays
# it out, so that a run with 100,000 findings never holds them all as dictionaries at once.


def _dump(value: Any, indent: str) -> str:
    return dump_indented(value, indent)


def _member(key: str, value: Any) -> str:
    return f"  {json.dumps(key)}: {_dump(value, '  ')}"


def _array(key: str, items: Iterator[dict[str, Any]]) -> Iterator[str]:
    """``,\n  "key": [...]`` one item at a time."""
    first = True
    for item in items:
        yield (f",\n  {json.dumps(key)}: [\n" if first else ",\n") + "    " + _dump(item, "    ")
        first = False
    yield f",\n  {json.dumps(key)}: []" if first else "\n  ]"

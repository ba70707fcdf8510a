"""GitLab Code Quality JSON: an array of issues with description, check_name, fingerprint,
severity (info/minor/major/critical/blocker) and ``location.path`` + ``location.lines.begin``.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from klint.findings import Report, Severity
from klint.reporters.base import ReportContext, repo_path

_SEVERITY = {Severity.ERROR: "critical", Severity.WARNING: "major", Severity.NOTE: "minor"}
CRITICAL_SCORE = 9.1


class GitlabReporter:
    """``--format gitlab-codequality`` for ``artifacts:reports:codequality``."""

    def render(self, report: Report, context: ReportContext) -> str:
        scores = {rule.id: rule.security_severity for rule in context.rules}
        issues: list[dict[str, Any]] = []
        seen: set[str] = set()
        for finding in report.active:
            severity = _SEVERITY[finding.severity]
            if (
                finding.severity is Severity.ERROR
                and scores.get(finding.rule_id, 0) >= CRITICAL_SCORE
            ):
                severity = "blocker"
            issues.append(
                _issue(
                    f"{finding.rule_id} {finding.rule_name}: {finding.message}",
                    f"klint/{finding.rule_id}",
                    _unique(finding.fingerprint, seen),
                    severity,
                    repo_path(finding.location.path, context),
                    finding.location.span.start_line,
                )
            )
        for note in report.notifications:
            path = repo_path(note.location.path, context) if note.location else "."
            line = note.location.span.start_line if note.location else 1
            digest = hashlib.sha256(
                f"{note.code}|{path}|{note.message}".encode(errors="surrogateescape")
            ).hexdigest()
            issues.append(
                _issue(
                    f"klint {note.code}: {note.message}",
                    f"klint/{note.code}",
                    _unique(digest[:32], seen),
                    "blocker" if note.fatal else _SEVERITY[note.level],
                    path,
                    line,
                )
            )
        return json.dumps(issues, indent=2, ensure_ascii=False) + "\n"


def _issue(
    description: str, check: str, fingerprint: str, severity: str, path: str, line: int
) -> dict[str, Any]:
    return {
        "type": "issue",
        "description": description,
        "check_name": check,
        "categories": ["Security"],
        "fingerprint": fingerprint,
        "severity": severity,
        "location": {"path": path, "lines": {"begin": line}},
    }


def _unique(fingerprint: str, seen: set[str]) -> str:
    """GitLab treats equal fingerprints as one issue; derive a stable distinct one."""
    candidate, counter = fingerprint, 1
    while candidate in seen:
        counter += 1
        candidate = hashlib.sha256(f"{fingerprint}#{counter}".encode()).hexdigest()[:32]
    seen.add(candidate)
    return candidate

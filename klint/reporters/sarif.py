"""SARIF 2.1.0 for GitHub code scanning, VS Code's SARIF viewer, reviewdog and nvim-lint.

One run per log, rule descriptors from the catalogue, repository-relative ``%SRCROOT%``
URIs, full regions, logical locations, fingerprints that survive line moves, no
timestamps: the same input gives a byte-identical log.

The log is written as a stream, one result at a time and one result per line (the
indented layout costs four times as much to write): a run with 100,000 results never holds
them as objects, or as one string, at once. Fixes are the findings' own edits (computed by
the scan); this module only formats.
Input problems (syntax errors, unreadable files) are results of rule ``KL000`` as well as
tool notifications, so that code scanning shows them on their line.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote

from klint.catalog import rule_order
from klint.findings import (
    ARCHIVE_MEMBER,
    Finding,
    Fix,
    Location,
    Notification,
    Report,
    Span,
    archive_member,
    field_path_text,
)
from klint.reporters.base import ReportContext
from klint.reporters.indented_json import Written, dump_indented
from klint.reporters.sarif_artifacts import ArchiveArtifacts
from klint.reporters.sarif_rules import descriptor_texts
from klint.sources.confine import is_inside, real_paths_remembered

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/klint-dev/klint"
FINGERPRINT_KEY = "klint/v2"
LINE_HASH_KEY = "primaryLocationLineHash"
INPUT_PROBLEM_ID = "KL000"
INPUT_PROBLEM_NAME = "input-problem"
_RESULT_INDENT = " " * 8
# json.dumps(value, ensure_ascii=False) without making an encoder for each result
_encode = json.JSONEncoder(ensure_ascii=False).encode


class SarifReporter:
    """SARIF 2.1.0, one run."""

    def render(self, report: Report, context: ReportContext) -> str:
        return "".join(self.stream(report, context))

    def stream(self, report: Report, context: ReportContext) -> Iterator[str]:
        """The log in pieces: header, one piece per result, trailer."""
        rules = sorted(context.rules, key=rule_order)
        ids = [INPUT_PROBLEM_ID, *(rule.id for rule in rules if rule.id != INPUT_PROBLEM_ID)]
        rule_index = {rule_id: index for index, rule_id in enumerate(ids)}
        driver = {
            "name": "klint",
            "fullName": "klint Kubernetes security linter",
            "version": context.version,
            "semanticVersion": context.version,
            "informationUri": INFORMATION_URI,
            "rules": [_input_problem_descriptor(), *map(Written, descriptor_texts(rules))],
        }
        head = {
            "tool": {"driver": driver},
            "automationDetails": {"id": f"{context.category.rstrip('/')}/"},
            "columnKind": "unicodeCodePoints",
        }
        yield "{\n"
        yield f'  "$schema": {json.dumps(SCHEMA_URI)},\n  "version": "2.1.0",\n'
        yield '  "runs": [\n    {\n'
        for key, value in head.items():
            yield f"      {json.dumps(key)}: {_dump(value, '      ')},\n"
        yield '      "results": ['
        lines = _SourceLines(context)
        first = True
        # the files results point at are read for their lines: each folder resolved once
        with real_paths_remembered():
            for result in self._results(report, context, rule_index, lines):
                yield ("\n" if first else ",\n") + _RESULT_INDENT + _encode(result)
                first = False
        yield "]" if first else "\n      ]"
        if lines.artifacts.entries:  # files inside chart archives (see sarif_artifacts)
            yield f',\n      "artifacts": {_dump(lines.artifacts.entries, "      ")}'
        fatal = any(n.fatal for n in report.notifications)
        invocation: dict[str, Any] = {"executionSuccessful": not fatal}
        notes = [_notification(n, context) for n in report.notifications]
        if notes:
            invocation["toolExecutionNotifications"] = notes
        yield f',\n      "invocations": {_dump([invocation], "      ")}'
        properties = _baseline_properties(report)
        if properties is not None:
            yield f',\n      "properties": {_dump(properties, "      ")}'
        yield "\n    }\n  ]\n}\n"

    def _results(
        self,
        report: Report,
        context: ReportContext,
        rule_index: dict[str, int],
        lines: _SourceLines,
    ) -> Iterator[dict[str, Any]]:
        """Findings and located input problems in one order: file, line, column."""
        problems = sorted(
            (n for n in report.notifications if n.location is not None),
            key=Notification.sort_key,
        )
        findings = (f for f in report.findings if f.rule_id in rule_index)
        pending = next(findings, None)
        for problem in problems:
            key = problem.sort_key()[:3]
            while pending is not None and pending.sort_key()[:3] <= key:
                yield _result(pending, rule_index[pending.rule_id], context, report, lines)
                pending = next(findings, None)
            yield _problem_result(problem, context, lines)
        while pending is not None:
            yield _result(pending, rule_index[pending.rule_id], context, report, lines)
            pending = next(findings, None)


class _SourceLines:
    """Lines of the files results point at, one file at a time (results come sorted)."""

    _KEEP = 4  # a result's own file and the values files it points at

    def __init__(self, context: ReportContext) -> None:
        self.context = context
        self.cache: dict[str, list[str] | None] = {}
        self.primary = ""
        self.seen: dict[str, list[int]] = {}
        self.artifacts = ArchiveArtifacts()

    def of(self, path: str) -> list[str] | None:
        if path not in self.cache:
            if len(self.cache) >= self._KEEP:
                del self.cache[next(iter(self.cache))]
            self.cache[path] = self._read(path)
        return self.cache[path]

    def _read(self, path: str) -> list[str] | None:
        if path == self.context.extra.get("stdin_filename") or path.startswith("<"):
            return None  # an editor buffer or stdin: the file on disk is not what was read
        member = archive_member(path)
        file = Path(member[0] if member else path)
        file = file if file.is_absolute() else self.context.cwd / file
        if not is_inside(file, self.context.root) and not is_inside(file, self.context.cwd):
            return None
        if member is not None:  # a template inside a chart archive: its text, from the archive
            from klint.sources.helm.archived import read_member

            text = read_member(file, member[1])
            return None if text is None else text.splitlines()
        try:
            return file.read_bytes().decode("utf-8-sig").splitlines()
        except (OSError, UnicodeDecodeError):
            return None

    def clamp(self, location: Location) -> Span:
        """The span with its end column kept within its line."""
        span = location.span
        lines = self.of(location.path)
        if lines is None or not 0 < span.end_line <= len(lines):
            return span
        limit = len(lines[span.end_line - 1]) + 1
        if span.end_column <= limit:
            return span
        end = max(limit, span.start_column) if span.end_line == span.start_line else limit
        return Span(span.start_line, span.start_column, span.end_line, end)

    def line_hash(self, location: Location) -> str | None:
        """GitHub's ``primaryLocationLineHash`` shape: a hash of the line text + occurrence."""
        if location.path != self.primary:
            self.primary, self.seen = location.path, {}
        lines = self.of(location.path)
        number = location.span.start_line
        if lines is None or not 0 < number <= len(lines):
            return None
        text = " ".join(lines[number - 1].split())
        digest = hashlib.sha256(text.encode(errors="surrogateescape")).hexdigest()[:16]
        seen = self.seen.setdefault(digest, [])
        if number not in seen:
            seen.append(number)
        return f"{digest}:{seen.index(number) + 1}"


def _result(
    finding: Finding, index: int, context: ReportContext, report: Report, lines: _SourceLines
) -> dict[str, Any]:
    ref = finding.object_ref
    message = finding.message
    related = []
    for number, item in enumerate(finding.related, start=1):
        span = item.location.span
        message += f" ([{item.message} {item.location.path}:{span.start_line}]({number}))"
        related.append(
            {
                "id": number,
                "physicalLocation": _physical(item.location, context, lines),
                "message": {"text": item.message},
            }
        )
    location: dict[str, Any] = {"physicalLocation": _physical(finding.location, context, lines)}
    if ref is not None:
        location["logicalLocations"] = [
            {
                "name": ref.name or ref.kind,
                "fullyQualifiedName": ref.describe(),
                "kind": "object",
                "properties": {
                    "apiVersion": ref.api_version,
                    "kind": ref.kind,
                    "namespace": ref.namespace,
                },
            }
        ]
    result: dict[str, Any] = {
        "ruleId": finding.rule_id,
        "ruleIndex": index,
        "level": finding.severity.value,
        "message": {"text": message},
        "locations": [location],
    }
    if related:
        result["relatedLocations"] = related
    result["partialFingerprints"] = _fingerprints(
        artifact_fingerprint(finding.location.path, finding.fingerprint), finding.location, lines
    )
    if finding.fix is not None:
        result["fixes"] = [_fix(finding.fix, finding.location.path, context)]
    if finding.suppression is not None:
        suppression = {"kind": finding.suppression.kind, "status": "accepted"}
        if finding.suppression.justification:
            suppression["justification"] = finding.suppression.justification
        result["suppressions"] = [suppression]
    state = _baseline_state(finding, report)
    if state is not None:
        result["baselineState"] = state
    result["properties"] = {"fieldPath": field_path_text(finding.field_path)} | dict(
        finding.properties
    )
    return result


def artifact_fingerprint(path: str, fingerprint: str) -> str:
    """The finding's fingerprint (rule, object, field path) made unique per file."""
    return hashlib.sha256(f"{path}|{fingerprint}".encode(errors="surrogateescape")).hexdigest()[:32]


def _fingerprints(value: str, location: Location, lines: _SourceLines) -> dict[str, str]:
    prints = {FINGERPRINT_KEY: value}
    line_hash = lines.line_hash(location)
    if line_hash is not None:
        prints[LINE_HASH_KEY] = line_hash
    return prints


def _problem_result(
    problem: Notification, context: ReportContext, lines: _SourceLines
) -> dict[str, Any]:
    """An input problem (a located notification) as a ``KL000`` result."""
    assert problem.location is not None
    where = problem.location
    identity = f"{INPUT_PROBLEM_ID}|{where.path}|{where.span.start_line}|{problem.code}"
    identity += f"|{problem.message}"  # a problem has no object: its line tells two apart
    return {
        "ruleId": INPUT_PROBLEM_ID,
        "ruleIndex": 0,
        "level": problem.level.value,
        "message": {"text": problem.message},
        "locations": [{"physicalLocation": _physical(problem.location, context, lines)}],
        "partialFingerprints": _fingerprints(
            hashlib.sha256(identity.encode(errors="surrogateescape")).hexdigest()[:32],
            problem.location,
            lines,
        ),
        "properties": {"code": problem.code},
    }


def _fix(fix: Fix, path: str, context: ReportContext) -> dict[str, Any]:
    replacements = []
    for edit in fix.edits:
        span = edit.span
        replacement: dict[str, Any] = {
            "deletedRegion": {
                "startLine": span.start_line,
                "startColumn": span.start_column,
                "endLine": span.end_line,
                "endColumn": span.end_column,
            }
        }
        if edit.text:
            replacement["insertedContent"] = {"text": edit.text}
        replacements.append(replacement)
    return {
        "description": {"text": fix.description},
        "artifactChanges": [
            {
                "artifactLocation": artifact_location(path, context),
                "replacements": replacements,
            }
        ],
        "properties": {"applicability": fix.applicability.value},
    }


def _baseline_state(finding: Finding, report: Report) -> str | None:
    """``unchanged`` for baselined findings, ``new`` for the rest (only with ``--baseline``)."""
    if report.baseline is None:
        return None
    baselined = finding.suppression is not None and finding.suppression.source == "baseline"
    return "unchanged" if baselined else "new"


def _baseline_properties(report: Report) -> dict[str, Any] | None:
    """Counts of baselined findings and of baseline entries now fixed.

    Fixed entries are counted, not emitted as ``absent`` results: GitHub code scanning
    ignores ``baselineState`` and would show them as open alerts.
    """
    if report.baseline is None:
        return None
    return {
        "klint/baseline": {
            "file": report.baseline.source,
            "unchanged": report.baseline.matched,
            "fixed": len(report.baseline.fixed),
        }
    }


def _input_problem_descriptor() -> dict[str, Any]:
    from klint.reporters import input_problem

    return input_problem.descriptor()


def _notification(notification: Notification, context: ReportContext) -> dict[str, Any]:
    result: dict[str, Any] = {}
    if notification.location is not None:
        result["locations"] = [{"physicalLocation": _physical(notification.location, context)}]
    result["message"] = {"text": notification.message}
    result["level"] = notification.level.value
    result["descriptor"] = {"id": notification.code}
    return result


def _physical(
    location: Location, context: ReportContext, lines: _SourceLines | None = None
) -> dict[str, Any]:
    span = location.span
    if lines is not None:
        span = lines.clamp(location)
        if ARCHIVE_MEMBER in location.path:  # a file inside a chart archive
            lines.artifacts.note(location.path, lambda archive: artifact_location(archive, context))
    return {
        "artifactLocation": artifact_location(location.path, context),
        "region": {
            "startLine": span.start_line,
            "startColumn": span.start_column,
            "endLine": span.end_line,
            "endColumn": span.end_column,
        },
    }


def artifact_location(path: str, context: ReportContext) -> dict[str, str]:
    """A root-relative, percent-encoded URI with ``%SRCROOT%``; absolute ``file:`` outside.

    For ``--stdin-filename PATH`` an absolute PATH stays an absolute ``file:`` URI (editors
    such as nvim-lint match results to the buffer by it). Computed once per path and run
    (50,000 documents give 110,000 results in 5,000 files).
    """
    stdin = context.extra.get("stdin_filename")
    return dict(_artifact_location(path, context.cwd, context.root, stdin))


@functools.lru_cache(maxsize=4096)
def _artifact_location(
    path: str, cwd: Path, root: Path, stdin: str | None
) -> tuple[tuple[str, str], ...]:
    absolute = Path(path) if Path(path).is_absolute() else cwd / path
    if path == stdin and Path(path).is_absolute():
        return (("uri", absolute.as_uri()),)
    try:
        relative = PurePosixPath(absolute.relative_to(root).as_posix())
    except ValueError:
        return (("uri", "file://" + quote(absolute.as_posix(), errors="surrogateescape")),)
    # A name that is not UTF-8 keeps its bytes (``\udcff`` → ``%FF``), as the file system has it.
    return (("uri", quote(str(relative), errors="surrogateescape")), ("uriBaseId", "%SRCROOT%"))


def _dump(value: Any, indent: str) -> str:
    return dump_indented(value, indent)

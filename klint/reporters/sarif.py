"""SARIF 2.1.0 for GitHub code scanning, VS Code's SARIF viewer, reviewdog and nvim-lint.

Built with sarif-om objects and serialised by their schema property names. One run per
log, rule descriptors from the catalogue, repository-relative ``%SRCROOT%`` URIs, full
regions, logical locations, fingerprints that survive line moves, no timestamps: the same
input gives a byte-identical log.
"""

from __future__ import annotations

import json
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote

import attr
import sarif_om as om

from klint.catalog import Rule
from klint.docs import rule_help_markdown, rule_help_text
from klint.findings import Finding, Location, Notification, Report, field_path_text
from klint.reporters.base import ReportContext

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/klint-dev/klint"
FINGERPRINT_KEY = "klint/v1"
_ALWAYS_EMIT = frozenset({"level"})


class SarifReporter:
    """SARIF 2.1.0, one run."""

    def render(self, report: Report, context: ReportContext) -> str:
        rules = sorted(context.rules, key=lambda rule: rule.id)
        rule_index = {rule.id: index for index, rule in enumerate(rules)}
        findings = [finding for finding in report.findings if finding.rule_id in rule_index]
        results = [
            self._result(finding, rule_index[finding.rule_id], context, report)
            for finding in findings
        ]
        _attach_fixes(results, findings, context)
        fatal = any(n.fatal for n in report.notifications)
        run = om.Run(
            tool=om.Tool(
                driver=om.ToolComponent(
                    name="klint",
                    full_name="klint Kubernetes security linter",
                    version=context.version,
                    semantic_version=context.version,
                    information_uri=INFORMATION_URI,
                    rules=[_descriptor(rule) for rule in rules],
                )
            ),
            automation_details=om.RunAutomationDetails(id=f"{context.category.rstrip('/')}/"),
            column_kind="unicodeCodePoints",
            invocations=[
                om.Invocation(
                    execution_successful=not fatal,
                    tool_execution_notifications=[
                        _notification(n, context) for n in report.notifications
                    ]
                    or None,
                )
            ],
            results=results,
            properties=_baseline_properties(report),
        )
        log = to_json(om.SarifLog(schema_uri=SCHEMA_URI, version="2.1.0", runs=[run]))
        _mark_accepted(log)
        ordered = {"$schema": log.pop("$schema"), "version": log.pop("version"), **log}
        return json.dumps(ordered, indent=2, ensure_ascii=False) + "\n"

    def _result(
        self, finding: Finding, index: int, context: ReportContext, report: Report
    ) -> om.Result:
        ref = finding.object_ref
        logical = None
        if ref is not None:
            qualified = ref.describe()
            logical = [
                om.LogicalLocation(
                    name=ref.name or ref.kind,
                    fully_qualified_name=qualified,
                    kind="object",
                    properties={
                        "apiVersion": ref.api_version,
                        "kind": ref.kind,
                        "namespace": ref.namespace,
                    },
                )
            ]
        message = finding.message
        related = []
        for number, item in enumerate(finding.related, start=1):
            span = item.location.span
            message += f" ([{item.message} {item.location.path}:{span.start_line}]({number}))"
            related.append(
                om.Location(
                    id=number,
                    physical_location=_physical(item.location, context),
                    message=om.Message(text=item.message),
                )
            )
        properties: dict[str, Any] = {"fieldPath": field_path_text(finding.field_path)}
        properties.update(dict(finding.properties))
        suppressions = None
        if finding.suppression is not None:
            suppressions = [
                om.Suppression(
                    kind=finding.suppression.kind,
                    justification=finding.suppression.justification,
                )
            ]
        return om.Result(
            rule_id=finding.rule_id,
            rule_index=index,
            level=finding.severity.value,
            message=om.Message(text=message),
            locations=[
                om.Location(
                    physical_location=_physical(finding.location, context),
                    logical_locations=logical,
                )
            ],
            related_locations=related or None,
            partial_fingerprints={FINGERPRINT_KEY: finding.fingerprint},
            suppressions=suppressions,
            baseline_state=_baseline_state(finding, report),
            properties=properties,
        )


def _attach_fixes(
    results: list[om.Result], findings: list[Finding], context: ReportContext
) -> None:
    """SARIF ``fixes`` for findings in plain manifests whose rule has a fix (``klint fix``)."""
    from klint.fix import FixFinder

    finder = FixFinder(
        context.cwd, context.root, context.rules, context.extra.get("stdin_filename", "")
    )
    for result, finding in zip(results, findings, strict=True):
        found = finder.find(finding)
        if found is None:
            continue
        result.fixes = [
            om.Fix(
                description=om.Message(text=found.description),
                artifact_changes=[
                    om.ArtifactChange(
                        artifact_location=artifact_location(finding.location.path, context),
                        replacements=[
                            om.Replacement(
                                deleted_region=om.Region(
                                    start_line=item.region.start_line,
                                    start_column=item.region.start_column,
                                    end_line=item.region.end_line,
                                    end_column=item.region.end_column,
                                ),
                                inserted_content=om.ArtifactContent(text=item.text)
                                if item.text
                                else None,
                            )
                            for item in found.replacements
                        ],
                    )
                ],
                properties={"applicability": found.applicability},
            )
        ]


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


def _mark_accepted(log: dict[str, Any]) -> None:
    """Give every suppression ``status: accepted`` (SARIF 2.1.0 final; sarif-om predates it).

    Consumers such as reviewdog drop suppressed results only when the status is accepted.
    """
    for run in log.get("runs", []):
        for result in run.get("results", []):
            for suppression in result.get("suppressions", []):
                suppression["status"] = "accepted"


def _descriptor(rule: Rule) -> om.ReportingDescriptor:
    tags = ["security", *rule.tags]
    tags = list(dict.fromkeys(tags))[:10]
    properties: dict[str, Any] = {
        "tags": tags,
        "precision": rule.precision,
        "security-severity": f"{rule.security_severity:.1f}",
    }
    frameworks = rule.frameworks()
    if frameworks:
        properties["frameworks"] = frameworks
    return om.ReportingDescriptor(
        id=rule.id,
        name=rule.name,
        short_description=om.MultiformatMessageString(text=rule.summary[:1024]),
        full_description=om.MultiformatMessageString(text=rule.description[:1024]),
        help=om.MultiformatMessageString(
            text=rule_help_text(rule), markdown=rule_help_markdown(rule)
        ),
        help_uri=rule.help_uri,
        default_configuration=om.ReportingConfiguration(level=rule.severity.value),
        properties=properties,
    )


def _notification(notification: Notification, context: ReportContext) -> om.Notification:
    locations = None
    if notification.location is not None:
        locations = [om.Location(physical_location=_physical(notification.location, context))]
    return om.Notification(
        message=om.Message(text=notification.message),
        level=notification.level.value,
        locations=locations,
        descriptor=om.ReportingDescriptorReference(id=notification.code),
    )


def _physical(location: Location, context: ReportContext) -> om.PhysicalLocation:
    span = location.span
    return om.PhysicalLocation(
        artifact_location=artifact_location(location.path, context),
        region=om.Region(
            start_line=span.start_line,
            start_column=span.start_column,
            end_line=span.end_line,
            end_column=span.end_column,
        ),
    )


def artifact_location(path: str, context: ReportContext) -> om.ArtifactLocation:
    """A root-relative, percent-encoded URI with ``%SRCROOT%``; absolute ``file:`` outside.

    For ``--stdin-filename PATH`` an absolute PATH stays an absolute ``file:`` URI (editors
    such as nvim-lint match results to the buffer by it).
    """
    absolute = Path(path) if Path(path).is_absolute() else context.cwd / path
    if path == context.extra.get("stdin_filename") and Path(path).is_absolute():
        return om.ArtifactLocation(uri=absolute.as_uri())
    try:
        relative = PurePosixPath(absolute.relative_to(context.root).as_posix())
    except ValueError:
        return om.ArtifactLocation(uri="file://" + quote(absolute.as_posix()))
    return om.ArtifactLocation(uri=quote(str(relative)), uri_base_id="%SRCROOT%")


def to_json(value: Any) -> Any:
    """sarif-om objects → JSON values keyed by SARIF property names; defaults left out."""
    if attr.has(type(value)):
        result: dict[str, Any] = {}
        for item in attr.fields(type(value)):
            current = getattr(value, item.name)
            if current is None:
                continue
            default = item.default
            if isinstance(default, attr.Factory):  # type: ignore[arg-type]
                default = default.factory()
            if current == default and item.name not in _ALWAYS_EMIT:
                continue
            result[item.metadata.get("schema_property_name", item.name)] = to_json(current)
        return result
    if isinstance(value, dict):
        return {key: to_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(item) for item in value]
    return value

"""``--format html``: one self-contained page (inline CSS and SVG, no script, no requests).

A Content-Security-Policy of ``default-src 'none'`` keeps the page from loading anything,
so it can be opened from a CI artifact offline.
"""

from __future__ import annotations

from collections import Counter
from html import escape

from klint.compliance import Framework, Status, build, summary
from klint.findings import Finding, Report
from klint.reporters.base import ReportContext, printable

_COLORS = {"error": "#c62828", "warning": "#ef6c00", "note": "#1565c0"}
_STATUS_CLASS = {Status.PASS: "pass", Status.FAIL: "fail", Status.NOT_CHECKED: "skip"}
_CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:2rem;color:#222;max-width:1200px}
h1{margin-top:0}table{border-collapse:collapse;width:100%;margin:.5rem 0 1.5rem}
th,td{border:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f4f4f4}.pass{color:#2e7d32;font-weight:600}.fail{color:#c62828;font-weight:600}
.skip{color:#888}.charts{display:flex;gap:2rem;flex-wrap:wrap}code{font-size:12px}
"""


def _text(value: str) -> str:
    return escape(printable(value))


def bar_chart(title: str, counts: Counter[str], colors: dict[str, str] | None = None) -> str:
    """A horizontal SVG bar chart of ``counts``."""
    items = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:12]
    largest = max((n for _, n in items), default=1) or 1
    height = 24 * len(items) + 30
    rows = []
    for index, (label, count) in enumerate(items):
        y = 24 + index * 24
        width = max(2, int(220 * count / largest))
        color = (colors or {}).get(label, "#455a64")
        rows.append(
            f'<text x="0" y="{y + 14}" font-size="12">{_text(label)[:28]}</text>'
            f'<rect x="170" y="{y + 2}" width="{width}" height="16" fill="{color}"/>'
            f'<text x="{176 + width}" y="{y + 14}" font-size="12">{count}</text>'
        )
    return (
        f'<figure><svg role="img" aria-label="{_text(title)}" width="440" height="{height}" '
        f'xmlns="http://www.w3.org/2000/svg"><text x="0" y="14" font-weight="bold" '
        f'font-size="13">{_text(title)}</text>{"".join(rows)}</svg></figure>'
    )


class HtmlReporter:
    """The compliance report as a single HTML page with charts."""

    def render(self, report: Report, context: ReportContext) -> str:
        catalog = context.catalog or context.rules
        frameworks = build(report, catalog, context.rules)
        counts = summary(report)
        parts = [
            '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
            '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
            "style-src 'unsafe-inline'; img-src data:\">",
            f"<title>klint report</title><style>{_CSS}</style></head><body>",
            "<h1>klint compliance report</h1>",
            f"<p>{report.objects_scanned} objects in {report.files_scanned} files: "
            f"<strong>{len(report.active)}</strong> findings, {len(report.suppressed)} "
            f"suppressed, {len(report.notifications)} input problems.</p>",
            '<div class="charts" id="charts">',
            bar_chart("Findings by severity", counts["severity"], _COLORS),
            bar_chart("Findings by rule family", counts["family"]),
            bar_chart("Findings by namespace", counts["namespace"]),
            "</div>",
        ]
        for framework in frameworks:
            parts.append(_framework(framework))
        parts.append(_findings(report.active))
        parts.append("</body></html>\n")
        return "\n".join(parts)


def _framework(framework: Framework) -> str:
    counts = framework.counts()
    rows = []
    for control in framework.controls:
        status = control.status
        links = ", ".join(
            f'<a href="#f{id_of(f)}">{_text(f.location.path)}:{f.location.span.start_line}</a>'
            for f in control.findings[:5]
        )
        objects = ", ".join(_text(o) for o in control.objects[:5])
        rows.append(
            f"<tr><td>{_text(control.title)}</td>"
            f'<td class="{_STATUS_CLASS[status]}">{status.value}</td>'
            f"<td>{', '.join(r.id for r in control.rules)}</td><td>{objects}</td>"
            f"<td>{links}</td></tr>"
        )
    return (
        f"<h2>{_text(framework.title)}</h2><p>{counts[Status.PASS]} passed, "
        f"{counts[Status.FAIL]} failed, {counts[Status.NOT_CHECKED]} not checked.</p>"
        "<table><tr><th>Control</th><th>Status</th><th>Rules</th><th>Failing objects</th>"
        f"<th>Findings</th></tr>{''.join(rows)}</table>"
    )


def id_of(finding: Finding) -> str:
    """An anchor id for a finding (its fingerprint plus line, unique within a report)."""
    return f"{finding.fingerprint[:12]}-{finding.location.span.start_line}"


def _findings(findings: list[Finding]) -> str:
    rows = [
        f'<tr id="f{id_of(f)}"><td>{_text(f.severity.value)}</td><td>{_text(f.rule_id)} '
        f"{_text(f.rule_name)}</td><td><code>{_text(f.location.path)}:"
        f"{f.location.span.start_line}:{f.location.span.start_column}</code></td>"
        f"<td>{_text(f.message)}</td></tr>"
        for f in findings
    ]
    return (
        "<h2>Findings</h2><table><tr><th>Level</th><th>Rule</th><th>Location</th>"
        f"<th>Message</th></tr>{''.join(rows)}</table>"
    )

"""Rule documentation, generated from the catalogue: one text for docs, CLI and SARIF."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from klint.catalog import Rule

_PEER_NAMES = {
    "kube-linter": "kube-linter",
    "checkov": "Checkov",
    "kube-score": "kube-score",
    "polaris": "Polaris",
    "trivy": "Trivy",
    "kubesec": "kubesec",
    "kubescape": "Kubescape",
    "pluto": "Pluto",
    "kubeconform": "kubeconform",
}


def rule_help_text(rule: Rule) -> str:
    """Plain-text help: why and how to fix."""
    return f"{rule.summary}\n\nWhy: {rule.description}\n\nHow to fix: {rule.remediation}"


def rule_help_markdown(rule: Rule) -> str:
    """Markdown help for SARIF viewers (GitHub shows it instead of the text)."""
    parts = [
        f"**{rule.summary}**",
        "",
        "### Why",
        rule.description,
        "",
        "### How to fix",
        rule.remediation,
    ]
    fail = next((e for e in rule.examples if not e.passes), None)
    good = next((e for e in rule.examples if e.passes), None)
    if fail is not None:
        parts += ["", "### Insecure", "```yaml", _clean(fail.manifest), "```"]
    if good is not None:
        parts += ["", "### Secure", "```yaml", _clean(good.manifest), "```"]
    parts += ["", f"[Rule documentation]({rule.help_uri})"]
    return "\n".join(parts)


def _clean(manifest: str) -> str:
    """Drop the ``# expect`` test markers from an example."""
    lines = []
    for line in manifest.rstrip().splitlines():
        stripped = line.rstrip()
        if stripped.endswith("# expect"):
            stripped = stripped[: -len("# expect")].rstrip()
        lines.append(stripped)
    return "\n".join(lines)


def rule_page(rule: Rule) -> str:
    """The Markdown page ``docs/rules/<name>.md``."""
    lines = [
        f"# {rule.id} {rule.name}",
        "",
        rule.summary,
        "",
        "| | |",
        "|---|---|",
        f"| Severity | {rule.severity.value} (security-severity {rule.security_severity:.1f}) |",
        f"| Profiles | {', '.join(rule.profiles) or '-'} |",
        f"| Check | `{rule.check}` |",
    ]
    if rule.params:
        params = ", ".join(f"`{k}`: `{v}`" for k, v in sorted(rule.params.items()))
        lines.append(f"| Params | {params} |")
    if rule.overrides:
        lines.append(f"| Replaces | {', '.join(rule.overrides)} when both are selected |")
    if rule.fix:
        lines.append(f"| Fix | {rule.fix.get('applicability')}: {rule.fix.get('description')} |")
    lines += ["", "## Why", "", rule.description, "", "## How to fix", "", rule.remediation]
    for example in rule.examples:
        label = "Passes" if example.passes else "Fails"
        title = f": {example.title}" if example.title else ""
        lines += ["", f"## {label}{title}", "", "```yaml", _clean(example.manifest), "```"]
    lines += ["", "## References", ""]
    lines += _reference_lines(rule)
    return "\n".join(lines) + "\n"


def _reference_lines(rule: Rule) -> list[str]:
    refs = rule.references
    lines = []
    pss = refs.get("pss")
    if isinstance(pss, dict):
        lines.append(
            f"- Pod Security Standards, {pss.get('level')}: {pss.get('control')} "
            f"(`{pss.get('check')}`) — "
            "https://kubernetes.io/docs/concepts/security/pod-security-standards/"
        )
    for key, label in (
        ("cis", "CIS Kubernetes Benchmark"),
        ("nsa", "NSA/CISA hardening guide"),
        ("mitre", "MITRE ATT&CK for Containers"),
        ("cwe", "CWE"),
    ):
        values = refs.get(key)
        if values:
            lines.append(f"- {label}: {', '.join(str(v) for v in values)}")
    peers = refs.get("peers")
    if isinstance(peers, dict) and peers:
        mapped = ", ".join(f"{_PEER_NAMES.get(k, k)} `{v}`" for k, v in sorted(peers.items()))
        lines.append(f"- Same check in other tools: {mapped}")
    for url in refs.get("docs") or []:
        lines.append(f"- {url}")
    return lines or ["- (none)"]


def index_page(rules: Sequence[Rule]) -> str:
    """``docs/rules/README.md``: the table of every rule."""
    lines = [
        "# klint rules",
        "",
        "Generated from `rules/` by `klint docs` — do not edit by hand.",
        "",
        "| Id | Name | Severity | Profiles | Summary |",
        "|---|---|---|---|---|",
    ]
    for rule in sorted(rules, key=lambda r: r.id):
        lines.append(
            f"| {rule.id} | [{rule.name}]({rule.name}.md) | {rule.severity.value} | "
            f"{', '.join(rule.profiles)} | {rule.summary} |"
        )
    return "\n".join(lines) + "\n"


def write_docs(rules: Sequence[Rule], directory: Path) -> list[Path]:
    """Write every rule page and the index; returns the files written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for rule in rules:
        path = directory / f"{rule.name}.md"
        path.write_text(rule_page(rule), encoding="utf-8")
        written.append(path)
    index = directory / "README.md"
    index.write_text(index_page(rules), encoding="utf-8")
    written.append(index)
    return written

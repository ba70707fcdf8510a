"""Rule documentation, generated from the catalogue: one text for docs, CLI and SARIF."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from klint.catalog import Rule, rule_order

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


_EXPECTED_FOR = {
    "node-agent": "node agents (DaemonSets with host namespaces or hostPath volumes; node "
    "scanner Jobs with hostPID reading node configuration read-only)",
    "helm-test": "Helm test hooks (`helm.sh/hook: test`)",
    "helm-hook": "other Helm hook Jobs (`pre-install`, `pre-upgrade`, ...)",
    "pause": "pause containers (`registry.k8s.io/pause`), which reserve capacity or keep a pod "
    "alive and run nothing",
    "deploy-time-image": "images a Makefile sets at deploy time (`kustomize edit set image` on "
    "the kustomization's `images:` entry: the tag in git is a placeholder)",
    "development-copy": "development copies of install manifests whose release copies pin the "
    "image (`deploy/x.yaml` beside `deploy/v1.2.0/x.yaml`, `charts/latest/<chart>/` beside "
    "`charts/v1.2.0/<chart>-v1.2.0.tgz`)",
    "installer-resources": "chart containers whose resources come from an empty values key",
    "openshift": "OpenShift manifests (DeploymentConfigs, `openshift/` folders), where the "
    "restricted-v2 SCC sets it",
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
        f"| Default profile | {_default_text(rule)} |",
        f"| Check | `{rule.check}` |",
    ]
    if rule.params:
        params = ", ".join(f"`{k}`: `{v}`" for k, v in sorted(rule.params.items()))
        lines.append(f"| Params | {params} |")
    if rule.overrides:
        lines.append(
            f"| Covers | {', '.join(rule.overrides)}: where both run, a violation both find "
            "is reported under that rule's id |"
        )
    expected = [
        _EXPECTED_FOR.get(t[13:], t[13:]) for t in rule.tags if t.startswith("expected-for:")
    ]
    if expected:
        lines.append(f"| A note instead for | {', '.join(expected)} (the message says why) |")
    if "never-downgraded" in rule.tags:
        lines.append("| In tests, examples, docs, vendored folders | same level (never lowered) |")
    else:
        lines.append(
            "| In tests, examples, docs, vendored folders | a note (the message says why) |"
        )
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


def _default_text(rule: Rule) -> str:
    """Whether ``klint check`` runs the rule without options, and if not, why."""
    if "default" in rule.profiles:
        return "yes"
    return f"no: {rule.opt_in}" if rule.opt_in else "no"


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
    for rule in sorted(rules, key=rule_order):
        lines.append(
            f"| {rule.id} | [{rule.name}]({rule.name}.md) | {rule.severity.value} | "
            f"{', '.join(rule.profiles)} | {rule.summary} |"
        )
    lines += [
        "",
        "## Off by default",
        "",
        "`klint check` runs the `default` profile: every finding a security reviewer would",
        "raise. These rules run only when selected (`--profile`, `--select` or the config),",
        "for the reason given:",
        "",
        "| Id | Name | Why it is off by default |",
        "|---|---|---|",
    ]
    for rule in sorted(rules, key=rule_order):
        if "default" not in rule.profiles:
            lines.append(f"| {rule.id} | [{rule.name}]({rule.name}.md) | {rule.opt_in or '-'} |")
    return "\n".join(lines) + "\n"


README_START = "<!-- rules:start (generated by `klint docs --readme README.md`) -->"
README_END = "<!-- rules:end -->"


def readme_rules_table(rules: Sequence[Rule]) -> str:
    """The rule table embedded in the README."""
    lines = ["| Id | Name | Severity | Profiles | Summary |", "|---|---|---|---|---|"]
    for rule in sorted(rules, key=rule_order):
        lines.append(
            f"| {rule.id} | [{rule.name}](docs/rules/{rule.name}.md) | {rule.severity.value} | "
            f"{', '.join(rule.profiles) or 'all'} | {rule.summary} |"
        )
    return "\n".join(lines)


def update_readme(path: Path, rules: Sequence[Rule]) -> None:
    """Replace the text between the README markers with the current rule table."""
    text = path.read_text(encoding="utf-8")
    start, end = text.index(README_START), text.index(README_END)
    body = f"{README_START}\n{readme_rules_table(rules)}\n"
    path.write_text(text[:start] + body + text[end:], encoding="utf-8")


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

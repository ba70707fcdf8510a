"""Compliance view of a report: per framework, each control passed, failed or not checked.

Controls come from the rules' framework references (Pod Security Standards checks, CIS
Kubernetes Benchmark ids: control plane 1.x-4.x, policies 5.x; NSA/CISA hardening guide
sections), so the report needs no list of its own: a control fails when a rule mapped to
it has an active finding, passes when its rules ran without one, and is "not checked" when
none of its rules ran.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from klint.catalog import Rule
from klint.findings import Finding, Report

FRAMEWORKS = {
    "pss-baseline": "Pod Security Standards — baseline",
    "pss-restricted": "Pod Security Standards — restricted",
    "cis": "CIS Kubernetes Benchmark",
    "nsa": "NSA/CISA Kubernetes Hardening Guide",
}


class Status(enum.Enum):
    """Outcome of one control."""

    PASS = "pass"
    FAIL = "fail"
    NOT_CHECKED = "not checked"


@dataclass
class Control:
    """One control of a framework and the evidence for its status."""

    id: str
    title: str
    rules: list[Rule] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    ran: bool = False

    @property
    def status(self) -> Status:
        if self.findings:
            return Status.FAIL
        return Status.PASS if self.ran else Status.NOT_CHECKED

    @property
    def objects(self) -> list[str]:
        """The failing objects, deduplicated, in order."""
        seen = dict.fromkeys(
            f.object_ref.describe() if f.object_ref else f.location.path for f in self.findings
        )
        return list(seen)


@dataclass
class Framework:
    """A framework's controls in a stable order."""

    key: str
    title: str
    controls: list[Control]

    def counts(self) -> Counter[Status]:
        return Counter(control.status for control in self.controls)


def _controls_for(key: str, rule: Rule) -> list[tuple[str, str]]:
    """(control id, title) pairs that ``rule`` evidences in framework ``key``."""
    refs = rule.references
    if key.startswith("pss-"):
        pss = refs.get("pss")
        if not isinstance(pss, dict):
            return []
        level = str(pss.get("level"))
        if key == "pss-baseline" and level != "baseline":
            return []
        return [(str(pss.get("check")), f"{pss.get('control')} ({level})")]
    return [(str(value), str(value)) for value in refs.get(key) or []]


def build(report: Report, catalog: Sequence[Rule], ran: Sequence[Rule]) -> list[Framework]:
    """The compliance view of ``report`` for every framework.

    A restricted PSS rule that replaced a baseline rule (``overrides``) checks the baseline
    control too: the baseline control counts as checked, and the findings that say they
    also violate it (``pss-also-violates``) count as its evidence.
    """
    ran_ids = {rule.id for rule in ran}
    for rule in ran:
        ran_ids.update(rule.overrides)
    by_rule: dict[str, list[Finding]] = {}
    by_rule_id = {rule.id: rule for rule in catalog}
    for finding in report.active:
        by_rule.setdefault(finding.rule_id, []).append(finding)
        also = dict(finding.properties).get("pss-also-violates")
        replacing = by_rule_id.get(finding.rule_id)
        for replaced in replacing.overrides if replacing is not None and also else ():
            pss = by_rule_id[replaced].references.get("pss") if replaced in by_rule_id else None
            if isinstance(pss, dict) and pss.get("check") == also:
                by_rule.setdefault(replaced, []).append(finding)
    frameworks = []
    for key, title in FRAMEWORKS.items():
        controls: dict[str, Control] = {}
        for rule in catalog:
            for control_id, control_title in _controls_for(key, rule):
                control = controls.setdefault(control_id, Control(control_id, control_title))
                control.rules.append(rule)
                control.ran = control.ran or rule.id in ran_ids
                control.findings.extend(by_rule.get(rule.id, []))
        ordered = sorted(controls.values(), key=lambda c: _natural(c.id))
        frameworks.append(Framework(key, title, ordered))
    return frameworks


def _natural(text: str) -> list[object]:
    """Sort ``5.2.10`` after ``5.2.9``."""
    return [int(part) if part.isdigit() else part for part in text.replace("-", ".").split(".")]


def summary(report: Report) -> dict[str, Counter[str]]:
    """Active findings counted by severity, by rule family and by namespace."""
    result: dict[str, Counter[str]] = {
        "severity": Counter(),
        "family": Counter(),
        "namespace": Counter(),
    }
    for finding in report.active:
        result["severity"][finding.severity.value] += 1
        result["family"][rule_family(finding.rule_id)] += 1
        namespace = finding.object_ref.namespace if finding.object_ref else ""
        result["namespace"][namespace or "(none)"] += 1
    return result


_FAMILIES = {
    "KL1": "pod security",
    "KL2": "pod security (restricted)",
    "KL3": "images",
    "KL4": "resources and probes",
    "KL5": "RBAC and service accounts",
    "KL6": "secrets",
    "KL7": "networking",
    "KL8": "APIs, metadata, admission",
    "KL9": "schema",
}


def rule_family(rule_id: str) -> str:
    """A readable family name from the rule id's hundreds digit."""
    return _FAMILIES.get(rule_id[:3], "custom")

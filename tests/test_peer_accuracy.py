"""Accuracy against the peers' own test suites (Polaris and Checkov fixtures).

Each peer fixture is a case another team decided must pass or fail one of its checks.
``tests/peer_mapping.yaml`` maps every peer check to the klint rules that check the same
thing (``relation: same``), only part of it (``partial``), something else by design
(``differs``) or nothing (``none``), with the reason; single cases where klint deliberately
disagrees inside a ``same`` mapping are listed under ``exceptions`` with their reason and
are left out of the adjudicated score (shown in the table, never silently dropped); the raw
score counts them as klint answered them, and the totals print both side by side.

A case is *caught* when one of the mapped rules reports on it: for Polaris, anywhere in the
fixture file (a file holds one case); for Checkov, on a line of the labelled resource.

Run ``python -m tests.test_peer_accuracy [all|default]`` to print the per-check table.
"""

from __future__ import annotations

import functools
import json
import os
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from klint.catalog import load_catalog
from klint.documents import Limits
from klint.engine import bind_rules, lint
from klint.findings import Finding
from klint.selection import select_rules
from klint.sources.base import LoadSettings
from klint.sources.manifests import ManifestFile

REPO = Path(__file__).resolve().parent.parent
# A checkout next to ``shared/`` (or a worktree one level deeper, as in ``wt/<name>``).
_NEAR = [base / "shared" / "peer-fixtures" for base in (REPO.parent, REPO.parent.parent)]
PEERS = Path(
    os.environ.get("KLINT_PEER_FIXTURES", next((p for p in _NEAR if p.is_dir()), _NEAR[0]))
)
MAPPING = Path(__file__).with_name("peer_mapping.yaml")
needs_peers = pytest.mark.skipif(
    not (PEERS / "polaris").is_dir() or not (PEERS / "checkov" / "expected.json").is_file(),
    reason=f"peer fixtures not present at {PEERS} (set KLINT_PEER_FIXTURES)",
)


@dataclass(frozen=True)
class Case:
    """One peer verdict: the check, the case id, whether it must fail, where it is."""

    peer: str
    check: str
    case: str
    must_fail: bool
    path: str  # relative to PEERS
    lines: tuple[int, int] | None = None  # None: the whole file


@dataclass
class Score:
    """Confusion counts of one check (or a whole peer)."""

    tp: int = 0
    fn: int = 0
    fp: int = 0
    tn: int = 0
    excepted: list[str] = field(default_factory=list)
    misses: list[str] = field(default_factory=list)
    false_alarms: list[str] = field(default_factory=list)
    caught_by: dict[str, set[str]] = field(default_factory=dict)
    # The deliberate differences scored as klint answered them (raw = adjudicated + these).
    excepted_counts: list[int] = field(default_factory=lambda: [0, 0, 0, 0])

    def add(self, other: Score) -> None:
        self.tp += other.tp
        self.fn += other.fn
        self.fp += other.fp
        self.tn += other.tn
        pairs = zip(self.excepted_counts, other.excepted_counts, strict=True)
        self.excepted_counts = [a + b for a, b in pairs]

    def count(self, must_fail: bool, caught: bool) -> str:
        """Score one case; the outcome's name."""
        if must_fail and caught:
            self.tp += 1
            return "tp"
        if must_fail:
            self.fn += 1
            return "fn"
        if caught:
            self.fp += 1
            return "fp"
        self.tn += 1
        return "tn"

    @property
    def raw(self) -> Score:
        """Every case scored as klint answered it, the deliberate differences included."""
        tp, fn, fp, tn = self.excepted_counts
        return Score(self.tp + tp, self.fn + fn, self.fp + fp, self.tn + tn)

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0


def load_mapping() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(MAPPING.read_text(encoding="utf-8"))
    return data


def peer_cases() -> list[Case]:
    """Every Polaris fixture file and every Checkov resource label."""
    cases = []
    for path in sorted((PEERS / "polaris").glob("*/*.y*ml")):
        verdict = path.name.split(".")[0]
        if verdict.startswith("success"):
            must_fail = False
        elif verdict.startswith(("failure", "mutated")):
            must_fail = verdict.startswith("failure")
            if verdict.startswith("mutated"):
                continue  # Polaris's mutation tests: the output of a fix, not a verdict
        else:
            continue
        relative = path.relative_to(PEERS).as_posix()
        cases.append(Case("polaris", path.parent.name, relative, must_fail, relative))
    labels = json.loads((PEERS / "checkov" / "expected.json").read_text(encoding="utf-8"))
    for label in labels["labels"]:
        relative = f"checkov/{label['file']}"
        start, end = label["lines"]
        cases.append(
            Case(
                "checkov",
                label["check_id"],
                f"{relative}#{label['resource']}",
                label["result"] == "FAILED",
                relative,
                (int(start), int(end)),
            )
        )
    return cases


def klint_findings(profile: str) -> list[Finding]:
    """Every active finding of one klint run over all peer fixtures with ``profile``.

    Each fixture file is its own lint unit (a command line would lint a named file with its
    folder): the peers test every file alone, and cross-object rules must not see objects
    of the fixture next door.
    """
    files = sorted(
        path
        for pattern in ("polaris/*/*.y*ml", "checkov/*/*.y*ml", "checkov/*/*.json")
        for path in PEERS.glob(pattern)
    )
    units = [ManifestFile(path, path.relative_to(PEERS).as_posix(), PEERS) for path in files]
    rules = bind_rules(select_rules(load_catalog(), (profile,)))
    report = lint(units, rules, LoadSettings(limits=Limits()), (1, 35))
    return list(report.active)


def _caught(case: Case, entry: dict[str, Any], by_path: dict[str, list[Finding]]) -> set[str]:
    """The mapped rules that report on the case (empty: not caught)."""
    rules = set(entry.get("rules") or ())
    pattern = entry.get("message")
    caught = set()
    for finding in by_path.get(case.path, []):
        if finding.rule_id not in rules:
            continue
        if pattern and not re.search(pattern, finding.message, re.IGNORECASE):
            continue
        if case.lines is None:
            caught.add(finding.rule_id)
            continue
        start, end = case.lines
        if start <= finding.location.span.start_line <= end:
            caught.add(finding.rule_id)
    return caught


@functools.cache
def score(profile: str) -> dict[str, dict[str, tuple[dict[str, Any], Score]]]:
    """peer → check → (mapping entry, score), for every mapped check (computed once)."""
    mapping = load_mapping()
    by_path: dict[str, list[Finding]] = {}
    for finding in klint_findings(profile):
        by_path.setdefault(finding.location.path, []).append(finding)
    result: dict[str, dict[str, tuple[dict[str, Any], Score]]] = {}
    for case in peer_cases():
        entry = mapping[case.peer].get(case.check)
        if entry is None:
            raise AssertionError(f"{case.peer} check {case.check} is not in {MAPPING.name}")
        _, check_score = result.setdefault(case.peer, {}).setdefault(case.check, (entry, Score()))
        if entry["relation"] == "none":
            continue
        caught_by = _caught(case, entry, by_path)
        exceptions = entry.get("exceptions") or {}
        if case.case in exceptions:
            check_score.excepted.append(f"{case.case}: {exceptions[case.case]}")
            outcome = Score()
            outcome.count(case.must_fail, bool(caught_by))
            check_score.excepted_counts = [
                a + b
                for a, b in zip(
                    check_score.excepted_counts,
                    (outcome.tp, outcome.fn, outcome.fp, outcome.tn),
                    strict=True,
                )
            ]
            continue
        check_score.caught_by[case.case] = caught_by
        outcome_name = check_score.count(case.must_fail, bool(caught_by))
        if outcome_name == "fn":
            check_score.misses.append(case.case)
        elif outcome_name == "fp":
            check_score.false_alarms.append(case.case)
    return result


def totals(
    scores: dict[str, dict[str, tuple[dict[str, Any], Score]]], relation: str = "same"
) -> dict[str, Score]:
    """Per peer, the summed score of the checks with ``relation``."""
    result: dict[str, Score] = {}
    for peer, checks in scores.items():
        total = result.setdefault(peer, Score())
        for entry, check_score in checks.values():
            if entry["relation"] == relation:
                total.add(check_score)
    return result


def table(scores: dict[str, dict[str, tuple[dict[str, Any], Score]]]) -> Iterable[str]:
    """The per-check table, then the per-peer totals of the 'same' mappings."""
    yield f"{'peer':8} {'check':42} {'relation':8} {'rules':14} TP FN FP TN  recall  prec"
    for peer, checks in sorted(scores.items()):
        for check, (entry, s) in sorted(checks.items()):
            rules = ",".join(entry.get("rules") or ()) or "-"
            yield (
                f"{peer:8} {check:42} {entry['relation']:8} {rules:14} "
                f"{s.tp:2} {s.fn:2} {s.fp:2} {s.tn:2}  {s.recall:6.1%} {s.precision:6.1%}"
            )
            for miss in s.misses:
                yield f"{'':10}missed: {miss}"
            for alarm in s.false_alarms:
                yield f"{'':10}false alarm: {alarm}"
            for note in s.excepted:
                yield f"{'':10}deliberate difference: {note}"
    yield (
        "adjudicated: the deliberate differences above are set aside; raw: they are scored as "
        "klint answered them"
    )
    for relation in ("same", "partial"):
        for peer, s in sorted(totals(scores, relation).items()):
            raw = s.raw
            yield (
                f"TOTAL {peer} ({relation}): adjudicated TP {s.tp} FN {s.fn} FP {s.fp} "
                f"TN {s.tn} recall {s.recall:.1%} precision {s.precision:.1%} | raw TP "
                f"{raw.tp} FN {raw.fn} FP {raw.fp} TN {raw.tn} recall {raw.recall:.1%} "
                f"precision {raw.precision:.1%}"
            )


# The levels reached (profile all, 'same' mappings); the test fails when one drops below.
FLOORS = {"polaris": (0.98, 1.0), "checkov": (1.0, 1.0)}


@needs_peers
def test_every_peer_check_is_mapped_with_a_reason() -> None:
    mapping = load_mapping()
    checks = {(case.peer, case.check) for case in peer_cases()}
    for peer, check in checks:
        entry = mapping[peer].get(check)
        assert entry is not None, f"{peer} {check} has no mapping"
        assert entry["relation"] in ("same", "partial", "differs", "none"), (peer, check)
        if entry["relation"] != "same":
            assert entry.get("reason"), f"{peer} {check}: say why it is {entry['relation']}"
        if entry["relation"] != "none":
            assert entry.get("rules"), f"{peer} {check}: which klint rules?"
        for reason in (entry.get("exceptions") or {}).values():
            assert reason, f"{peer} {check}: an exception needs its reason"
    mapped = {(peer, check) for peer in ("polaris", "checkov") for check in mapping[peer]}
    assert mapped - checks == set(), "mapping names checks the fixtures do not have"


@needs_peers
def test_every_deliberate_difference_names_a_case_of_its_check() -> None:
    mapping = load_mapping()
    cases: dict[tuple[str, str], set[str]] = {}
    for case in peer_cases():
        cases.setdefault((case.peer, case.check), set()).add(case.case)
    for peer in ("polaris", "checkov"):
        for check, entry in mapping[peer].items():
            for name in entry.get("exceptions") or {}:
                assert name in cases.get((peer, check), set()), f"{peer} {check}: {name}"


@needs_peers
def test_raw_and_adjudicated_totals_are_printed_side_by_side() -> None:
    scores = score("all")
    lines = [line for line in table(scores) if line.startswith("TOTAL")]
    assert lines and all("adjudicated TP" in line and "| raw TP" in line for line in lines)
    for peer, total in totals(scores).items():
        excepted = sum(len(s.excepted) for e, s in scores[peer].values() if e["relation"] == "same")
        raw = total.raw
        assert raw.tp + raw.fn + raw.fp + raw.tn == total.tp + total.fn + total.fp + total.tn + (
            excepted
        )


@needs_peers
def test_accuracy_on_the_peers_same_mappings() -> None:
    scores = score("all")
    report = "\n".join(table(scores))
    target = os.environ.get("KLINT_PEER_REPORT")
    if target:
        Path(target).write_text(report + "\n", encoding="utf-8")
    print(report)
    for peer, s in totals(scores).items():
        recall, precision = FLOORS[peer]
        assert s.recall >= recall, f"{peer} recall {s.recall:.1%} < {recall:.1%}\n{report}"
        assert s.precision >= precision, (
            f"{peer} precision {s.precision:.1%} < {precision:.1%}\n{report}"
        )


@needs_peers
def test_the_default_profile_misses_only_what_opt_in_rules_catch() -> None:
    """Every failing fixture a rule of the default profile catches is caught by default:
    what only ``--profile all`` finds comes from rules that say why they are opt-in."""
    from klint.catalog import load_catalog

    opt_in = {rule.id for rule in load_catalog() if "default" not in rule.profiles}
    everything, default = score("all"), score("default")
    for peer, checks in everything.items():
        for check, (entry, all_score) in checks.items():
            if entry["relation"] != "same":
                continue
            _, default_score = default[peer][check]
            for case in default_score.misses:
                rules = all_score.caught_by.get(case, set())
                assert rules <= opt_in, f"{case}: {sorted(rules - opt_in)} are on by default"


if __name__ == "__main__":
    for line in table(score(sys.argv[1] if len(sys.argv) > 1 else "all")):
        print(line)

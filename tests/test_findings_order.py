"""The report's findings: one per place, in the deterministic order, however they came in."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from klint.findings import (
    Finding,
    Location,
    Severity,
    Span,
    Suppression,
    sorted_once_per_location,
)

_SUPPRESSED = Suppression("inSource", "why", "comment")


def once_per_location(runs: list[list[Finding]]) -> list[Finding]:
    """The plain definition: one finding per rule, path, span and message, the first copy
    kept unless it is suppressed and a later one is not; then, where one rule, place
    (start), object and field has findings of several units, only those of the unit with an
    unsuppressed one, then the highest level, then the first."""
    kept: dict[tuple[object, ...], int] = {}
    result: list[tuple[int, Finding]] = []
    for unit, run in enumerate(runs):
        for finding in run:
            key = (finding.rule_id, finding.location.path, finding.location.span, finding.message)
            index = kept.get(key)
            if index is None:
                kept[key] = len(result)
                result.append((unit, finding))
            elif result[index][1].suppression is not None and finding.suppression is None:
                result[index] = (unit, finding)
    best: dict[tuple[object, ...], tuple[bool, int, int]] = {}
    for unit, finding in result:
        what = _what(finding)
        score = (finding.suppression is None, finding.severity.rank, -unit)
        best[what] = max(best.get(what, score), score)
    return [finding for unit, finding in result if -best[_what(finding)][2] == unit]


def _what(finding: Finding) -> tuple[object, ...]:
    span = finding.location.span
    where = (finding.location.path, span.start_line, span.start_column, finding.rule_id)
    return (*where, finding.object_ref, finding.field_path)


@st.composite
def findings(draw: st.DrawFn) -> Finding:
    line = draw(st.integers(1, 3))
    end = draw(st.integers(1, 2))  # same start, other end: equal sort keys, other places
    return Finding(
        rule_id=draw(st.sampled_from(["KL1", "KL2"])),
        rule_name="name",
        severity=draw(st.sampled_from(list(Severity))),
        message=draw(st.sampled_from(["a", "b"])),
        location=Location(draw(st.sampled_from(["a.yaml", "b.yaml"])), Span(line, 1, line, end)),
        object_ref=None,
        field_path=(draw(st.sampled_from(["x", "y"])),),  # copies differ in what is kept
        suppression=draw(st.sampled_from([None, _SUPPRESSED])),
    )


@given(st.lists(st.lists(findings(), max_size=12), max_size=5))
def test_sorted_once_per_location_is_dedup_then_sort(runs: list[list[Finding]]) -> None:
    """Units' findings merged: the same findings (the same objects) in the same order as
    de-duplicating all of them in unit order, then sorting."""
    expected = sorted(once_per_location(runs), key=Finding.sort_key)
    got = sorted_once_per_location([list(run) for run in runs])
    assert [id(f) for f in got] == [id(f) for f in expected]

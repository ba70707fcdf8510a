"""``klint fix``: apply the fixes the scan attached to its findings, then lint again.

The fixes are the findings' own text edits (:mod:`klint.edits`), the same ones SARIF and
the language server offer. Per file, non-overlapping fixes are applied bottom-up; the new
text is linted again in memory and what is still fixable is applied in the next round,
until nothing changes (at most :data:`MAX_ROUNDS`). Later rounds only fix findings the
first lint reported, so a fix never snowballs into changes nobody asked for.

Kustomize findings point at the base or patch file that set the field: their plans are
written into that file (list items matched by their merge key, a container's name), and
``klint fix`` re-runs the whole lint after writing, so fixes that depend on each other land
in later rounds. Helm charts are never rewritten: :func:`run_fix` returns advice instead.
Every file written must lie inside its repository (symbolic links that leave it are
refused).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from klint.catalog import Rule
from klint.documents import Limits, decode, parse_stream
from klint.edits import apply_edits, overlaps
from klint.engine import lint_unit
from klint.findings import Applicability, Finding, TextEdit
from klint.fix_targets import Collected, advice, kustomize_fix
from klint.fixes import fix_of, plan_for
from klint.printable import diff_line, log_line, printable
from klint.run import DEFAULT_KUBE_VERSION, RunOptions, parse_kube_version, policy_for
from klint.sources.base import DocumentLocator, LoadedUnit, LoadSettings, named_folders
from klint.sources.confine import OutsideRoot, confine, repository_root
from klint.sources.discover import DiscoverOptions, discover

MAX_ROUNDS = 8


@dataclass
class FixOutcome:
    """What ``klint fix`` did and what is left for a person to do."""

    files: dict[str, tuple[str, str]] = field(default_factory=dict)  # display → (old, new)
    applied: list[Finding] = field(default_factory=list)
    needs_review: list[Finding] = field(default_factory=list)  # held back without --unsafe
    advice: list[str] = field(default_factory=list)  # manual changes: Helm, unmappable
    errors: list[str] = field(default_factory=list)
    # (file, rule, fingerprint) of every finding the edits made go away, including findings
    # fixed as a side effect of another's fix (one securityContext edit can resolve several)
    resolved: set[tuple[str, str, str]] = field(default_factory=set)

    @property
    def manual(self) -> bool:
        return bool(self.advice)


class _Collector:
    """Engine hook: runs the suppressor and keeps the unsuppressed findings with objects."""

    def __init__(self, suppressor: Any) -> None:
        self.suppressor = suppressor
        self.collected: list[Collected] = []

    def __call__(
        self, loaded: LoadedUnit, resources: Any, pairs: Any
    ) -> tuple[list[Finding], list[Any]]:
        findings, notes = self.suppressor(loaded, resources, pairs)
        kept = {_key(f) for f in findings if f.suppression is None}
        plain = type(loaded.locator) is DocumentLocator
        source = "manifest" if plain else _source_of(loaded.locator)
        for resource, finding in pairs:
            if _key(finding) in kept:
                where = "stdin" if finding.location.path == "<stdin>" else source
                self.collected.append(
                    Collected(finding, resource.data, where, finding.fix, resource, loaded.locator)
                )
        return findings, notes


def _source_of(locator: Any) -> str:
    """``kustomize`` for overlays (their locator maps built objects), else ``helm``."""
    return "kustomize" if hasattr(locator, "objects") and hasattr(locator, "fallback") else "helm"


def _key(finding: Finding) -> tuple[Any, ...]:
    return (finding.rule_id, finding.location, finding.field_path, finding.message)


@dataclass
class _Session:
    """What every lint round shares: the options, settings and rules."""

    options: RunOptions
    cwd: Path
    settings: LoadSettings
    kube: tuple[int, int]
    rules: dict[str, Rule]


def _session(options: RunOptions, cwd: Path) -> _Session:
    policy = policy_for(options, cwd)
    kube_version = policy.kube_version or DEFAULT_KUBE_VERSION
    settings = LoadSettings(
        limits=Limits(max_file_bytes=options.max_file_bytes),
        helm_values=options.helm_values,
        helm_set=options.helm_set,
        helm_set_string=options.helm_set_string,
        release_name=options.release_name,
        namespace=options.namespace,
        kube_version=kube_version,
        named_folders=named_folders(options.paths, cwd),
    )
    rules = {rule.id: rule for rule in policy.rules}
    return _Session(options, cwd, settings, parse_kube_version(kube_version), rules)


def collect(options: RunOptions, cwd: Path) -> tuple[list[Collected], dict[str, Rule], list[str]]:
    """Lint as ``klint check`` would (config, selection, suppressions) and keep objects."""
    session = _session(options, cwd)
    policy = policy_for(options, cwd)
    discovery = discover(
        options.paths, cwd=cwd, options=DiscoverOptions(exclude=policy.exclude(cwd))
    )
    collector = _Collector(policy.suppressor)
    # every discovery problem is a named path that is not fixed (missing, or a link out)
    errors = [
        f"{n.location.path}: {n.message}" if n.location else n.message for n in discovery.problems
    ]
    for unit in policy.units(discovery.units, cwd):
        result = lint_unit(unit, policy.active, session.settings, session.kube, collector)
        errors += [
            f"{n.location.path if n.location else unit.display}: {n.message}"
            for n in result.notifications
            if n.fatal
        ]
    return collector.collected, session.rules, errors


@dataclass(frozen=True)
class _Buffer:
    """A file's edited text as a lint unit (plain manifest positions)."""

    text: str
    display: str

    def load(self, settings: LoadSettings) -> LoadedUnit:
        parsed = parse_stream(self.text, self.display, settings.limits)
        return LoadedUnit(parsed.documents, parsed.problems)


def _relint(session: _Session, display: str, text: str) -> list[Collected]:
    """Lint ``text`` as file ``display`` again (fresh suppressions: lines have moved)."""
    policy = policy_for(session.options, session.cwd)
    collector = _Collector(policy.suppressor)
    lint_unit(_Buffer(text, display), policy.active, session.settings, session.kube, collector)
    return collector.collected


@dataclass
class _File:
    """A file being fixed: where it really is, its bytes' text and the current text."""

    real: Path
    original: str
    current: str
    bom: bool


def _open(display: str, cwd: Path, outcome: FixOutcome) -> _File | None:
    """Read a file to fix, refusing one that is (or links to) a file outside its repository."""
    path = cwd / display
    try:
        real = confine(path, repository_root(path))
        data = real.read_bytes()
    except OutsideRoot as refused:
        outcome.errors.append(f"{display}: not fixed: {refused.reason}")
        return None
    except OSError as error:
        outcome.errors.append(f"{display}: cannot read the file to fix it: {error.strerror}")
        return None
    text, _ = decode(data, display)
    if text is None:
        outcome.errors.append(f"{display}: cannot read the file to fix it")
        return None
    return _File(real, text, text, data.startswith(b"\xef\xbb\xbf"))


def run_fix(options: Any, cwd: Path, *, unsafe: bool = False, write: bool = True) -> FixOutcome:
    """Fix what the run's findings allow: safe fixes, plus needs-review ones with ``unsafe``.

    ``options`` is a :class:`klint.run.RunOptions`. Files are written only with ``write``;
    then the whole lint runs again while fixes remain that earlier ones made possible.
    Helm findings and findings that cannot be mapped become advice.
    """
    outcome = FixOutcome()
    fixed: set[tuple[str, str]] = set()
    for _ in range(MAX_ROUNDS if write else 1):
        outcome.advice, outcome.needs_review = [], []
        if not _fix_once(options, cwd, unsafe, write, outcome, fixed) or outcome.errors:
            break
    return outcome


def _fix_once(
    options: RunOptions,
    cwd: Path,
    unsafe: bool,
    write: bool,
    outcome: FixOutcome,
    fixed: set[tuple[str, str]],
) -> bool:
    """One lint and the fixing rounds it allows; True when kustomize fixes were deferred."""
    collected, rules, errors = collect(options, cwd)
    session = _session(options, cwd)
    outcome.errors.extend(e for e in errors if e not in outcome.errors)
    wanted = {(c.finding.rule_id, c.finding.fingerprint) for c in collected}
    pending: dict[str, list[Collected]] = {}
    deferred = False
    for item in sorted(collected, key=lambda c: c.finding.sort_key()):
        rule = rules.get(item.finding.rule_id)
        if rule is None or fix_of(rule) is None:
            continue
        if item.source in ("helm", "stdin"):
            plan = plan_for(rule, item.obj, item.finding.field_path)
            if plan is not None:
                outcome.advice.append(advice(item, plan, cwd))
            continue
        if item.source == "kustomize":
            item.fix, text, later = kustomize_fix(item, rule, cwd)
            outcome.advice += [text] if text else []
            deferred |= later
        if item.fix is not None:
            pending.setdefault(item.finding.location.path, []).append(item)
    files: dict[str, _File] = {}
    for display in sorted(pending):
        opened = _open(display, cwd, outcome)
        if opened is None:
            continue
        files[display] = opened
        rounds = 1 if any(item.source == "kustomize" for item in pending[display]) else MAX_ROUNDS
        deferred |= _fix_file(
            _Round(session, wanted, unsafe, rounds),
            display,
            opened,
            pending[display],
            outcome,
            fixed,
        )
    for display, state in files.items():
        if state.current == state.original:
            continue
        outcome.resolved |= _gone(session, display, state.original, state.current)
        first = outcome.files.get(display, (state.original, ""))[0]
        outcome.files[display] = (first, state.current)
        if write:
            state.real.write_bytes(
                ("\ufeff" if state.bom else "").encode() + state.current.encode()
            )
    return deferred


@dataclass(frozen=True)
class _Round:
    """How one file is fixed: the session, the findings to fix, --unsafe and round limit."""

    session: _Session
    wanted: set[tuple[str, str]]
    unsafe: bool
    rounds: int


def _fix_file(
    how: _Round,
    display: str,
    state: _File,
    items: list[Collected],
    outcome: FixOutcome,
    fixed: set[tuple[str, str]],
) -> bool:
    """Apply rounds of fixes to one file; True when some wait for the next lint."""
    for round_number in range(how.rounds):
        taken: list[tuple[tuple[int, int], tuple[int, int]]] = []
        chosen: list[TextEdit] = []
        waiting = False
        for item in items:
            fix = item.fix
            key = (item.finding.rule_id, item.finding.fingerprint)
            if fix is None or key not in how.wanted:
                continue
            if fix.applicability is not Applicability.SAFE and not how.unsafe:
                if item.finding not in outcome.needs_review:
                    outcome.needs_review.append(item.finding)
                continue
            if overlaps(fix.edits, taken):
                waiting = True
                continue
            taken += [_region(edit) for edit in fix.edits]
            chosen += fix.edits
            if key not in fixed:
                fixed.add(key)
                outcome.applied.append(item.finding)
        if not chosen:
            return False
        state.current = apply_edits(state.current, chosen)
        if round_number + 1 == how.rounds:
            return waiting  # an overlay is rebuilt on disk before its next round
        items = [c for c in _relint(how.session, display, state.current) if c.fix is not None]
        outcome.needs_review = [f for f in outcome.needs_review if f.location.path != display]
    return False


def _gone(session: _Session, display: str, before: str, after: str) -> set[tuple[str, str, str]]:
    """The findings of ``display`` that the edits made go away."""

    def keys(text: str) -> set[tuple[str, str, str]]:
        found = _relint(session, display, text)
        return {(display, c.finding.rule_id, c.finding.fingerprint) for c in found}

    return keys(before) - keys(after)


def _region(edit: TextEdit) -> tuple[tuple[int, int], tuple[int, int]]:
    span = edit.span
    return (span.start_line, span.start_column), (span.end_line, span.end_column)


# --- output ---------------------------------------------------------------------------


def unified_diff(path: str, original: str, fixed: str) -> str:
    """``diff -u`` style text with ``a/`` and ``b/`` prefixes; every line through
    :func:`~klint.printable.diff_line`, so no file content can start a workflow command."""
    return "".join(
        diff_line(line)
        for line in difflib.unified_diff(
            original.splitlines(keepends=True),
            fixed.splitlines(keepends=True),
            fromfile=f"a/{printable(path)}",
            tofile=f"b/{printable(path)}",
        )
    )


def fix_summary(outcome: FixOutcome, *, diff: bool, unsafe: bool) -> str:
    """What happened, for standard error: errors, manual changes, counts, the --unsafe hint."""
    lines = [f"klint: error: {printable(message)}" for message in outcome.errors]
    lines += [log_line(advice) for advice in outcome.advice]
    verb = "would fix" if diff else "fixed"
    lines.append(
        f"klint: {verb} {len(outcome.resolved)} finding(s) with {len(outcome.applied)} fix(es) "
        f"in {len(outcome.files)} file(s)"
    )
    if outcome.needs_review and not unsafe:
        lines.append(
            f"klint: {len(outcome.needs_review)} more fix(es) need review: "
            "rerun with --unsafe (add --diff to see them first)"
        )
    if outcome.advice:
        lines.append(f"klint: {len(outcome.advice)} change(s) to make by hand (listed above)")
    return "\n".join(lines) + "\n"


def fix_exit_code(outcome: FixOutcome, *, diff: bool) -> int:
    """2 on errors; 1 when changes remain (``--diff`` with changes, or changes by hand); 0."""
    if outcome.errors:
        return 2
    if outcome.advice or (diff and outcome.files):
        return 1
    return 0

"""Units → documents → resources → checks → findings.

The engine knows nothing about flags or output formats. It runs the selected rules over
each lint unit, turns each violation's field path into a location through the unit's
locator, applies the configured severity and collects everything in a :class:`Report`.
"""

from __future__ import annotations

import contextlib
import gc
import itertools
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from klint.catalog import Rule
from klint.checks import REGISTRY, Check, UnitContext, Violation
from klint.edits import scan_fix
from klint.errors import KlintError
from klint.findings import Finding, Location, Notification, ObjectRef, Report, Severity, Span
from klint.model.component import expectation
from klint.model.resource import Resource, resources_from_document
from klint.not_kubernetes import NOT_KUBERNETES, SKIPPED
from klint.sources.base import DocumentLocator, LintUnit, LoadedUnit, LoadSettings


class EngineError(KlintError):
    """A rule refers to an unknown check or carries invalid params."""


@dataclass(frozen=True)
class ActiveRule:
    """A selected rule bound to its check, params and effective severity."""

    rule: Rule
    check: Check
    params: dict[str, Any]
    severity: Severity | None  # a configured override; None keeps the rule's/violation's


@dataclass
class UnitResult:
    """What linting one unit produced."""

    findings: list[Finding] = field(default_factory=list)
    notifications: list[Notification] = field(default_factory=list)
    files: int = 0
    objects: int = 0
    skipped: list[Notification] = field(default_factory=list)


def bind_rules(
    rules: Sequence[Rule],
    severity_overrides: dict[str, Severity] | None = None,
    param_overrides: dict[str, dict[str, Any]] | None = None,
    *,
    validate_builtin: bool = False,
) -> list[ActiveRule]:
    """Attach each rule to its registered check and validate the merged params.

    Built-in rules with their own params are validated by the test suite, so start-up
    skips them (jsonschema costs ~40 ms to import); custom rules and overrides are always
    validated.
    """
    severity_overrides = severity_overrides or {}
    param_overrides = param_overrides or {}
    active = []
    for rule in rules:
        check = REGISTRY.get(rule.check)
        if check is None:
            raise EngineError(f"{rule.source}: rule {rule.id} uses unknown check {rule.check!r}")
        params = {**rule.params, **param_overrides.get(rule.id, {})}
        if validate_builtin or not rule.builtin or rule.id in param_overrides:
            _validate_params(rule, check, params)
        active.append(ActiveRule(rule, check, params, severity_overrides.get(rule.id)))
    return active


def _validate_params(rule: Rule, check: Check, params: dict[str, Any]) -> None:
    if not check.params_schema:
        if params:
            raise EngineError(f"{rule.source}: check {check.name!r} takes no params")
        return
    import jsonschema

    merged = {**check.defaults, **params}
    errors = list(jsonschema.Draft202012Validator(check.params_schema).iter_errors(merged))
    if errors:
        raise EngineError(f"{rule.source}: params of rule {rule.id}: {errors[0].message}")


class UnitHook(Protocol):
    """Post-processing of one unit's findings while its objects and files are at hand.

    Suppressions use it: they need the object a finding came from and the raw lines.
    """

    def __call__(
        self,
        loaded: LoadedUnit,
        resources: Sequence[Resource],
        pairs: Sequence[tuple[Resource, Finding]],
    ) -> tuple[list[Finding], list[Notification]]: ...


def lint_unit(
    unit: LintUnit,
    rules: Sequence[ActiveRule],
    settings: LoadSettings,
    kube_version: tuple[int, int],
    hook: UnitHook | None = None,
) -> UnitResult:
    """Load one unit and run every rule over its objects."""
    loaded = unit.load(settings)
    if len(loaded.documents) > settings.limits.max_documents:
        result = UnitResult(notifications=list(loaded.problems), files=loaded.files)
        result.notifications.append(_too_many_documents(unit, settings.limits.max_documents))
        return result
    resources = [r for document in loaded.documents for r in resources_from_document(document)]
    result = _skip_non_kubernetes(loaded, resources)
    result.objects = len([r for r in resources if _reported(loaded, r.document.path)])
    context = UnitContext(resources, kube_version, settings.crd_paths)
    pairs: list[tuple[Resource, Finding]] = []
    shared: dict[Any, Any] = {}  # equal field paths and properties stored once per unit
    budget = settings.limits.max_findings
    for resource in resources:
        ref = resource.ref
        for active in rules:
            for violation in _run(active, resource, context, result, budget + 1 - len(pairs)):
                finding = _finding(active, resource, ref, violation, loaded, shared)
                pairs.append((resource, finding))
            if len(pairs) > budget:
                break
        if len(pairs) > budget:  # one object can multiply findings (300k containers)
            del pairs[budget:]
            result.notifications.append(_too_many_findings(unit, budget))
            break
    pairs = _without_replaced(pairs, rules)
    # By the file the object was read from: rendered output maps findings into its chart.
    pairs = [(r, f) for r, f in pairs if _reported(loaded, r.document.path)]
    if hook is None:
        result.findings.extend(finding for _, finding in pairs)
    else:
        findings, notes = hook(loaded, resources, pairs)
        result.findings.extend(findings)
        result.notifications.extend(notes)
    if loaded.report_only:
        hidden = _unnamed_files(loaded)
        for notes in (result.notifications, result.skipped):
            notes[:] = [n for n in notes if n.location is None or n.location.path not in hidden]
    return result


def _reported(loaded: LoadedUnit, source: str) -> bool:
    """Whether an object read from the file ``source`` is reported.

    A folder linted for some of its files reports the objects of those files only, wherever
    their findings point (committed ``helm template`` output maps to the chart's templates).
    """
    return not loaded.report_only or source in loaded.report_only


def _unnamed_files(loaded: LoadedUnit) -> set[str]:
    """The unit's files that were not named: their problems are not reported."""
    files = {d.path for d in loaded.documents}
    files.update(n.location.path for n in loaded.problems if n.location is not None)
    return files - loaded.report_only


def _without_replaced(
    pairs: list[tuple[Resource, Finding]], rules: Sequence[ActiveRule]
) -> list[tuple[Resource, Finding]]:
    """Each PSS violation once, under the most basic rule that reports it.

    A restricted PSS rule that ``overrides`` a baseline one finds what it finds and more.
    Where the baseline rule ran too and reported the same field of the same object, and the
    restricted violation says it violates that baseline control (``pss-also-violates``),
    the baseline finding stands (its id, wording and severity, so suppressions and
    configuration by its id act on it) and the restricted rule reports only what it adds.
    """
    controls = {a.rule.id: _pss_control(a.rule) for a in rules}
    replaced = {a.rule.id: a.rule.overrides for a in rules if a.rule.overrides}
    if not replaced:
        return pairs
    reported = {(id(resource), f.rule_id, f.field_path) for resource, f in pairs}

    def duplicate(resource: Resource, finding: Finding) -> bool:
        also = dict(finding.properties).get("pss-also-violates")
        return also is not None and any(
            controls.get(base) == also and (id(resource), base, finding.field_path) in reported
            for base in replaced.get(finding.rule_id, ())
        )

    return [(resource, f) for resource, f in pairs if not duplicate(resource, f)]


def _pss_control(rule: Rule) -> str | None:
    pss = rule.references.get("pss")
    return str(pss.get("check")) if isinstance(pss, dict) and pss.get("check") else None


def _skip_non_kubernetes(loaded: LoadedUnit, resources: Sequence[Resource]) -> UnitResult:
    """Set aside input that is not Kubernetes; it does not count as a linted file.

    A file is skipped when it holds no object and no problem a manifest could have; its
    ``not-kubernetes`` notes (syntax errors, repeated keys) are kept for ``--verbose``.
    """
    result = UnitResult(files=loaded.files)
    for problem in loaded.problems:
        target = result.skipped if problem.code in SKIPPED else result.notifications
        target.append(problem)
    linted = {r.document.path for r in resources}
    linted.update(n.location.path for n in result.notifications if n.location is not None)
    quiet = {d.path for d in loaded.documents} - linted
    for path in sorted(quiet):
        if not any(n.location is not None and n.location.path == path for n in result.skipped):
            result.skipped.append(
                Notification(
                    NOT_KUBERNETES,
                    "no Kubernetes object",
                    Location(path, Span.line(1)),
                    Severity.NOTE,
                )
            )
    broken = {n.location.path for n in result.skipped if n.location is not None} - linted
    uncounted = quiet | broken
    if loaded.report_only:  # only the named files were counted
        uncounted &= loaded.report_only
    result.files = max(result.files - len(uncounted), 0)
    return result


def _too_many_documents(unit: LintUnit, limit: int) -> Notification:
    """A unit (a folder, chart or overlay) over ``--max-documents``: not linted."""
    return Notification(
        "too-many-documents",
        f"{unit.display}: more than {limit:,} YAML documents in one lint unit "
        "(--max-documents); unit skipped",
        None,
    )


def _too_many_findings(unit: LintUnit, limit: int) -> Notification:
    """A unit whose findings pass ``--max-findings``: the first ones are kept."""
    return Notification(
        "too-many-findings",
        f"{unit.display}: more than {limit:,} findings in one lint unit (--max-findings); "
        "the rest of the unit is not checked",
        None,
    )


def _run(
    active: ActiveRule,
    resource: Resource,
    context: UnitContext,
    result: UnitResult,
    limit: int,
) -> Iterable[Violation]:
    """Run a check (at most ``limit`` violations), turning an unexpected exception into a
    notification, never a crash."""
    try:
        return list(itertools.islice(active.check.run(resource, context, active.params), limit))
    except Exception as error:
        location, _ = _locate_root(resource)
        result.notifications.append(
            Notification(
                "internal-check-error",
                f"rule {active.rule.id} failed on {resource.ref.describe()}: "
                f"{type(error).__name__}: {error}",
                location,
                fatal=True,
            )
        )
        return []


def _locate_root(resource: Resource) -> tuple[Any, Any]:
    return DocumentLocator().locate(resource, ())


def _finding(
    active: ActiveRule,
    resource: Resource,
    ref: ObjectRef,
    violation: Violation,
    loaded: LoadedUnit,
    shared: dict[Any, Any],
) -> Finding:
    """The finding of one violation: located, with its severity and its fix.

    A run keeps every finding until it is reported, so repeated values (messages, field
    paths) are stored once: 50,000 documents hold about 110,000 findings.
    """
    location, related = loaded.locator.locate(resource, violation.path)
    severity = active.severity or violation.severity or active.rule.severity
    message, properties = violation.message, violation.properties
    if active.severity is None and severity is not Severity.NOTE:
        expected = expectation(resource, active.rule.tags)
        if expected is not None:  # what this kind of component needs: a note that says so
            severity = Severity.NOTE
            message = f"{message.rstrip('.')} (expected for {expected.reason}; kept as a note)."
            properties = (*properties, ("expected-for", expected.kind))
    fix = None
    if active.rule.fix and type(loaded.locator) is DocumentLocator:
        # a plain manifest: the fix edits the text the finding points at
        fix = scan_fix(active.rule, resource.document, resource.data, resource.base, violation.path)
    return Finding(
        rule_id=active.rule.id,
        rule_name=active.rule.name,
        severity=severity,
        message=sys.intern(message),
        location=location,
        object_ref=ref,
        field_path=shared.setdefault(violation.path, violation.path),
        related=related,
        properties=shared.setdefault(properties, properties),
        source_identity=_source_identity(resource),
        fix=fix,
    )


def _source_identity(resource: Resource) -> str:
    """The document's stable source name plus the object's kind and place in it, if known."""
    identity = resource.document.identity
    if not identity:
        return ""
    where = ".".join(str(part) for part in resource.base)
    return f"{identity}#{resource.kind}#{where}"


def lint(
    units: Sequence[LintUnit],
    rules: Sequence[ActiveRule],
    settings: LoadSettings,
    kube_version: tuple[int, int],
    jobs: int = 1,
    hook: UnitHook | None = None,
    cache: ResultCache | None = None,
) -> Report:
    """Lint every unit and return the sorted report.

    With ``jobs`` > 1 and enough units, units are linted in forked worker processes; the
    results are merged in input order, so the output is identical to a serial run.

    The cyclic garbage collector is paused meanwhile: parsing creates millions of small
    objects without cycles (freed by reference counting), and the collector's repeated scans
    of them cost more than the parsing itself (2.9 s against 0.5 s on the shared corpus).
    """
    report = Report(rule_ids=[active.rule.id for active in rules])
    with _collector_paused():
        for result in _cached_results(units, rules, settings, kube_version, jobs, hook, cache):
            report.findings.extend(result.findings)
            report.notifications.extend(result.notifications)
            report.skipped.extend(result.skipped)
            report.files_scanned += result.files
            report.objects_scanned += result.objects
    report.findings = once_per_location(report.findings)
    report.sort()
    return report


def once_per_location(findings: Sequence[Finding]) -> list[Finding]:
    """One finding per rule, place and message, whichever units reached it.

    A base linted on its own and through the overlay that uses it, or a chart beside its
    committed ``helm template`` output, map the same violation to the same line of the
    same file twice; a person fixes it once. An unsuppressed copy wins over a suppressed one.
    """
    kept: dict[tuple[object, ...], int] = {}
    result: list[Finding] = []
    for finding in findings:
        span = finding.location.span
        key = (finding.rule_id, finding.location.path, span, finding.message)
        index = kept.get(key)
        if index is None:
            kept[key] = len(result)
            result.append(finding)
        elif result[index].suppression is not None and finding.suppression is None:
            result[index] = finding
    return result


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class ResultCache(Protocol):
    """Stored results of units whose inputs did not change (:mod:`klint.result_cache`)."""

    def get(self, unit: LintUnit) -> UnitResult | None: ...
    def put(self, unit: LintUnit, result: UnitResult) -> None: ...


def _cached_results(
    units: Sequence[LintUnit],
    rules: Sequence[ActiveRule],
    settings: LoadSettings,
    kube_version: tuple[int, int],
    jobs: int,
    hook: UnitHook | None,
    cache: ResultCache | None,
) -> Iterator[UnitResult]:
    """Each unit's results in order: stored ones replayed, the others linted (and stored)."""
    if cache is None:
        yield from _results(units, rules, settings, kube_version, jobs, hook)
        return
    stored = [cache.get(unit) for unit in units]
    todo = [unit for unit, hit in zip(units, stored, strict=True) if hit is None]
    fresh = iter(_results(todo, rules, settings, kube_version, jobs, hook))
    for unit, hit in zip(units, stored, strict=True):
        if hit is None:
            hit = next(fresh)
            cache.put(unit, hit)
        yield hit


_PARALLEL_MIN_UNITS = 16


def _results(
    units: Sequence[LintUnit],
    rules: Sequence[ActiveRule],
    settings: LoadSettings,
    kube_version: tuple[int, int],
    jobs: int,
    hook: UnitHook | None = None,
) -> Iterable[UnitResult]:
    if jobs <= 1 or len(units) < _PARALLEL_MIN_UNITS:
        for unit in units:
            yield lint_unit(unit, rules, settings, kube_version, hook)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    global _WORKER_STATE
    _WORKER_STATE = (rules, settings, kube_version, hook)  # inherited by the forked workers
    context = multiprocessing.get_context("fork")
    chunk = max(1, len(units) // (jobs * 8))
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        yield from pool.map(_lint_in_worker, units, chunksize=chunk)


_WORKER_STATE: (
    tuple[Sequence[ActiveRule], LoadSettings, tuple[int, int], UnitHook | None] | None
) = None


def _lint_in_worker(unit: LintUnit) -> UnitResult:
    assert _WORKER_STATE is not None
    rules, settings, kube_version, hook = _WORKER_STATE
    return lint_unit(unit, rules, settings, kube_version, hook)

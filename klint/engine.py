"""Units → documents → resources → checks → findings.

The engine knows nothing about flags or output formats. It runs the selected rules over
each lint unit, turns each violation's field path into a location through the unit's
locator, applies the configured severity and collects everything in a :class:`Report`.
"""

from __future__ import annotations

import contextlib
import gc
import itertools
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from typing import Any, Protocol

from klint import engine_pool
from klint.checks import UnitContext, Violation
from klint.checks.base import CheckFunction
from klint.edits import scan_fix
from klint.engine_context import generated_copy, generated_secret
from klint.engine_rules import (
    ActiveRule,
    EngineError,
    PackedResult,
    UnitHook,
    UnitResult,
    bind_rules,
    bound_checks,
    implied_by_admin_binding,
    implied_by_wildcard,
    unpacked,
    without_replaced,
)
from klint.findings import (
    Finding,
    Location,
    Notification,
    ObjectRef,
    Report,
    Severity,
    Span,
    sorted_once_per_location,
)
from klint.model import declared
from klint.model.component import below_named_folder, expectation, unit_expectation
from klint.model.deploy_time import deploy_time
from klint.model.release_copy import development_copy
from klint.model.resource import Resource, dig, resources_from_document
from klint.not_kubernetes import NOT_KUBERNETES, PART_OF_UNIT, SKIPPED
from klint.sources.base import DocumentLocator, LintUnit, LoadedUnit, LoadSettings
from klint.suppress import once_across_units
from klint.unit_budget import (
    UnitBudget,
    UnitBudgetExceeded,
    too_many_documents,
    too_many_findings,
    unit_problem,
)

__all__ = [
    "ActiveRule",
    "EngineError",
    "UnitHook",
    "UnitResult",
    "bind_rules",
    "lint",
    "lint_unit",
]


def lint_unit(
    unit: LintUnit,
    rules: Sequence[ActiveRule],
    settings: LoadSettings,
    kube_version: tuple[int, int],
    hook: UnitHook | None = None,
) -> UnitResult:
    """Load one unit and run every rule over its objects, within the unit's budget.

    Whatever goes wrong inside (a limit passed, an exception in a source or a check)
    becomes one input problem of this unit; the run and the other units go on.
    """
    limits = settings.limits
    budget = UnitBudget(limits.unit_timeout, limits.unit_memory_mb * 2**20)
    loaded: LoadedUnit | None = None
    try:
        timeout = budget.child_timeout(settings.render_timeout)
        if timeout < settings.render_timeout:  # a render may take what the unit has left
            settings = replace(settings, render_timeout=timeout)
        loaded = unit.load(settings)
        budget.check()
        return _lint_loaded(unit, loaded, rules, settings, kube_version, hook, budget)
    except UnitBudgetExceeded as over:
        return _unit_problem(unit, loaded, "unit-budget", over.reason)
    except Exception as error:  # a bug reached through this unit's input: its problem only
        if os.environ.get(DEBUG_ENV):
            import traceback

            traceback.print_exc()
        reason = (
            f"could not be linted ({type(error).__name__}: {error}); "
            f"set {DEBUG_ENV}=1 for the traceback"
        )
        return _unit_problem(unit, loaded, "unit-error", reason)


DEBUG_ENV = "KLINT_DEBUG"


def _lint_loaded(
    unit: LintUnit,
    loaded: LoadedUnit,
    rules: Sequence[ActiveRule],
    settings: LoadSettings,
    kube_version: tuple[int, int],
    hook: UnitHook | None,
    budget: UnitBudget,
) -> UnitResult:
    if len(loaded.documents) > settings.limits.max_documents:
        result = UnitResult(
            notifications=list(loaded.problems), files=loaded.files, file_paths=loaded.file_paths
        )
        result.notifications.append(
            too_many_documents(
                unit.display, _unit_file(unit, loaded), settings.limits.max_documents
            )
        )
        return result
    resources = _objects(loaded, settings.limits.max_documents)
    result = _skip_non_kubernetes(loaded, resources)
    result.objects = len([r for r in resources if _reported(loaded, r.document.path)])
    context = UnitContext(resources, kube_version, settings.crd_paths, budget=budget)
    pairs: list[tuple[Resource, Finding]] = []
    shared: dict[Any, Any] = {}  # equal field paths and properties stored once per unit
    limit = settings.limits.max_findings
    bound = bound_checks(rules)
    for resource in resources:
        budget.check()
        ref = resource.ref
        for active, function, params in bound:
            for violation in _run(
                active, function, params, resource, context, result, limit + 1 - len(pairs)
            ):
                if loaded.placeholders and _made_up(resource, violation.path, loaded.placeholders):
                    continue
                finding = _finding(active, resource, ref, violation, loaded, shared, settings)
                pairs.append((resource, finding))
            if len(pairs) > limit:
                break
        if len(pairs) > limit:  # one object can multiply findings (300k containers)
            del pairs[limit:]
            result.notifications.append(too_many_findings(unit.display, limit))
            break
    pairs = implied_by_wildcard(without_replaced(pairs, rules))
    pairs = implied_by_admin_binding(pairs, resources)
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
            notes[:] = [n for n in notes if _shown(n, hidden)]
    return result


def _shown(note: Notification, hidden: set[str]) -> bool:
    """Whether a unit that reports some of its files only shows ``note``: a note that a
    file is linted in another unit is shown whatever file it is on."""
    return note.code == PART_OF_UNIT or note.location is None or note.location.path not in hidden


def _objects(loaded: LoadedUnit, limit: int) -> list[Resource]:
    """The unit's objects, ``List`` items and YAML aliases expanded, at most ``limit``."""
    resources: list[Resource] = []
    for document in loaded.documents:
        for resource in resources_from_document(document):
            resources.append(resource)
            if len(resources) > limit:
                raise UnitBudgetExceeded(
                    f"more than {limit:,} objects in one lint unit, List items and YAML "
                    "aliases counted (--max-documents); not linted"
                )
    return resources


def _unit_problem(unit: LintUnit, loaded: LoadedUnit | None, code: str, reason: str) -> UnitResult:
    """The one input problem of a unit that failed or went over its budget (its partial
    findings are dropped: they would depend on timing), with its load problems."""
    result = UnitResult(files=loaded.files if loaded is not None else 0)
    if loaded is not None:
        result.notifications.extend(loaded.problems)
    result.notifications.append(unit_problem(unit.display, _unit_file(unit, loaded), code, reason))
    return result


def _unit_file(unit: LintUnit, loaded: LoadedUnit | None) -> str:
    """The file a unit's problem is shown on: its first (named) file, else the unit."""
    if loaded is not None:
        files = loaded.report_only or {d.path for d in loaded.documents}
        if files:
            return min(files)
    return unit.display


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


_NOT_K8S = "no Kubernetes object"


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
    rendered = {d.path for d in loaded.documents if d.rendered}  # chart templates' output
    for path in sorted(quiet):
        if not any(n.location is not None and n.location.path == path for n in result.skipped):
            why = "renders no object with the values used" if path in rendered else _NOT_K8S
            where = Location(path, Span.line(1))
            result.skipped.append(Notification(NOT_KUBERNETES, why, where, Severity.NOTE))
    broken = {n.location.path for n in result.skipped if n.location is not None} - linted
    uncounted = quiet | broken
    if loaded.report_only:  # only the named files were counted
        uncounted &= loaded.report_only
    result.files = max(result.files - len(uncounted), 0)
    if loaded.file_paths is not None:
        result.file_paths = loaded.file_paths - uncounted
    return result


def _run(
    active: ActiveRule,
    function: CheckFunction,
    params: Mapping[str, Any],
    resource: Resource,
    context: UnitContext,
    result: UnitResult,
    limit: int,
) -> Iterable[Violation]:
    """Run a check (at most ``limit`` violations), turning an unexpected exception into a
    notification, never a crash."""
    try:
        return list(itertools.islice(function(resource, context, params), limit))
    except UnitBudgetExceeded:
        raise
    except Exception as error:  # a check's bug stays a problem of this object and rule
        if os.environ.get(DEBUG_ENV):
            import traceback

            traceback.print_exc()
        location, _ = _locate_root(resource)
        result.notifications.append(
            Notification(
                "internal-check-error",
                f"rule {active.rule.id} failed on {resource.ref.describe()}: "
                f"{type(error).__name__}: {error}",
                location,
                repeatable=False,  # a bug may depend on more than the input: never cached
            )
        )
        return []


def _made_up(resource: Resource, path: tuple[str | int, ...], placeholders: frozenset[str]) -> bool:
    """Whether the field a violation points at holds a value klint made up to render."""
    value = dig(resource.data, path)
    return isinstance(value, str) and any(p in value for p in placeholders)


def _locate_root(resource: Resource) -> tuple[Any, Any]:
    return DocumentLocator().locate(resource, ())


def _finding(
    active: ActiveRule,
    resource: Resource,
    ref: ObjectRef,
    violation: Violation,
    loaded: LoadedUnit,
    shared: dict[Any, Any],
    settings: LoadSettings | None = None,
) -> Finding:
    """The finding of one violation: located, with its severity and its fix (repeated
    values are stored once: 50,000 documents hold about 110,000 findings)."""
    location, related = loaded.locator.locate(resource, violation.path)
    severity = active.severity or violation.severity or active.rule.severity
    message, properties = violation.message, violation.properties
    if active.severity is None and severity is not Severity.NOTE:
        values_set = any(r.location.path.endswith((".yaml", ".yml")) for r in related)
        run = settings or LoadSettings()
        context_path, tags = below_named_folder(location.path, run.named_folders), active.rule.tags
        expected = (
            unit_expectation(loaded.context, tags)
            or generated_copy(resource, location.path, loaded, run, shared)
            or generated_secret(active.rule.id, resource, loaded)
            or deploy_time(resource, violation.path, tags, loaded.deploy_images)
            or development_copy(resource, violation.path, tags, location.path, run.release_pins)
            or expectation(resource, tags, context_path, violation.path, values_set)
            or declared.self_declared(tags, location.path, run.declared_folders)
        )
        if expected is not None:  # a component or input context: a note that says why
            severity = Severity.NOTE
            message = expected.message(message)
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
        location=shared.setdefault(location, location),  # rules that flag one field
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
    progress: Callable[[int, int], None] | None = None,
    cache: ResultCache | None = None,
) -> Report:
    """Lint every unit and return the sorted report; ``progress(done, total)`` after each.

    With ``jobs`` > 1 and enough units, units are linted in forked worker processes; the
    results are merged in input order, so the output is identical to a serial run.

    The cyclic garbage collector is paused meanwhile: parsing creates millions of small
    objects without cycles (freed by reference counting), and the collector's repeated scans
    of them cost more than the parsing itself (2.9 s against 0.5 s on the shared corpus).
    """
    report = Report(rule_ids=[active.rule.id for active in rules])
    seen: set[str] = set()  # each file once, however many units read it
    unlisted: set[str] = set()
    runs: list[list[Finding] | bytes] = []  # each unit's findings (packed by a worker)
    with _collector_paused():
        for done, result in enumerate(
            _cached_results(units, rules, settings, kube_version, jobs, hook, cache)
        ):
            if progress is not None:
                progress(done + 1, len(units))
            if isinstance(result, PackedResult):
                runs.append(result.packed)  # merged below
            else:
                runs.append(list(result.findings))
            report.notifications.extend(result.notifications)
            report.skipped.extend(result.skipped)
            if result.file_paths is None:
                report.files_scanned += result.files
                if result.files:  # a unit that counts its files without naming them
                    unlisted.add(units[done].display)
            else:
                seen.update(result.file_paths)
            report.objects_scanned += result.objects
    report.notifications = once_across_units(report.notifications)
    report.files_scanned += len(seen)
    report.linted = sorted(seen | unlisted)
    # unpacked once the workers are gone: the parent never holds every unit's finding
    # objects while workers hold their units (50,000 documents: ~53 MiB against ~12 packed)
    for index, run in enumerate(runs):
        if isinstance(run, bytes):
            import pickle  # only runs that packed results (a pool) load it

            runs[index] = pickle.loads(run)
    report.findings = sorted_once_per_location([r for r in runs if not isinstance(r, bytes)])
    del runs
    report.notifications.sort(key=Notification.sort_key)
    return report


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
            cache.put(unit, unpacked(hit))
        yield hit
    next(fresh, None)  # the workers exit before the run is merged


def _results(
    units: Sequence[LintUnit],
    rules: Sequence[ActiveRule],
    settings: LoadSettings,
    kube_version: tuple[int, int],
    jobs: int,
    hook: UnitHook | None = None,
) -> Iterable[UnitResult]:
    """Each unit's results in order, in worker processes when that pays (engine_pool)."""

    def lint(unit: LintUnit) -> UnitResult:
        return lint_unit(unit, rules, settings, kube_version, hook)

    return engine_pool.results(units, lint, settings, jobs)

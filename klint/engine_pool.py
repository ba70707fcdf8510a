"""Linting units in forked worker processes: when it pays, and how.

Work that units share (a Kustomize base many overlays include) is prepared in the parent
before the workers fork, so every worker inherits it instead of doing it again. Workers send
their results packed (:func:`~klint.engine_rules.packed`); results come back in unit order.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

from klint.engine_rules import UnitResult, packed
from klint.sources.base import LintUnit, LoadSettings

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

Lint = Callable[[LintUnit], UnitResult]

PARALLEL_MIN_UNITS = 16
# Fewer units are linted in workers too when they are big plain-manifest folders (a folder
# of 50,000 documents is 9 units of 2 MiB, ~3 s each): forking costs ~0.1 s.
PARALLEL_MIN_BYTES = 4 * 1024 * 1024


def parallel(units: Sequence[LintUnit], jobs: int) -> bool:
    """Whether to lint in worker processes: enough units, or a few heavy ones."""
    if jobs <= 1 or len(units) < 2:
        return False
    if len(units) >= PARALLEL_MIN_UNITS:
        return True
    total = 0
    for unit in units:
        size = getattr(unit, "input_bytes", None)
        if size is None:  # a chart or overlay: its cost is unknown
            return False
        total += int(size())
    return total >= PARALLEL_MIN_BYTES


def results(
    units: Sequence[LintUnit], lint: Lint, settings: LoadSettings, jobs: int
) -> Iterable[UnitResult]:
    """``lint`` of each unit, in order: here, or in ``jobs`` forked workers when it pays."""
    if not parallel(units, jobs):
        for unit in units:
            yield lint(unit)
        return
    global _WORKER_LINT
    _WORKER_LINT = lint  # inherited by the forked workers
    waits = []  # work that units share, done once before the workers fork
    for unit in units:
        prepare = getattr(unit, "prepare", None)
        waits.append(prepare(settings) if prepare is not None else None)
    first = 0
    if waits[0] is not None:  # the first unit is ready: linted here while others build,
        waits[0]()  # and what it warms (shared schemas validated, imports) is inherited
        yield lint(units[0])
        first = 1
    for wait in waits[first:]:  # what a prepare started (in threads) ends before the fork
        if wait is not None:
            wait()
    chunk = max(1, len(units) // (jobs * 8))
    gc.freeze()  # what prepare built is shared: no collector walks it (nor copies its pages)
    try:
        with worker_pool(jobs) as pool:
            yield from pool.map(lint_in_worker, units[first:], chunksize=chunk)
    finally:
        gc.unfreeze()


def worker_pool(jobs: int) -> ProcessPoolExecutor:
    """``jobs`` forked workers that die with this process (a killed run leaves none)."""
    import multiprocessing
    import os
    from concurrent.futures import ProcessPoolExecutor

    from klint.sandbox import die_with_parent

    context = multiprocessing.get_context("fork")
    return ProcessPoolExecutor(
        max_workers=jobs, mp_context=context, initializer=die_with_parent, initargs=(os.getpid(),)
    )


_WORKER_LINT: Lint | None = None


def lint_in_worker(unit: LintUnit) -> UnitResult:
    """One unit in a worker, with what the parent set up before the fork."""
    assert _WORKER_LINT is not None
    return packed(_WORKER_LINT(unit))

"""Builds started before worker processes fork, run side by side in threads of the parent.

A tree of overlays over one heavy CRD base spends its time in the tool: one build of the
base and one small (stubbed) build per overlay (shared.py). None of the overlays' stubbed
builds needs the base's output, so ``build.prepare`` starts them all at once, with the
base's build, in a few threads (each thread only waits on its child: the tool runs with
the same confined copy, environment, timeout and memory and output limits as it does from
:func:`build.build`). Each overlay's outcome, its output or its build error, is kept for
its own unit, which the worker that lints it takes instead of running the tool again;
what is not kept (over the memory bound, or an unexpected failure) is built again there.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Hashable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, ParamSpec, TypeVar

from klint.sources.kustomize.sandbox import KustomizeBuildError

if TYPE_CHECKING:
    from klint.sources.kustomize.shared import Splice

Outcome = tuple[str, str, "Splice | None"]
P = ParamSpec("P")
R = TypeVar("R")

_MAX_THREADS = 4  # builds at once: one more than the cores, while the base builds
_MAX_KEPT_BYTES = 64 * 1024 * 1024  # outputs held until the workers take them

_POOL: ThreadPoolExecutor | None = None
_KEPT: dict[Hashable, Outcome | KustomizeBuildError] = {}
_KEPT_BYTES = 0
_HELD = 0  # waits still to come (hold/release): the threads stop after the last one


def submit(function: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> Future[R]:
    """Run ``function`` in a thread of the parent (:func:`settle` waits for it)."""
    global _POOL
    if _POOL is None:
        threads = max(2, min(_MAX_THREADS, (os.cpu_count() or 1) + 1))
        _POOL = ThreadPoolExecutor(threads, thread_name_prefix="klint-kustomize")
    return _POOL.submit(function, *args, **kwargs)


def hold() -> None:
    """One more wait will be called (:func:`release`) before workers fork."""
    global _HELD
    _HELD += 1


def release() -> None:
    """A wait has run; after the last one every build has ended and the threads stop."""
    global _HELD
    _HELD = max(0, _HELD - 1)
    if _HELD == 0:
        settle()


def settle() -> None:
    """Wait for every build started here and stop the threads (before workers fork)."""
    global _POOL
    pool, _POOL = _POOL, None
    if pool is not None:
        pool.shutdown(wait=True)


def keep(key: Hashable, future: Future[Outcome]) -> None:
    """Wait for an overlay's build and keep its outcome for :func:`take`."""
    global _KEPT_BYTES
    try:
        outcome: Outcome | KustomizeBuildError = future.result()
    except KustomizeBuildError as error:
        outcome = error
    except Exception:  # not kept: the unit's own build runs and reports it
        return
    size = len(outcome[0]) + len(outcome[1]) if isinstance(outcome, tuple) else 0
    if key not in _KEPT and _KEPT_BYTES + size <= _MAX_KEPT_BYTES:
        _KEPT[key] = outcome
        _KEPT_BYTES += size


def take(key: Hashable) -> Outcome | None:
    """The kept outcome of a build (once): its output, or its error raised again."""
    global _KEPT_BYTES
    outcome = _KEPT.pop(key, None)
    if isinstance(outcome, KustomizeBuildError):
        raise outcome
    if outcome is not None:
        _KEPT_BYTES -= len(outcome[0]) + len(outcome[1])
    return outcome

"""Run plans in a child process with a time and memory budget.

CEL cannot loop forever, and the runtime stops comprehensions after 10,000 iterations,
but an expression from a pull request can still do enormous work per iteration (string
concatenation over a large input, a catastrophic regular expression in ``find``). The
plans therefore run in one forked child per klint process: a batch that takes longer
than its time budget, or a child that dies (its address space is capped), ends the child
and yields ``budget`` outcomes; the plan is then not evaluated again this run, and the
next batch starts a fresh child. Where ``fork`` is unavailable plans run in-process.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import date, datetime
from functools import cache
from typing import Any

from klint.cel.environment import CelUnavailable, runtime_available, unavailable_message
from klint.cel.plan import Outcome, Plan, run_plan

TIME_BUDGET = 1.0  # seconds for one plan over one object
BATCH_BUDGET = 5.0  # seconds for one batch at most (then each plan alone)
MEMORY_BUDGET = 1 << 30  # bytes of address space the child may add


class Evaluator:
    """Sends batches of (plan, bindings) to the child and collects their outcomes."""

    def __init__(self) -> None:
        self._pid = os.getpid()
        self._child: Any = None
        self._connection: Any = None
        self.exhausted: dict[str, str] = {}  # plan key → why it ran out of budget

    def run(self, batch: Sequence[tuple[Plan, dict[str, Any]]]) -> list[Outcome]:
        """One outcome per (plan, bindings), in order; :class:`CelUnavailable` without CEL."""
        if not _runtime_available():
            raise CelUnavailable(unavailable_message())
        positions = [i for i, (plan, _) in enumerate(batch) if plan.key not in self.exhausted]
        evaluated = self._evaluate([batch[i] for i in positions]) if positions else []
        outcomes = dict(zip(positions, evaluated, strict=True))
        return [
            outcomes.get(i) or Outcome("budget", detail=self.exhausted.get(plan.key, ""))
            for i, (plan, _) in enumerate(batch)
        ]

    def _evaluate(self, batch: Sequence[tuple[Plan, dict[str, Any]]]) -> list[Outcome]:
        request = [(plan, plain(bindings)) for plan, bindings in batch]
        if not _can_fork():
            return [_run_bounded(plan, bindings) for plan, bindings in request]
        answer = self._ask(request)
        if answer is not None:
            return answer
        if len(request) > 1:  # find the culprit: the others still get their outcomes
            return [self._evaluate([item])[0] for item in batch]
        why = f"evaluation took longer than {TIME_BUDGET:g} s"
        self.exhausted.setdefault(batch[0][0].key, why)
        return [Outcome("budget", detail=why)]

    def _ask(self, request: list[tuple[Plan, Any]]) -> list[Outcome] | None:
        """The child's answer, or None when it ran out of time or died."""
        connection = self._ensure_child()
        try:
            connection.send(request)
            if connection.poll(min(BATCH_BUDGET, TIME_BUDGET * len(request))):
                answer: list[Outcome] = connection.recv()
                for (plan, _), outcome in zip(request, answer, strict=True):
                    if outcome.status == "budget":
                        self.exhausted.setdefault(plan.key, outcome.detail)
                return answer
        except (EOFError, OSError):
            pass
        self.close()
        return None

    def _ensure_child(self) -> Any:
        if self._child is not None and self._child.is_alive():
            return self._connection
        import multiprocessing

        context = multiprocessing.get_context("fork")
        parent, child = context.Pipe()
        process = context.Process(target=_serve, args=(child, os.getpid()), daemon=True)
        process.start()
        child.close()
        self._child, self._connection = process, parent
        return parent

    def close(self) -> None:
        """End the child (it is restarted on the next batch)."""
        if self._child is not None:
            self._child.kill()
            self._child.join(5)
            self._connection.close()
        self._child = self._connection = None


@cache
def _runtime_available() -> bool:
    return runtime_available()


def _can_fork() -> bool:
    import multiprocessing

    return "fork" in multiprocessing.get_all_start_methods()


def _serve(connection: Any, parent: int) -> None:
    """The child: enter klint's sandbox (no network, dies with ``parent``), cap memory,
    then answer batches until the pipe closes."""
    import sys

    from klint.sandbox import enter_child

    enter_child(parent)

    sys.stderr = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 - lives as long as the child
    _limit_memory()
    while True:
        try:
            request = connection.recv()
        except (EOFError, OSError):
            return
        connection.send([_run_bounded(plan, bindings) for plan, bindings in request])


def _run_bounded(plan: Plan, bindings: dict[str, Any]) -> Outcome:
    try:
        return run_plan(plan, bindings)
    except MemoryError:
        return Outcome("budget", detail="evaluation exceeded the memory budget")
    except RecursionError:
        return Outcome("budget", detail="the value is nested too deeply")


def _limit_memory() -> None:
    try:
        import resource

        with open("/proc/self/statm", encoding="ascii") as handle:
            pages = int(handle.read().split()[0])
        used = pages * os.sysconf("SC_PAGE_SIZE")
        resource.setrlimit(resource.RLIMIT_AS, (used + MEMORY_BUDGET, used + MEMORY_BUDGET))
    except (ImportError, OSError, ValueError):  # pragma: no cover - not Linux
        pass


def plain(value: Any) -> Any:
    """A value as the API server would see it: JSON types only (YAML dates become strings)."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


_EVALUATOR: Evaluator | None = None


def evaluator() -> Evaluator:
    """The evaluator of this process (a forked worker gets its own)."""
    global _EVALUATOR
    if _EVALUATOR is None or _EVALUATOR._pid != os.getpid():
        _EVALUATOR = Evaluator()
    return _EVALUATOR

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
from klint.unit_budget import UnitBudget, unlimited

TIME_BUDGET = 1.0  # seconds for one plan over one object
BATCH_BUDGET = 5.0  # seconds for one batch at most (then each plan alone)
MEMORY_BUDGET = 1 << 30  # bytes of address space the child may add
MEMO_SIZE = 20_000  # outcomes kept for reuse (plan, digest of the bindings)


class Evaluator:
    """Sends batches of (plan, bindings) to the child and collects their outcomes.

    Outcomes are kept by (plan, bindings): objects repeated through YAML aliases, or equal
    objects, are evaluated once. A lint unit's budget bounds every wait for the child.
    """

    def __init__(self) -> None:
        self._pid = os.getpid()
        self._child: Any = None
        self._connection: Any = None
        self.exhausted: dict[str, str] = {}  # plan key → why it ran out of budget
        self._memo: dict[tuple[Plan, bytes], Outcome] = {}

    def run(
        self, batch: Sequence[tuple[Plan, dict[str, Any]]], budget: UnitBudget | None = None
    ) -> list[Outcome]:
        """One outcome per (plan, bindings), in order; :class:`CelUnavailable` without CEL.

        Raises :class:`UnitBudgetExceeded` when ``budget`` runs out meanwhile.
        """
        if not _runtime_available():
            raise CelUnavailable(unavailable_message())
        budget = budget or unlimited()
        budget.check()
        request = [(plan, plain(bindings)) for plan, bindings in batch]
        keys = [(plan, _digest(bindings)) for plan, bindings in request]
        todo: dict[tuple[Plan, bytes], int] = {}
        for index, key in enumerate(keys):
            if key not in self._memo and key[0].key not in self.exhausted:
                todo.setdefault(key, index)
        if todo:
            evaluated = self._evaluate([request[i] for i in todo.values()], budget)
            for key, outcome in zip(todo, evaluated, strict=True):
                if outcome.status != "budget":
                    self._remember(key, outcome)
                else:
                    self.exhausted.setdefault(key[0].key, outcome.detail)
        return [
            self._memo.get(key) or Outcome("budget", detail=self.exhausted.get(key[0].key, ""))
            for key in keys
        ]

    def _remember(self, key: tuple[Plan, bytes], outcome: Outcome) -> None:
        if len(self._memo) >= MEMO_SIZE:
            self._memo.pop(next(iter(self._memo)))
        self._memo[key] = outcome

    def _evaluate(self, request: Sequence[tuple[Plan, Any]], budget: UnitBudget) -> list[Outcome]:
        if not _can_fork():
            outcomes = []
            for plan, bindings in request:
                budget.check()
                outcomes.append(_run_bounded(plan, bindings))
            return outcomes
        answer = self._ask(list(request), budget)
        if answer is not None:
            return answer
        if budget.expired():
            raise budget.timed_out()
        if len(request) > 1:  # find the culprit: the others still get their outcomes
            return [self._evaluate([item], budget)[0] for item in request]
        why = f"evaluation took longer than {TIME_BUDGET:g} s"
        self.exhausted.setdefault(request[0][0].key, why)
        return [Outcome("budget", detail=why)]

    def _ask(self, request: list[tuple[Plan, Any]], budget: UnitBudget) -> list[Outcome] | None:
        """The child's answer, or None when it ran out of time or died."""
        connection = self._ensure_child()
        wait = budget.child_timeout(min(BATCH_BUDGET, TIME_BUDGET * len(request)))
        try:
            connection.send(request)
            if connection.poll(wait):
                answer: list[Outcome] = connection.recv()
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


def _digest(bindings: Any) -> bytes:
    """A short fingerprint of plain bindings: equal objects evaluate once."""
    import hashlib
    import json

    text = json.dumps(bindings, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


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

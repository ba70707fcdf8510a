"""One budget per lint unit: a deadline that every long loop checks, in the parent and for
the children it starts, and the problem a unit over its budget becomes.

The engine makes a :class:`UnitBudget` when it starts a unit and hands it to the checks
through their context; a loop that can run long (the rule loop, admission policy
evaluation, CEL batches, cross-object checks) calls :meth:`UnitBudget.check`, which costs
one clock read. A child started for the unit (a render, a CEL batch) waits at most
:meth:`UnitBudget.seconds_left`. Over budget, :class:`UnitBudgetExceeded` unwinds to the
engine, which reports one input problem for the unit and keeps every other unit's findings.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass, field

from klint.findings import Location, Notification, Span

DEFAULT_UNIT_TIMEOUT = 300.0
"""Seconds one lint unit may take, loading and rendering included (``--unit-timeout``)."""
DEFAULT_UNIT_MEMORY_MB = 2048
"""MiB by which one unit may grow klint's own process (``--unit-memory``)."""


class UnitBudgetExceeded(Exception):
    """A unit went over one of its limits; ``reason`` names the limit and its option."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class UnitBudget:
    """What one lint unit may still spend: time (``seconds``) and growth of this process's
    resident memory (``memory`` bytes, measured where ``/proc`` tells it); None or 0 means
    no limit."""

    seconds: float | None = None
    memory: int | None = None
    started: float = field(default_factory=time.monotonic)
    _resident: int = field(default=0, repr=False)
    _calls: int = field(default=0, repr=False)

    def __post_init__(self) -> None:
        if self.memory is not None and self.memory > 0:
            self._resident = resident_bytes()

    @property
    def deadline(self) -> float:
        """The monotonic clock reading after which the unit is over budget."""
        return self.started + self.seconds if self.seconds and self.seconds > 0 else math.inf

    def seconds_left(self) -> float:
        """Seconds until the deadline (``inf`` without one, never below zero)."""
        return max(self.deadline - time.monotonic(), 0.0)

    def expired(self) -> bool:
        """Whether the deadline has passed."""
        return time.monotonic() > self.deadline

    def check(self) -> None:
        """Raise :class:`UnitBudgetExceeded` once the deadline has passed, or (checked every
        256th call) once the unit has grown the process by more than its memory budget."""
        if time.monotonic() > self.deadline:
            raise self.timed_out()
        if self.memory and self._resident:
            self._calls += 1
            if self._calls % 256 == 0 and resident_bytes() - self._resident > self.memory:
                raise UnitBudgetExceeded(
                    f"linting this unit needed more than its {self.memory // 2**20} MiB "
                    "memory budget (--unit-memory); not linted"
                )

    def timed_out(self) -> UnitBudgetExceeded:
        """The exception that names the time limit and the option that raises it."""
        return UnitBudgetExceeded(
            f"linting this unit took longer than its {self.seconds:g} s budget "
            "(--unit-timeout); not linted"
        )

    def child_timeout(self, timeout: float) -> float:
        """``timeout`` for a child of this unit, cut to what the unit has left."""
        return max(min(timeout, self.seconds_left()), 0.001)


def resident_bytes() -> int:
    """This process's resident memory (0 where ``/proc/self/statm`` is not available)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError, AttributeError):
        return 0


def unlimited() -> UnitBudget:
    """A budget without a deadline (checks called outside the engine, tests)."""
    return UnitBudget(None)


def unit_problem(display: str, path: str, code: str, reason: str) -> Notification:
    """The one input problem of a unit that failed or went over its budget, on ``path``
    (never cached: how far a unit gets depends on the machine and the moment)."""
    return Notification(
        code, f"{display}: {reason}", Location(path, Span.line(1)), repeatable=False
    )


def too_many_documents(display: str, path: str, limit: int) -> Notification:
    """A unit (a folder, chart or overlay) over ``--max-documents``: not linted."""
    return Notification(
        "too-many-documents",
        f"{display}: more than {limit:,} YAML documents in one lint unit "
        "(--max-documents); unit skipped",
        Location(path, Span.line(1)),
    )


def too_many_findings(display: str, limit: int) -> Notification:
    """A unit whose findings pass ``--max-findings``: the first ones are kept."""
    return Notification(
        "too-many-findings",
        f"{display}: more than {limit:,} findings in one lint unit (--max-findings); "
        "the rest of the unit is not checked",
        None,
    )

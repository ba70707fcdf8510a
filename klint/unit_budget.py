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
import time
from dataclasses import dataclass, field

from klint.findings import Location, Notification, Span

DEFAULT_UNIT_TIMEOUT = 300.0
"""Seconds one lint unit may take, loading and rendering included (``--unit-timeout``)."""


class UnitBudgetExceeded(Exception):
    """A unit went over one of its limits; ``reason`` names the limit and its option."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class UnitBudget:
    """The time one lint unit may still take (``seconds``: None or 0 means no deadline)."""

    seconds: float | None = None
    started: float = field(default_factory=time.monotonic)

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
        """Raise :class:`UnitBudgetExceeded` once the deadline has passed."""
        if time.monotonic() > self.deadline:
            raise self.timed_out()

    def timed_out(self) -> UnitBudgetExceeded:
        """The exception that names the time limit and the option that raises it."""
        return UnitBudgetExceeded(
            f"linting this unit took longer than its {self.seconds:g} s budget "
            "(--unit-timeout); not linted"
        )

    def child_timeout(self, timeout: float) -> float:
        """``timeout`` for a child of this unit, cut to what the unit has left."""
        return max(min(timeout, self.seconds_left()), 0.001)


def unlimited() -> UnitBudget:
    """A budget without a deadline (checks called outside the engine, tests)."""
    return UnitBudget(None)


def unit_problem(display: str, path: str, code: str, reason: str) -> Notification:
    """The one input problem of a unit that failed or went over its budget, on ``path``."""
    return Notification(code, f"{display}: {reason}", Location(path, Span.line(1)))


def too_many_documents(display: str, limit: int) -> Notification:
    """A unit (a folder, chart or overlay) over ``--max-documents``: not linted."""
    return Notification(
        "too-many-documents",
        f"{display}: more than {limit:,} YAML documents in one lint unit "
        "(--max-documents); unit skipped",
        None,
    )


def too_many_findings(display: str, limit: int) -> Notification:
    """A unit whose findings pass ``--max-findings``: the first ones are kept."""
    return Notification(
        "too-many-findings",
        f"{display}: more than {limit:,} findings in one lint unit (--max-findings); "
        "the rest of the unit is not checked",
        None,
    )

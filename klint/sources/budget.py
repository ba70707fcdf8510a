"""Budgets for rendering: memory of render children, bytes and documents a render may yield.

A chart or overlay renders in a child process (Helm's SDK in a forked child, kustomize or
helm as a program). Each child gets a memory budget through ``setrlimit``: ``RLIMIT_DATA``
(the memory it writes to, close to what it really uses; Go reserves far more address space
than it touches) and ``RLIMIT_AS`` with room for those reservations. A child over budget
fails; the source turns that into an input problem that names the budget and how to raise
it, and the rest of the run goes on.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable

try:
    import resource
except ImportError:  # pragma: no cover - Windows: renders keep their time limit only
    resource = None  # type: ignore[assignment]

RENDER_MEMORY_ENV = "KLINT_RENDER_MEMORY_MB"
DEFAULT_RENDER_MEMORY = 768 * 1024 * 1024
ADDRESS_SPACE_HEADROOM = 6 * 1024 * 1024 * 1024
"""Go runtimes (kubectl, helm, the SDK) reserve gigabytes of address space they never use."""

_OUT_OF_MEMORY = re.compile(
    r"out of memory|cannot allocate memory|MemoryError|failed to reserve", re.IGNORECASE
)


def _from_env(name: str, default: int, unit: int = 1) -> int:
    text = os.environ.get(name, "").strip()
    return int(text) * unit if text.isdigit() and int(text) > 0 else default


GO_GC_PERCENT = 300
"""Heap growth between collections of a Go render child (Go's default: 100). A 3 MB CRD
base builds ~20% faster (CPU ~25% less) with a heap ~1.4 times larger, never beyond
:func:`go_runtime_env`'s soft limit."""


def go_runtime_env(memory: int | None, frugal: bool = False) -> dict[str, str]:
    """Environment for a Go child held to ``memory`` bytes: collect less often
    (``GOGC``), but collect harder as the heap nears three quarters of the budget
    (``GOMEMLIMIT``, a soft limit) rather than fail at the hard one (``setrlimit``).
    ``frugal``, for a second try after the first ran out: Go's own pace, and a soft limit
    at half the budget (a build near the budget fails or not by the machine's load)."""
    if memory is None:
        return {}
    if frugal:
        return {"GOGC": "100", "GOMEMLIMIT": str(memory // 2)}
    return {"GOGC": str(GO_GC_PERCENT), "GOMEMLIMIT": str(memory * 3 // 4)}


def default_render_memory() -> int:
    """Bytes of memory one render child may use (``KLINT_RENDER_MEMORY_MB``, default 768)."""
    return _from_env(RENDER_MEMORY_ENV, DEFAULT_RENDER_MEMORY, 1024 * 1024)


def limit_memory(budget: int, *, in_use: bool = False) -> None:
    """Cap this process (and what it execs) at ``budget`` bytes of data memory.

    ``in_use``: count the memory this process already holds (a forked child) on top.
    """
    data = budget + (_status_bytes("VmData") if in_use else 0)
    space = budget + ADDRESS_SPACE_HEADROOM + (_status_bytes("VmSize") if in_use else 0)
    for kind, value in _limits(data, space):
        resource.setrlimit(kind, value)


def memory_limiter(budget: int) -> Callable[[], None] | None:
    """A ``preexec_fn`` that caps a program started with :mod:`subprocess` (None where
    there are no resource limits).

    The limits are computed here, in the parent: between fork and exec the child only calls
    ``setrlimit``, which takes no lock another thread could hold.
    """
    if resource is None:
        return None
    limits = _limits(budget, budget + ADDRESS_SPACE_HEADROOM)
    setrlimit = resource.setrlimit

    def limit() -> None:
        for kind, value in limits:
            setrlimit(kind, value)

    return limit


def _limits(data: int, space: int) -> list[tuple[int, tuple[int, int]]]:
    """(limit kind, (soft, hard)) for the data segment and the address space, never above
    the hard limits already in force."""
    if resource is None:
        return []
    found: list[tuple[int, tuple[int, int]]] = []
    for kind, value in ((resource.RLIMIT_DATA, data), (resource.RLIMIT_AS, space)):
        _, hard = resource.getrlimit(kind)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        found.append((kind, (value, hard)))
    return found


def ran_out_of_memory(text: str) -> bool:
    """Whether a child's error text says it hit its memory limit."""
    return _OUT_OF_MEMORY.search(text) is not None


_CRASHED = re.compile(
    r"^[ \t]*(?:panic: |fatal error: |runtime: |SIG[A-Z]+: |goroutine \d+ \[)", re.MULTILINE
)


def crashed(text: str) -> bool:
    """Whether a child's error text is a Go runtime crash (a panic, a fatal runtime error):
    the machine's trouble or a bug, not a problem of the input."""
    return _CRASHED.search(text) is not None


def memory_problem(what: str, budget: int, *, certain: bool = True) -> str:
    """The message for a child stopped by (``certain``) or maybe by its memory budget."""
    verb = "needed" if certain else "may have needed"
    return (
        f"{what} {verb} more than its {budget // 2**20} MiB memory budget and was stopped "
        f"(raise it with --render-memory or {RENDER_MEMORY_ENV})"
    )


def output_problem(what: str, limit: int) -> str:
    """The message for rendered output over ``--max-file-size``."""
    return (
        f"{what} rendered more than the {limit // 2**20} MiB limit for one file or unit "
        "(--max-file-size); not linted"
    )


def documents_problem(what: str, count: int, limit: int) -> str:
    """The message for rendered output with too many documents."""
    return (
        f"{what} rendered {count} documents, more than the limit of {limit} "
        "(--max-documents); not linted"
    )


def _status_bytes(field: str) -> int:
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0

"""What a run costs the machine in memory: the proportional set size (PSS) of a process and
all its descendants, summed, sampled every ~50 ms (Linux ``/proc/<pid>/smaps_rollup``).

PSS counts a page shared by N processes as 1/N in each, so pages that forked workers still
share with their parent (copy-on-write) are counted once in the sum, and private pages in
full. ``ru_maxrss`` (what ``wait4`` gives) is the peak of ONE process only.

    python bench/treemem.py klint check --format sarif -o /dev/null --no-cache DIR
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

INTERVAL = 0.05


def _parents() -> dict[int, int]:
    """pid → parent pid of every process visible in /proc."""
    found: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:  # gone meanwhile
            continue
        fields = stat[stat.rfind(")") + 2 :].split()  # after "pid (comm) "
        found[int(entry.name)] = int(fields[1])
    return found


def tree(root: int) -> list[int]:
    """``root`` and every process below it."""
    children: dict[int, list[int]] = {}
    for pid, parent in _parents().items():
        children.setdefault(parent, []).append(pid)
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, ()))
    return found


def pss_kib(pid: int) -> int:
    """The PSS of one process in KiB (0 once it has exited)."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as rollup:
            for line in rollup:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


class TreeSampler:
    """Samples the summed PSS of ``pid``'s process tree in a thread until stopped."""

    def __init__(self, pid: int, interval: float = INTERVAL) -> None:
        self.pid = pid
        self.interval = interval
        self.peak_kib = 0
        self.peak_processes = 0
        self.per_process: dict[int, int] = {}  # pid → its own PSS peak (KiB)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> TreeSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            pids = tree(self.pid)
            sizes = {pid: pss_kib(pid) for pid in pids}
            for pid, size in sizes.items():
                self.per_process[pid] = max(self.per_process.get(pid, 0), size)
            total = sum(sizes.values())
            if total > self.peak_kib:
                self.peak_kib, self.peak_processes = total, len(pids)
            self._stop.wait(self.interval)


def main() -> None:
    """Run a command and print its wall time, CPU, per-process peak RSS and total PSS peak."""
    start = time.perf_counter()
    process = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)
    with TreeSampler(process.pid) as sampler:
        _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    print(
        f"exit {os.waitstatus_to_exitcode(status)}  wall {wall:.2f} s  "
        f"CPU {usage.ru_utime + usage.ru_stime:.2f} s  "
        f"max one process {usage.ru_maxrss / 1024:.1f} MiB  "
        f"total PSS peak {sampler.peak_kib / 1024:.1f} MiB ({sampler.peak_processes} processes)"
    )
    own = ", ".join(f"{kib / 1024:.1f}" for kib in sampler.per_process.values())
    print(f"PSS peak of each process (MiB): {own}")


if __name__ == "__main__":
    main()

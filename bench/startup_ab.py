"""Start-up of ``klint check`` on one small file: two source trees, interleaved runs.

Other processes share the machine, so absolute times drift; runs of the two trees alternate
and the ratio of their medians is what to compare. Each tree runs as
``PYTHONPATH=TREE python -m klint check --no-cache --format F FILE -o /dev/null`` from the
file's folder (put the file alone in a folder: a plain file is linted with its siblings).
``--cache`` drops ``--no-cache`` (the command line a user types); ``--script`` starts the
way the ``klint`` console script does (``klint.entry.main``, no ``runpy``).
Compile both trees first (``python -m compileall -q TREE/klint``) when
``PYTHONDONTWRITEBYTECODE`` is set, or every run compiles every module.

    python bench/startup_ab.py --runs 20 /path/to/main /path/to/branch /tmp/one/one.yaml
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

FORMATS = ("text", "json", "sarif", "github")


# What the ``klint`` console script runs (``[project.scripts]``), without an installed script.
SCRIPT = "import sys; from klint.entry import main; sys.exit(main())"


def _once(
    tree: str, fmt: str, path: Path, *, cache: bool = False, script: bool = False
) -> tuple[float, float]:
    """Wall and CPU milliseconds of one run."""
    env = dict(os.environ, PYTHONPATH=tree)
    command = [sys.executable, *(["-c", SCRIPT] if script else ["-m", "klint"]), "check"]
    command += ([] if cache else ["--no-cache"]) + ["--format", fmt]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(
        [*command, path.name, "-o", os.devnull],
        env=env,
        cwd=path.parent,
        check=False,
        stderr=subprocess.DEVNULL,
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return wall * 1000, cpu * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before")
    parser.add_argument("after")
    parser.add_argument("file", type=Path)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--formats", default=",".join(FORMATS))
    parser.add_argument(
        "--cache", action="store_true", help="the default command line: result cache on"
    )
    parser.add_argument(
        "--script", action="store_true", help="start as the console script, not python -m"
    )
    args = parser.parse_args()
    formats = args.formats.split(",")
    trees = {"before": args.before, "after": args.after}
    times: dict[tuple[str, str], list[tuple[float, float]]] = {
        (name, fmt): [] for name in trees for fmt in formats
    }
    for _ in range(args.runs):
        for fmt in formats:
            for name, tree in trees.items():
                times[(name, fmt)].append(
                    _once(tree, fmt, args.file.absolute(), cache=args.cache, script=args.script)
                )
    print(f"median of {args.runs} interleaved runs, ms (wall | cpu)")
    for fmt in formats:
        row = []
        for name in trees:
            wall = statistics.median(t[0] for t in times[(name, fmt)])
            cpu = statistics.median(t[1] for t in times[(name, fmt)])
            row.append((wall, cpu))
        (bw, bc), (aw, ac) = row
        print(
            f"{fmt:7} before {bw:6.1f} | {bc:6.1f}   after {aw:6.1f} | {ac:6.1f}"
            f"   ratio {aw / bw:.2f} | {ac / bc:.2f}"
        )


if __name__ == "__main__":
    main()

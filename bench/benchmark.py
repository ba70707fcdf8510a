"""Benchmark klint as users run it: whole process, every output format, wall time and peak RSS.

Cases: one small file (pre-commit / on save) and the shared corpus manifests in text, json,
sarif and github; the corpus Helm charts rendered by klint; synthetic inputs of 5,000 and
50,000 documents (500 / 5,000 files) in json and sarif. Each row gives the median wall time,
the peak RSS of the biggest klint process (``wait4`` rusage: the parent or one --jobs worker,
not their sum), for the corpus and synthetic cases the run's total memory (the peak of the
PSS summed over klint's process tree, sampled every 50 ms: bench/treemem.py) and the ratio to
the json run of the same case. The corpus SARIF log is kept once to count the results that carry
``fixes``. When Checkov or Trivy are on PATH they run alternately with klint's SARIF run on
the same inputs and the ratios are printed.

Repeat runs (bench/repeat.py): the corpus with charts and overlays first, cached and with
one file touched before each run (``--cache-dir``; every other case runs ``--no-cache``);
an argo-workflows-like tree of 19 overlays over one CRD base against one build of that base
(bench/trees.py); start-up of one small file, uncached and cached, in every format.

    python bench/benchmark.py [--runs 5] [--corpus ../shared/corpus] [--skip-large]
    python bench/benchmark.py --runs 1 --cases startup,repeat,shared
    python bench/benchmark.py --profile PATH [--format sarif]   # cProfile, top 25
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import json
import os
import pstats
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from treemem import TreeSampler  # bench/ is the script's folder, first on sys.path

from klint.reporters import FORMATS as REPORT_FORMATS

REPO = Path(__file__).resolve().parent.parent
SMALL = REPO / "fixtures" / "examples" / "insecure-deployment.yaml"

_DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: app-{n}
  namespace: team-{ns}
  labels: {{app: app-{n}}}
spec:
  replicas: 2
  selector:
    matchLabels: {{app: app-{n}}}
  template:
    metadata:
      labels: {{app: app-{n}}}
    spec:
      containers:
        - name: app
          image: registry.example.com/app:{n}.0
          ports:
            - containerPort: 8080
          securityContext:
            runAsNonRoot: true
            allowPrivilegeEscalation: {escalate}
          resources:
            limits: {{cpu: 500m, memory: 256Mi}}
---
apiVersion: v1
kind: Service
metadata:
  name: app-{n}
  namespace: team-{ns}
spec:
  selector: {{app: app-{n}}}
  ports:
    - port: 80
      targetPort: 8080
"""


def synthetic(directory: Path, files: int, docs_per_file: int) -> tuple[int, int]:
    """Write ``files`` files of ``docs_per_file`` documents; returns (documents, bytes)."""
    directory.mkdir(parents=True, exist_ok=True)
    total = 0
    for index in range(files):
        parts = [
            _DEPLOYMENT.format(
                n=index * 10 + k, ns=index % 17, escalate="false" if k % 3 else "true"
            )
            for k in range(docs_per_file // 2)
        ]
        text = "---\n".join(parts)
        (directory / f"app-{index:05d}.yaml").write_text(text)
        total += len(text.encode())
    return files * docs_per_file, total


def timed(
    command: list[str], cwd: Path | None = None, errors_ok: bool = False
) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds (with its workers) and peak RSS (KiB) of one run.

    CPU time is what to compare on a shared machine: other load stretches wall time.
    """
    return timed_tree(command, cwd, errors_ok, sample=False)[:3]


def timed_tree(
    command: list[str], cwd: Path | None = None, errors_ok: bool = False, sample: bool = True
) -> tuple[float, float, int, int]:
    """:func:`timed` plus the peak total PSS (KiB) of the run's process tree (0 unsampled)."""
    start = time.perf_counter()
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=cwd
    )
    with TreeSampler(process.pid) if sample else contextlib.nullcontext() as sampler:
        _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) not in ((0, 1, 2) if errors_ok else (0, 1)):
        raise SystemExit(f"command failed: {' '.join(command)}")
    total = sampler.peak_kib if sampler is not None else 0
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss, total


FORMATS = ("text", "json", "sarif", "github")
ALL_FORMATS = REPORT_FORMATS  # every format klint writes


def klint_command() -> list[str]:
    """How users start klint: the console script installed beside this interpreter (the
    pre-commit hook's entry, the Action's step), else ``python -m klint`` (~2 ms more: runpy)."""
    script = Path(sys.executable).with_name("klint")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "klint"]


KLINT = klint_command()


def klint(
    paths: list[str],
    fmt: str = "json",
    jobs: int | None = None,
    out: str = "",
    cache: str | None = None,
) -> list[str]:
    """The command of one run; without ``cache`` (a folder) the result cache is off."""
    command = [*KLINT, "check", "--format", fmt, "-o", out or os.devnull]
    command += ["--cache-dir", cache] if cache is not None else ["--no-cache"]
    if jobs is not None:
        command += ["--jobs", str(jobs)]
    return [*command, *paths]


def peers(paths: list[str]) -> dict[str, list[str]]:
    found = {}
    if shutil.which("checkov"):
        found["checkov"] = [
            "checkov",
            "--quiet",
            "--compact",
            "--framework",
            "kubernetes",
            *[arg for p in paths for arg in ("-d" if Path(p).is_dir() else "-f", p)],
        ]
    if shutil.which("trivy"):
        found["trivy"] = ["trivy", "config", "--quiet", "--skip-check-update", *paths[:1]]
    return found


def measure(
    name: str,
    paths: list[str],
    runs: int,
    formats: tuple[str, ...] = FORMATS,
    jobs: int | None = None,
    compare: bool = True,
    cache: str | None = None,
    cwd: Path | None = None,
    before: Callable[[], None] | None = None,
    errors_ok: bool = False,
    tree: bool = False,
) -> dict[str, tuple[float, float]]:
    """Run klint in each format (and peers) ``runs`` times, alternating; print one row per
    format; return format → (median seconds, peak MiB). With ``tree``, the total PSS of
    each run's process tree is sampled too (a thread reading /proc: off for short runs).

    ``compare`` is off for inputs the peers cannot take (charts need their own helm) or take
    minutes on (the synthetic inputs: Checkov needs about 2 minutes per 5,000 documents).
    """
    commands = {fmt: klint(paths, fmt, jobs, cache=cache) for fmt in formats}
    if compare:
        commands.update(peers(paths))
    times: dict[str, list[float]] = {tool: [] for tool in commands}
    cpu: dict[str, list[float]] = {tool: [] for tool in commands}
    memory: dict[str, int] = dict.fromkeys(commands, 0)
    total: dict[str, int] = dict.fromkeys(commands, 0)
    for _ in range(runs):
        for tool, command in commands.items():
            if before is not None:
                before()  # e.g. touch one file before each cached run
            seconds, used, rss, pss = timed_tree(command, cwd, errors_ok, tree)
            times[tool].append(seconds)
            cpu[tool].append(used)
            memory[tool] = max(memory[tool], rss)
            total[tool] = max(total[tool], pss)
    found = {}
    for tool in commands:
        median = statistics.median(times[tool])
        spread = max(times[tool]) - min(times[tool])
        peak = memory[tool] / 1024
        found[tool] = (median, peak)
        used = statistics.median(cpu[tool])
        line = f"| {name:<34} | {tool:<18} | {median:8.3f} | {spread:6.3f} | {used:8.3f} |"
        line += f" {peak:7.1f} |" + (f" {total[tool] / 1024:7.1f} |" if tree else "       - |")
        if "json" in times and tool != "json":
            ratios = [a / b for a, b in zip(times[tool], times["json"], strict=True)]
            cpu_ratios = [a / b for a, b in zip(cpu[tool], cpu["json"], strict=True)]
            line += f" {statistics.median(ratios):5.2f} | {statistics.median(cpu_ratios):5.2f} |"
        else:
            line += "       |       |"
        if "sarif" in times and tool not in ALL_FORMATS:
            ratios = [a / b for a, b in zip(times["sarif"], times[tool], strict=True)]
            line += f" klint sarif / {tool}: {statistics.median(ratios):.3f}"
        print(line, flush=True)
    return found


def fixes_on(paths: list[str]) -> tuple[int, int]:
    """(results, results carrying ``fixes``) of one SARIF run over ``paths``."""
    with tempfile.TemporaryDirectory(prefix="klint-bench-") as scratch:
        target = str(Path(scratch) / "out.sarif")
        timed(klint(paths, "sarif", out=target))  # the log itself is what is counted
        results = json.loads(Path(target).read_text())["runs"][0]["results"]
    return len(results), sum(1 for result in results if result.get("fixes"))


def corpus_inputs(corpus: Path) -> tuple[list[str], int, int]:
    paths = [str(corpus / name) for name in ("raw", "helm-rendered", "kustomize-rendered")]
    files = [f for p in paths for f in Path(p).rglob("*") if f.suffix in (".yaml", ".yml")]
    size = sum(f.stat().st_size for f in files)
    return paths, len(files), size


def profile(paths: list[str], fmt: str) -> None:
    """Print the 25 most expensive functions of one in-process run."""
    from klint.cli import main

    profiler = cProfile.Profile()
    profiler.enable()
    with contextlib.suppress(SystemExit):
        main(["check", "--jobs", "1", "--format", fmt, "-o", os.devnull, *paths])
    profiler.disable()
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)


CASES = ("startup", "corpus", "repeat", "shared", "large")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--corpus", type=Path, default=REPO.parent / "shared" / "corpus")
    parser.add_argument("--skip-large", action="store_true", help="skip the 50,000-document case")
    parser.add_argument("--cases", default=",".join(CASES), help=f"any of {','.join(CASES)}")
    parser.add_argument("--profile", nargs="+", metavar="PATH")
    parser.add_argument("--format", default="sarif", help="format for --profile")
    args = parser.parse_args()
    if args.profile:
        profile(args.profile, args.format)
        return
    cases = set(args.cases.split(","))
    if args.skip_large:
        cases.discard("large")
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from repeat import repeat_cases, shared_base_case, startup_case

    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, {args.runs} runs per case")
    print(f"klint started as: {' '.join(KLINT)}")
    print(
        "| case | format | wall s (median) | spread | CPU s | peak MiB (one process) "
        "| total PSS MiB (all processes) | wall / json | CPU / json |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    if "startup" in cases:
        startup_case(measure, timed, klint, SMALL, args.runs, ALL_FORMATS)
    if "corpus" in cases and args.corpus.is_dir():
        paths, files, size = corpus_inputs(args.corpus)
        measure(
            f"corpus manifests ({files} files, {size / 1e6:.1f} MB)",
            paths,
            args.runs,
            ALL_FORMATS,
            tree=True,
        )
        charts = sorted(str(p) for p in (args.corpus / "helm-charts").iterdir() if p.is_dir())
        runs = max(1, args.runs // 2)
        measure(
            f"corpus charts ({len(charts)}) rendered",
            charts,
            runs,
            ("json", "sarif"),
            compare=False,
            tree=True,
        )
        total, with_fixes = fixes_on(paths)
        print(f"corpus manifests: {total} SARIF results, {with_fixes} carry fixes (floor: 1,720)")
    if "repeat" in cases and args.corpus.is_dir():
        repeat_cases(measure, timed, klint, args.corpus, args.runs, FORMATS)
    if "shared" in cases:
        shared_base_case(measure, timed, klint, args.runs)
    if "large" in cases:
        with tempfile.TemporaryDirectory(prefix="klint-bench-") as scratch:
            small_docs, small_size = synthetic(Path(scratch) / "5k", 500, 10)
            large_docs, large_size = synthetic(Path(scratch) / "50k", 5000, 10)
            t5 = measure(
                f"synthetic {small_docs:,} docs ({small_size / 1e6:.1f} MB)",
                [str(Path(scratch) / "5k")],
                max(1, args.runs // 2),
                ("json", "sarif"),
                compare=False,
                tree=True,
            )
            t50 = measure(
                f"synthetic {large_docs:,} docs ({large_size / 1e6:.1f} MB)",
                [str(Path(scratch) / "50k")],
                1,
                ("json", "sarif"),
                compare=False,
                tree=True,
            )
            for fmt in ("json", "sarif"):
                print(f"{fmt}: 50k / 5k time ratio {t50[fmt][0] / t5[fmt][0]:.2f} (linear is 10)")


if __name__ == "__main__":
    main()

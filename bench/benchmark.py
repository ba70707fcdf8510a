"""Benchmark klint as users run it: whole process, several runs, median and spread.

Cases: one small file (pre-commit / on save), the shared corpus manifests, the corpus Helm
charts rendered by klint, and a synthetic input of 50,000 documents in 5,000 files (plus its
5,000-document tenth, to check that time grows linearly). When Checkov or Trivy are on PATH
they run alternately with klint on the same inputs and the ratios are printed.

    python bench/benchmark.py [--runs 5] [--corpus ../shared/corpus] [--skip-large]
    python bench/benchmark.py --profile PATH   # where the time goes (cProfile, top 25)
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import os
import pstats
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

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


def timed(command: list[str]) -> tuple[float, int]:
    """Wall seconds and peak RSS (KiB) of one whole-process run."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        raise SystemExit(f"command failed: {' '.join(command)}")
    return elapsed, usage.ru_maxrss


def klint(paths: list[str], jobs: int | None = None) -> list[str]:
    command = [sys.executable, "-m", "klint", "check", "--format", "json", "-o", os.devnull]
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
    documents: int = 0,
    size: int = 0,
    jobs: int | None = None,
    compare: bool = True,
) -> float:
    """Run klint (and peers alternately) ``runs`` times; print a summary line; return median.

    ``compare`` is off for inputs the peers cannot take (charts need their own helm) or take
    minutes on (the synthetic inputs: Checkov needs about 2 minutes per 5,000 documents).
    """
    commands = {"klint": klint(paths, jobs), **(peers(paths) if compare else {})}
    times: dict[str, list[float]] = {tool: [] for tool in commands}
    memory: dict[str, int] = dict.fromkeys(commands, 0)
    for _ in range(runs):
        for tool, command in commands.items():
            seconds, rss = timed(command)
            times[tool].append(seconds)
            memory[tool] = max(memory[tool], rss)
    median = statistics.median(times["klint"])
    spread = max(times["klint"]) - min(times["klint"])
    peak = memory["klint"] / 1024
    line = f"{name:<28} klint median {median:7.3f} s (spread {spread:.3f}) peak {peak:6.1f} MiB"
    if documents:
        line += f"  {documents / median:9.0f} docs/s"
    if size:
        line += f"  {size / median / 1e6:6.2f} MB/s"
    for tool in commands:
        if tool != "klint":
            ratios = [k / p for k, p in zip(times["klint"], times[tool], strict=True)]
            line += (
                f"  | {tool} {statistics.median(times[tool]):.2f} s,"
                f" ratio {statistics.median(ratios):.3f}"
            )
    print(line, flush=True)
    return median


def corpus_inputs(corpus: Path) -> tuple[list[str], int, int]:
    paths = [str(corpus / name) for name in ("raw", "helm-rendered", "kustomize-rendered")]
    files = [f for p in paths for f in Path(p).rglob("*") if f.suffix in (".yaml", ".yml")]
    size = sum(f.stat().st_size for f in files)
    return paths, len(files), size


def profile(paths: list[str]) -> None:
    """Print the 25 most expensive functions of one in-process run."""
    from klint.cli import main

    profiler = cProfile.Profile()
    profiler.enable()
    with contextlib.suppress(SystemExit):
        main(["check", "--jobs", "1", "--format", "json", "-o", os.devnull, *paths])
    profiler.disable()
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--corpus", type=Path, default=REPO.parent / "shared" / "corpus")
    parser.add_argument("--skip-large", action="store_true", help="skip the 50,000-document case")
    parser.add_argument("--profile", nargs="+", metavar="PATH")
    args = parser.parse_args()
    if args.profile:
        profile(args.profile)
        return
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, {args.runs} runs per case")
    measure("one small file", [str(SMALL)], args.runs, 1, SMALL.stat().st_size)
    if args.corpus.is_dir():
        paths, files, size = corpus_inputs(args.corpus)
        measure(f"corpus manifests ({files} files)", paths, args.runs, 1760, size)
        measure("corpus manifests --jobs 1", paths, args.runs, 1760, size, jobs=1, compare=False)
        charts = sorted(str(p) for p in (args.corpus / "helm-charts").iterdir() if p.is_dir())
        runs = max(1, args.runs // 2)
        measure(f"corpus charts ({len(charts)}) rendered", charts, runs, compare=False)
    if not args.skip_large:
        with tempfile.TemporaryDirectory(prefix="klint-bench-") as scratch:
            small_docs, small_size = synthetic(Path(scratch) / "5k", 500, 10)
            large_docs, large_size = synthetic(Path(scratch) / "50k", 5000, 10)
            t5 = measure(
                "synthetic 5,000 docs",
                [str(Path(scratch) / "5k")],
                args.runs,
                small_docs,
                small_size,
                compare=False,
            )
            t50 = measure(
                "synthetic 50,000 docs",
                [str(Path(scratch) / "50k")],
                max(1, args.runs // 2),
                large_docs,
                large_size,
                compare=False,
            )
            print(f"50k / 5k time ratio: {t50 / t5:.2f} (linear is 10)")


if __name__ == "__main__":
    main()

"""Benchmarks of what repeats: cached re-runs, a re-run after touching one file, a tree of
overlays over one shared base, and start-up. Called by ``benchmark.py``."""

from __future__ import annotations

import os
import shutil
import statistics
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from trees import shared_base_tree

Measure = Callable[..., dict[str, tuple[float, float]]]
Timed = Callable[..., tuple[float, float, int]]


def _ratios(
    label: str, first: dict[str, tuple[float, float]], then: dict[str, tuple[float, float]]
) -> None:
    for fmt, (seconds, _) in then.items():
        if fmt in first:
            ratio = seconds / first[fmt][0]
            print(f"  {label} [{fmt}]: {seconds:.3f} s / {first[fmt][0]:.3f} s = {ratio:.3f}")


def corpus_copy(corpus: Path, scratch: Path) -> tuple[Path, list[str]]:
    """The corpus manifests, charts and overlays copied into a git root (one file will be
    touched); returns the root and the paths to lint, relative to it."""
    root = scratch / "corpus"
    names = ["raw", "helm-rendered", "kustomize-rendered", "helm-charts", "kustomize"]
    for name in names:
        if (corpus / name).is_dir():
            shutil.copytree(corpus / name, root / name, symlinks=True)
    (root / ".git").mkdir()
    return root, [name for name in names if (root / name).is_dir()]


def repeat_cases(
    measure: Measure,
    timed: Timed,
    klint: Callable[..., list[str]],
    corpus: Path,
    runs: int,
    formats: tuple[str, ...],
) -> None:
    """First run, cached re-run and one-file-touched re-run of the whole corpus, each format.

    Some corpus overlays name remote bases, which klint refuses (exit 2): that is expected.
    """
    with tempfile.TemporaryDirectory(prefix="klint-bench-") as scratch:
        root, paths = corpus_copy(corpus, Path(scratch))
        cache = str(Path(scratch) / "cache")
        name = "corpus + charts + overlays"
        first = measure(
            f"{name}: first run", paths, runs, formats, compare=False, cwd=root, errors_ok=True
        )
        timed(klint(paths, "json", cache=cache), root, True)  # fills the cache
        again = measure(
            f"{name}: cached re-run",
            paths,
            runs,
            formats,
            compare=False,
            cache=cache,
            cwd=root,
            errors_ok=True,
        )
        touched_file = sorted((root / "raw").rglob("*.yaml"))[0]
        original = touched_file.read_text()
        touched_file.chmod(0o644)  # the corpus is read-only
        counter = iter(range(1_000_000))

        def touch() -> None:
            touched_file.write_text(original + f"\n# touched {next(counter)}\n")

        touched = measure(
            f"{name}: one file touched",
            paths,
            runs,
            formats,
            compare=False,
            cache=cache,
            cwd=root,
            before=touch,
            errors_ok=True,
        )
        unit = measure(
            "the touched file alone",
            [str(touched_file.relative_to(root))],
            runs,
            ("json",),
            compare=False,
            cwd=root,
        )
        _ratios("cached / first (target <= 0.1)", first, again)
        _ratios("touched / first (target <= 0.1 + the unit's own)", first, touched)
        print(f"  the touched file's own first run: {unit['json'][0]:.3f} s")


def shared_base_case(
    measure: Measure, timed: Timed, klint: Callable[..., list[str]], runs: int
) -> None:
    """An argo-workflows-like tree: klint's time against one build of the shared base, with
    the base shared (default) and rebuilt per overlay (``KLINT_KUSTOMIZE_SHARE=0``).

    The ratio to the base build is taken per pair: each klint run right after a build of
    the base, so both see the same load on a shared machine; the median pair is reported."""
    tool = shutil.which("kustomize")
    build = [tool, "build"] if tool else [shutil.which("kubectl") or "kubectl", "kustomize"]
    with tempfile.TemporaryDirectory(prefix="klint-bench-") as scratch:
        root = shared_base_tree(Path(scratch) / "tree", properties=1500)
        base = root / "manifests" / "base" / "crds" / "full"
        size = sum(f.stat().st_size for f in base.glob("*.yaml"))
        name = f"19 overlays over one {size / 1e6:.1f} MB base"
        os.environ["KLINT_KUSTOMIZE_SHARE"] = "0"
        try:
            rebuilt = measure(
                f"{name}, rebuilt", ["manifests"], runs, ("json",), compare=False, cwd=root
            )
        finally:
            del os.environ["KLINT_KUSTOMIZE_SHARE"]
        found = measure(
            name, ["manifests"], runs, ("json", "sarif"), compare=False, cwd=root, errors_ok=True
        )
        builds: list[float] = []
        pairs: dict[str, list[float]] = {fmt: [] for fmt in found}
        for _ in range(max(3, runs)):
            for fmt in found:
                once = timed([*build, str(base)], root)[0]
                seconds = timed(klint(["manifests"], fmt), root, True)[0]
                builds.append(once)
                pairs[fmt].append(seconds / once)
        once = statistics.median(builds)
        print(f"  one build of the shared base: {once:.3f} s wall (median of {len(builds)})")
        print(f"  rebuilt per overlay [json] / one base build: {rebuilt['json'][0] / once:.2f}")
        for fmt, ratios in pairs.items():
            shown = ", ".join(f"{r:.2f}" for r in ratios)
            print(
                f"  shared [{fmt}] / base build just before: median "
                f"{statistics.median(ratios):.2f} of {shown} (target <= 2)"
            )


def startup_case(
    measure: Measure,
    timed: Timed,
    klint: Callable[..., list[str]],
    small: Path,
    runs: int,
    formats: tuple[str, ...],
) -> None:
    """One small file, uncached and cached, against the bare interpreter."""
    bare = [timed([sys.executable, "-c", "pass"])[0] for _ in range(max(3, runs))]
    print(f"  bare interpreter: {statistics.median(bare) * 1000:.0f} ms")
    first = measure("one small file (start-up)", [str(small)], max(runs, 5), formats, compare=False)
    with tempfile.TemporaryDirectory(prefix="klint-bench-") as cache:
        timed(klint([str(small)], "json", cache=cache))
        again = measure(
            "one small file, cached",
            [str(small)],
            max(runs, 5),
            formats,
            compare=False,
            cache=cache,
        )
    for fmt in formats:
        uncached, cached = first[fmt][0] * 1000, again[fmt][0] * 1000
        print(f"  start-up [{fmt}]: {uncached:.0f} ms, cached {cached:.0f} ms (target < 100 ms)")

"""Coverage-guided fuzzing of klint's loader and rules with atheris (not part of the test run).

    pip install atheris
    python fuzz/fuzz_loader.py -max_total_time=300 -rss_limit_mb=2048 fuzz/corpus

Each input is decoded, parsed and linted with every rule. Any exception, any location
outside the input, or a notification without a line is a crash. Seeds come from
``fixtures/`` when the corpus folder is empty.
"""

from __future__ import annotations

import sys
from pathlib import Path

import atheris

with atheris.instrument_imports():
    from klint.catalog import load_catalog
    from klint.documents import Limits
    from klint.engine import bind_rules, lint
    from klint.sources.base import LoadSettings
    from klint.sources.manifests import StdinBuffer

RULES = bind_rules(load_catalog())
SETTINGS = LoadSettings(limits=Limits(max_file_bytes=1 << 20, max_nodes_per_document=50_000))


def test_one_input(data: bytes) -> None:
    """Lint ``data`` and check the invariants every report must keep."""
    report = lint([StdinBuffer(data, "fuzz.yaml")], RULES, SETTINGS, (1, 35))
    line_count = data.count(b"\n") + 1
    for finding in report.findings:
        span = finding.location.span
        if not (1 <= span.start_line <= span.end_line <= line_count + 1):
            raise AssertionError(f"finding outside the input: {finding}")
    for notification in report.notifications:
        if notification.code == "internal-check-error":
            raise AssertionError(notification.message)
        if notification.location is None or notification.location.span.start_line < 1:
            raise AssertionError(f"notification without a line: {notification}")


def main() -> None:
    corpus = [arg for arg in sys.argv[1:] if not arg.startswith("-")]
    if corpus:
        folder = Path(corpus[0])
        folder.mkdir(parents=True, exist_ok=True)
        if not any(folder.iterdir()):
            fixtures = Path(__file__).resolve().parent.parent / "fixtures"
            for index, seed in enumerate(sorted(fixtures.rglob("*.yaml"))[:200]):
                (folder / f"seed-{index:03d}.yaml").write_bytes(seed.read_bytes()[:65536])
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()

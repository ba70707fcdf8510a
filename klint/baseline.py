"""Baselines: record today's findings, then report only new ones.

A baseline file lists findings by fingerprint (rule + object identity + field path), so
edits elsewhere in a file do not resurrect them. Each entry also carries the rule, object,
file and field path for people reading the file and for SARIF ``absent`` results.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

from klint.errors import KlintError
from klint.findings import (
    BaselineEntry,
    BaselineSummary,
    Finding,
    Report,
    Suppression,
    field_path_text,
)
from klint.sources.confine import OutsideRoot, confine, repository_root

BASELINE_VERSION = 1


class BaselineError(KlintError):
    """A baseline file that cannot be read."""


def entry_of(finding: Finding) -> BaselineEntry:
    """The baseline entry recording a finding."""

    ref = finding.object_ref
    return BaselineEntry(
        fingerprint=finding.fingerprint,
        rule_id=finding.rule_id,
        object=ref.describe() if ref is not None else "",
        path=finding.location.path,
        field_path=field_path_text(finding.field_path),
    )


def baseline_text(report: Report) -> str:
    """The baseline file for a report's active findings (deterministic JSON)."""
    entries = sorted(
        (entry_of(f) for f in report.active),
        key=lambda e: (e.path, e.object, e.rule_id, e.field_path, e.fingerprint),
    )
    document = {
        "version": BASELINE_VERSION,
        "tool": "klint",
        "findings": [
            {
                "fingerprint": e.fingerprint,
                "rule": e.rule_id,
                "object": e.object,
                "path": e.path,
                "field_path": e.field_path,
            }
            for e in entries
        ],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


MAX_BASELINE_BYTES = 256 * 2**20
MAX_BASELINE_ENTRIES = 500_000
"""Parsed JSON costs ~20 times its text: 110 MB of trivial entries took 1.8 GB. Entries are
counted (from their braces) before the text is parsed."""


def load_baseline(path: Path, display: str | None = None) -> list[BaselineEntry]:
    """Read a baseline file; raises :class:`BaselineError` with the file and problem."""
    display = display or str(path)
    try:
        # A committed baseline is the pull request's: no link out of the repository, no
        # FIFO or device, no file larger than any real baseline.
        real = confine(path, repository_root(path))
        data: bytes | None = None
        if real.is_file() and real.stat().st_size <= MAX_BASELINE_BYTES:
            with real.open("rb") as handle:  # read within the cap even if the file grows
                data = handle.read(MAX_BASELINE_BYTES + 1)
        if data is None or len(data) > MAX_BASELINE_BYTES:
            raise BaselineError(
                f"{display}: not a klint baseline (not a regular file of at most "
                f"{MAX_BASELINE_BYTES // 2**20} MiB)"
            )
        if data.count(b"{") > MAX_BASELINE_ENTRIES + 1:  # one brace per entry, one around all
            raise BaselineError(
                f"{display}: not a klint baseline (more than {MAX_BASELINE_ENTRIES:,} entries)"
            )
        raw: Any = json.loads(data.decode("utf-8"))
    except OutsideRoot as error:
        raise BaselineError(f"{display}: {error.reason}") from None
    except OSError as error:
        raise BaselineError(f"{display}: cannot read baseline: {error.strerror}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise BaselineError(f"{display}: not a klint baseline (invalid JSON: {error})") from None
    if (
        not isinstance(raw, dict)
        or raw.get("version") != BASELINE_VERSION
        or not isinstance(raw.get("findings"), list)
    ):
        raise BaselineError(
            f"{display}: not a klint baseline (expected version {BASELINE_VERSION} and findings)"
        )
    entries = []
    for index, item in enumerate(raw["findings"]):
        if not isinstance(item, dict) or not isinstance(item.get("fingerprint"), str):
            raise BaselineError(f"{display}: findings[{index}] has no fingerprint")
        entries.append(
            BaselineEntry(
                fingerprint=item["fingerprint"],
                rule_id=str(item.get("rule", "")),
                object=str(item.get("object", "")),
                path=str(item.get("path", "")),
                field_path=str(item.get("field_path", "")),
            )
        )
    return entries


def apply_baseline(report: Report, entries: list[BaselineEntry], source: str) -> None:
    """Suppress active findings recorded in the baseline; count entries now fixed.

    Each entry accepts one finding, so a second identical finding is still new.
    """
    budget = Counter(entry.fingerprint for entry in entries)
    matched = 0
    findings = []
    for finding in report.findings:
        if finding.suppression is None and budget[finding.fingerprint] > 0:
            budget[finding.fingerprint] -= 1
            matched += 1
            finding = replace(
                finding, suppression=Suppression("external", f"in baseline {source}", "baseline")
            )
        findings.append(finding)
    report.findings = findings
    present = {finding.fingerprint for finding in report.findings}
    fixed = tuple(entry for entry in entries if entry.fingerprint not in present)
    report.baseline = BaselineSummary(source, matched, fixed)

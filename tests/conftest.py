"""Shared helpers: lint a text or files in-process, and run the real CLI."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from klint.catalog import Rule, load_catalog
from klint.documents import Limits
from klint.engine import bind_rules, lint
from klint.findings import Report
from klint.selection import select_rules
from klint.sources.base import LoadSettings
from klint.sources.manifests import StdinBuffer

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "fixtures"
CORPUS = Path(os.environ.get("KLINT_CORPUS", REPO.parent / "shared" / "corpus"))
HELM_FIXTURES = FIXTURES / "helm"
needs_helm_sdk = pytest.mark.skipif(
    importlib.util.find_spec("helm_python") is None,
    reason="needs helm-python-sdk (a dependency of klint where it has wheels)",
)


@pytest.fixture(scope="session")
def catalog() -> list[Rule]:
    return load_catalog(validate_builtin=True)


def lint_text(
    text: str,
    *,
    rules: Sequence[str] = (),
    profiles: Sequence[str] = ("all",),
    path: str = "test.yaml",
    kube_version: tuple[int, int] = (1, 35),
) -> Report:
    """Lint a YAML text in-process with the named rules (default: every rule)."""
    catalog = load_catalog()
    selected = select_rules(catalog, () if rules else profiles, select=rules)
    unit = StdinBuffer(text.encode(), path)
    return lint([unit], bind_rules(selected), LoadSettings(limits=Limits()), kube_version)


def hits(report: Report, rule: str | None = None) -> list[tuple[int, int, str]]:
    """(line, column, rule id) of each active finding, optionally of one rule."""
    return [
        (f.location.span.start_line, f.location.span.start_column, f.rule_id)
        for f in report.active
        if rule is None or f.rule_id == rule or f.rule_name == rule
    ]


def run_cli(
    *args: str,
    cwd: Path | None = None,
    stdin: bytes | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m klint`` as a user would; returns the completed process (text)."""
    full_env = {**os.environ, **(env or {})}
    full_env.pop("GITHUB_ACTIONS", None)
    return subprocess.run(
        [sys.executable, "-m", "klint", *args],
        cwd=cwd or REPO,
        input=stdin.decode() if stdin is not None else None,
        capture_output=True,
        text=True,
        env=full_env,
        timeout=120,
        check=False,
    )

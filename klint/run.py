"""One ``klint check`` run: options → rules → units → report → formatted output."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from klint.catalog import load_catalog
from klint.documents import Limits
from klint.engine import bind_rules, lint
from klint.errors import KlintError
from klint.findings import Report, Severity
from klint.reporters import FORMATS, ReportContext, get_reporter
from klint.selection import select_rules
from klint.sources.base import LoadSettings
from klint.sources.discover import DiscoverOptions, discover

DEFAULT_KUBE_VERSION = "1.35"


@dataclass(frozen=True)
class RunOptions:
    """Everything ``klint check`` was asked to do."""

    paths: tuple[str, ...]
    output_format: str = "text"
    fail_on: Severity = Severity.WARNING
    profiles: tuple[str, ...] = ()
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    stdin_filename: str | None = None
    category: str = "klint"
    kube_version: str | None = None
    helm_values: tuple[str, ...] = ()
    helm_set: tuple[str, ...] = ()
    helm_set_string: tuple[str, ...] = ()
    release_name: str = "release"
    namespace: str = "default"
    show_suppressed: bool = False
    max_file_bytes: int = 32 * 1024 * 1024
    jobs: int = 0  # 0: one per core


def parse_kube_version(text: str) -> tuple[int, int]:
    """``"1.33"`` or ``"v1.33.2"`` → ``(1, 33)``."""
    parts = text.strip().lstrip("v").split(".")
    try:
        return int(parts[0]), int(parts[1])
    except (IndexError, ValueError):
        raise KlintError(f"invalid Kubernetes version {text!r}: use MAJOR.MINOR, e.g. 1.33") from None


def find_root(cwd: Path) -> Path:
    """The git work tree containing ``cwd``, else ``cwd`` (SARIF URIs are relative to it)."""
    for candidate in [cwd, *cwd.parents]:
        if (candidate / ".git").exists():
            return candidate
    return cwd


def only_stdin_path(report: Report, path: str) -> None:
    """Editor mode: report results for the buffer's own path only (E1)."""
    report.findings = [f for f in report.findings if f.location.path == path]
    report.notifications = [
        n for n in report.notifications if n.location is None or n.location.path == path
    ]


def run_check(options: RunOptions, *, cwd: Path, color: bool = False) -> tuple[Report, str]:
    """Lint and format; returns the report (for the exit code) and the output text."""
    if options.output_format not in FORMATS:
        raise KlintError(f"unknown format {options.output_format!r}: use {', '.join(FORMATS)}")
    kube_version = options.kube_version or DEFAULT_KUBE_VERSION
    kube = parse_kube_version(kube_version)
    catalog = load_catalog()
    rules = select_rules(catalog, options.profiles or ("default",), options.select, options.ignore)
    active = bind_rules(rules)
    stdin = None
    if "-" in options.paths:
        import sys

        stdin = sys.stdin.buffer.read()
    discovery = discover(
        options.paths, cwd=cwd, stdin=stdin, stdin_filename=options.stdin_filename,
        options=DiscoverOptions(),
    )
    settings = LoadSettings(
        limits=Limits(max_file_bytes=options.max_file_bytes),
        helm_values=options.helm_values,
        helm_set=options.helm_set,
        helm_set_string=options.helm_set_string,
        release_name=options.release_name,
        namespace=options.namespace,
        kube_version=kube_version,
    )
    jobs = options.jobs or os.cpu_count() or 1
    report = lint(discovery.units, active, settings, kube, jobs)
    report.notifications.extend(discovery.problems)
    editor = options.paths == ("-",) and options.stdin_filename is not None
    if editor:
        only_stdin_path(report, options.stdin_filename or "")
    report.sort()
    context = ReportContext(
        rules=rules, cwd=cwd, root=cwd if editor else find_root(cwd), color=color,
        category=options.category, show_suppressed=options.show_suppressed,
        extra={"stdin_filename": options.stdin_filename or ""} if editor else {},
    )
    return report, get_reporter(options.output_format).render(report, context)

"""One ``klint check`` run: options → rules → units → report → formatted output."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from fnmatch import fnmatch
from pathlib import Path
from typing import TYPE_CHECKING

from klint.catalog import builtin_rules_key
from klint.documents import Limits
from klint.engine import ActiveRule, lint
from klint.errors import KlintError
from klint.findings import Notification, Report, Severity
from klint.policy import Policy, PolicyInput, build_policy
from klint.reporters import FORMATS, ReportContext, Reporter, get_reporter
from klint.sources.base import LintUnit, LoadSettings, display_path, named_folders
from klint.sources.budget import default_render_memory
from klint.sources.discover import DiscoverOptions, discover
from klint.sources.names import MANIFEST_SUFFIXES
from klint.sources.scans import scans_shared

if TYPE_CHECKING:
    from klint.result_cache import ResultCache

DEFAULT_KUBE_VERSION = "1.35"


@dataclass(frozen=True)
class RunOptions:
    """Everything ``klint check`` was asked to do."""

    paths: tuple[str, ...]
    output_format: str = "text"
    fail_on: Severity | None = None  # None: the config's, else warning
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
    namespace: str = ""  # --namespace; empty: Helm's default
    show_suppressed: bool = False
    max_file_bytes: int = 32 * 1024 * 1024
    max_yaml_nodes: int = 2_000_000
    max_depth: int = 250
    max_documents: int = 10_000
    max_findings: int = 20_000
    config: Path | None = None
    no_config: bool = False
    baseline: Path | None = None
    rules_dirs: tuple[Path, ...] = ()
    crds: tuple[Path, ...] = ()  # --crd: CustomResourceDefinition files or folders
    policies: tuple[Path, ...] = ()  # --policy: ValidatingAdmissionPolicy files or folders
    render_timeout: float = 120.0
    unit_timeout: float = 300.0  # --unit-timeout: seconds per lint unit, 0: none
    unit_memory_mb: int = 2048  # --unit-memory: MiB of growth per lint unit, 0: none
    render_memory_mb: int = 0  # --render-memory; 0: KLINT_RENDER_MEMORY_MB, else 768
    jobs: int = 0  # 0: one per core
    shard: tuple[int, int] | None = None  # --shard I/N: (I, N), 1-based
    quiet: bool = False  # text: findings only, no summary line
    no_cache: bool = False  # --no-cache: neither read nor write the result cache
    cache_dir: Path | None = None  # --cache-dir (else KLINT_CACHE_DIR, else <root>/.klint_cache)


def parse_shard(text: str) -> tuple[int, int]:
    """``"2/4"`` → ``(2, 4)``; a usage error unless ``1 <= I <= N``."""
    index, _, count = text.partition("/")
    try:
        shard = int(index), int(count)
    except ValueError:
        shard = (0, 0)
    if not 1 <= shard[0] <= shard[1]:
        raise KlintError(f"invalid --shard {text!r}: use I/N with 1 <= I <= N, e.g. 2/4")
    return shard


def shard_of(display: str, count: int) -> int:
    """The 1-based shard of a lint unit: a hash of its name, so it never moves when others
    are added or removed (a chart, overlay or folder is one unit and never splits)."""
    digest = hashlib.sha256(display.encode("utf-8", "surrogateescape")).digest()
    return int.from_bytes(digest[:8], "big") % count + 1


def select_shard(units: Sequence[LintUnit], shard: tuple[int, int] | None) -> list[LintUnit]:
    """The units of shard ``(I, N)`` (all of them without a shard)."""
    if shard is None:
        return list(units)
    return [unit for unit in units if shard_of(unit.display, shard[1]) == shard[0]]


def shard_category(options: RunOptions) -> str:
    """``--category``, or ``klint/shard-I`` for a sharded run left at the default."""
    if options.shard is not None and options.category == "klint":
        return f"klint/shard-{options.shard[0]}"
    return options.category


def render_memory(mebibytes: int) -> int:
    """``--render-memory`` in bytes for LoadSettings (0, absent: the environment's or the
    default)."""
    if mebibytes < 0:
        raise KlintError(f"invalid --render-memory {mebibytes}: use a positive number of MiB")
    return mebibytes * 1024 * 1024 if mebibytes else default_render_memory()


def crd_paths(paths: tuple[Path, ...], cwd: Path, option: str = "--crd") -> tuple[str, ...]:
    """``--crd`` (or ``--policy``) paths made absolute; a missing one is a usage error."""
    resolved = tuple(path if path.is_absolute() else cwd / path for path in paths)
    for path in resolved:
        if not path.exists():
            raise KlintError(f"{option} {path}: no such file or folder")
    return tuple(str(path) for path in resolved)


def parse_kube_version(text: str) -> tuple[int, int]:
    """``"1.33"`` or ``"v1.33.2"`` → ``(1, 33)``."""
    parts = text.strip().lstrip("v").split(".")
    try:
        return int(parts[0]), int(parts[1])
    except (IndexError, ValueError):
        raise KlintError(
            f"invalid Kubernetes version {text!r}: use MAJOR.MINOR, e.g. 1.33"
        ) from None


def version_warnings(kube: tuple[int, int], active: Sequence[ActiveRule]) -> list[str]:
    """Say so when the schema rules cannot check ``--kube-version`` (older than the bundle)."""
    from klint.k8s_schemas import bundled_versions, schemas_cover

    schema_rules = sorted(a.rule.id for a in active if a.rule.check.startswith("schema-"))
    if not schema_rules or schemas_cover(kube):
        return []
    oldest = bundled_versions()[0]
    return [
        f"klint: warning: no API schemas are bundled for Kubernetes {kube[0]}.{kube[1]} "
        f"(oldest: {oldest[0]}.{oldest[1]}); schema checks ({', '.join(schema_rules)}) "
        "are skipped"
    ]


def find_root(cwd: Path) -> Path:
    """The git work tree containing ``cwd``, else ``cwd`` (SARIF URIs are relative to it)."""
    for candidate in [cwd, *cwd.parents]:
        if (candidate / ".git").exists():
            return candidate
    return cwd


def editor_mode(options: RunOptions) -> bool:
    """``klint check --stdin-filename PATH -``: one buffer linted as if it were PATH."""
    return options.paths == ("-",) and options.stdin_filename is not None


def only_stdin_path(report: Report, path: str, exclude: tuple[str, ...], cwd: Path) -> None:
    """Editor mode: results for the buffer's own path only, none if PATH is excluded (E1)."""
    shown = display_path(Path(path), cwd)
    if any(fnmatch(shown, p) or fnmatch(shown, p.rstrip("/") + "/*") for p in exclude):
        report.findings, report.notifications = [], []
    report.findings = [f for f in report.findings if f.location.path == path]
    report.notifications = [
        n for n in report.notifications if n.location is None or n.location.path == path
    ]


def nothing_found(paths: Sequence[str], report: Report) -> list[Notification]:
    """A fatal problem when the paths hold nothing to read: an empty folder, a folder without
    YAML or JSON, a named ``readme.txt`` (YAML that is not Kubernetes was found, and passes)."""
    if "-" in paths or report.files_scanned or report.notifications:
        return []
    if any(n.location and n.location.path.endswith(MANIFEST_SUFFIXES) for n in report.skipped):
        return []
    named = ", ".join(paths)
    message = f"no Kubernetes files found in {named} (YAML or JSON manifests, charts, overlays)"
    return [Notification("no-files-found", message, None, fatal=True)]


def policy_for(options: RunOptions, cwd: Path) -> Policy:
    """The config (``--config`` or found from ``cwd``) merged with the command line."""
    from klint.config import Config, find_config, load_config, resolve_config

    if editor_mode(options) and options.config is None and not options.no_config:
        # E1: the buffer's config is the one its path would get on disk
        found = find_config((cwd / (options.stdin_filename or "")).parent)
        config = load_config(found, str(found)) if found is not None else Config()
    else:
        config = resolve_config(options.config, cwd, disabled=options.no_config)
    given = PolicyInput(
        profiles=options.profiles,
        select=options.select,
        ignore=options.ignore,
        fail_on=options.fail_on,
        kube_version=options.kube_version,
        rules_dirs=tuple(d if d.is_absolute() else cwd / d for d in options.rules_dirs),
        policy_files=crd_paths(options.policies, cwd, "--policy"),
    )
    return build_policy(config, given, cwd=cwd)


def run(
    options: RunOptions, *, cwd: Path, color: bool = False, stdin: bytes | None = None
) -> tuple[Report, str, Severity]:
    """Lint and format; returns the report, the output text and the effective fail-on.

    ``stdin`` is what ``-`` reads (default: the process's standard input; the language
    server passes the editor buffer).
    """
    report, pieces, fail_on = run_stream(options, cwd=cwd, color=color, stdin=stdin)
    return report, "".join(pieces), fail_on


def run_stream(
    options: RunOptions, *, cwd: Path, color: bool = False, stdin: bytes | None = None
) -> tuple[Report, Iterator[str], Severity]:
    """Like :func:`run`, with the output as pieces to write one after the other."""
    report, reporter, context, fail_on = lint_report(options, cwd=cwd, color=color, stdin=stdin)
    stream = getattr(reporter, "stream", None)
    pieces = (
        stream(report, context) if stream is not None else iter([reporter.render(report, context)])
    )
    return report, pieces, fail_on


def with_run_contexts(settings: LoadSettings, units: Sequence[LintUnit], cwd: Path) -> LoadSettings:
    """``settings`` with what the whole run decides of a finding's context: the charts it
    lints (of every shard: a chart linted in another shard is linted by the run) and the
    READMEs that declare a folder a demo or test driver, and the repositories of inputs
    outside the working directory, below which their folder context is read
    (:mod:`klint.run_context`)."""
    from klint.policy import ChartUnit
    from klint.release_copies import release_pins
    from klint.run_context import (
        built_copies,
        declared_folders,
        linted_charts,
        outside_roots,
        run_folders,
    )

    inner = [unit.unit if isinstance(unit, ChartUnit) else unit for unit in units]
    bases = {*settings.named_folders, *outside_roots(inner, cwd)}
    folders = run_folders(inner, cwd)
    return replace(
        settings,
        named_folders=tuple(sorted(bases, key=lambda folder: (-len(folder), folder))),
        linted_charts=linted_charts(inner, cwd),
        declared_folders=declared_folders(inner, cwd, folders),
        built_copies=built_copies(inner, cwd, folders),
        release_pins=release_pins(inner, cwd),
    )


def open_result_cache(
    options: RunOptions,
    policy: Policy,
    settings: LoadSettings,
    kube: tuple[int, int],
    cwd: Path,
    units: Sequence[LintUnit],
) -> tuple[ResultCache | None, list[str]]:
    """The result cache keyed by everything that shapes a unit's results, unless disabled."""
    if options.no_cache:
        return None, []
    from klint.result_cache import files_digest, open_cache

    expiring = any(e.expires is not None for e in policy.config.exemptions)
    builtin = builtin_rules_key()
    parts = [
        repr(settings),
        repr(kube),
        repr(policy.config),
        policy.suppressor.today.isoformat() if expiring else "",
        files_digest([*settings.crd_paths, *crd_paths(options.policies, cwd, "--policy")]),
        *(_rule_key(a, builtin) for a in policy.active),
    ]
    cache, warnings = open_cache(options.cache_dir, find_root(cwd), parts)
    if cache is not None:
        cache.prepare(units, cwd, settings.helm_values)
    return cache, warnings


def _rule_key(active: ActiveRule, builtin: str | None) -> str:
    """An active rule in the result cache's key: a built-in rule read from the catalogue
    index is its id under the index's key (its text is a function of it), any other rule
    its whole text; then its params and severity."""
    if builtin is not None and active.rule.builtin:
        return repr((active.rule.id, builtin, active.params, active.severity))
    return repr((active.rule, active.params, active.severity))


def lint_report(
    options: RunOptions,
    *,
    cwd: Path,
    color: bool = False,
    stdin: bytes | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[Report, Reporter, ReportContext, Severity]:
    """Lint; returns the finished report, its reporter and context, and the fail-on.

    ``progress(done, total)`` is called after each lint unit (the CLI's terminal display).
    """
    if options.output_format not in FORMATS:
        raise KlintError(f"unknown format {options.output_format!r}: use {', '.join(FORMATS)}")
    policy = policy_for(options, cwd)
    kube_version = policy.kube_version or DEFAULT_KUBE_VERSION
    kube = parse_kube_version(kube_version)
    rules, active = policy.rules, policy.active
    if "-" in options.paths and stdin is None:
        import sys

        # One byte past the limit is enough to refuse it (endless input: /dev/zero).
        stdin = sys.stdin.buffer.read(options.max_file_bytes + 1)
    settings = LoadSettings(
        limits=Limits(
            max_file_bytes=options.max_file_bytes,
            max_nodes_per_document=options.max_yaml_nodes,
            max_depth=options.max_depth,
            max_documents=options.max_documents,
            max_findings=options.max_findings,
            unit_timeout=options.unit_timeout,
            unit_memory_mb=options.unit_memory_mb,
        ),
        helm_values=options.helm_values,
        helm_set=options.helm_set,
        helm_set_string=options.helm_set_string,
        release_name=options.release_name,
        namespace=options.namespace,
        kube_version=kube_version,
        crd_paths=crd_paths(options.crds, cwd),
        render_timeout=options.render_timeout,
        render_memory_bytes=render_memory(options.render_memory_mb),
        named_folders=named_folders(options.paths, cwd),
    )
    jobs = options.jobs or os.cpu_count() or 1
    with scans_shared():  # discovery and the result cache scan each overlay once
        discovery = discover(
            options.paths,
            cwd=cwd,
            stdin=stdin,
            stdin_filename=options.stdin_filename,
            options=DiscoverOptions(exclude=policy.exclude(cwd)),
        )
        every = policy.units(discovery.units, cwd)
        settings = with_run_contexts(settings, every, cwd)
        units = select_shard(every, options.shard)
        cache, cache_warnings = open_result_cache(options, policy, settings, kube, cwd, units)
    report = lint(units, active, settings, kube, jobs, policy.suppressor, progress, cache)
    report.warnings.extend(cache_warnings)
    if cache is not None:
        cache.close()
    report.notifications.extend(discovery.problems)
    report.notifications.extend(nothing_found(options.paths, report))
    report.warnings.extend(version_warnings(kube, active))
    policy.settle(report)
    if options.baseline is not None:
        from klint.baseline import apply_baseline, load_baseline

        path = options.baseline if options.baseline.is_absolute() else cwd / options.baseline
        entries = load_baseline(path, str(options.baseline))
        apply_baseline(report, entries, str(options.baseline))
    editor = editor_mode(options)
    if editor:
        only_stdin_path(report, options.stdin_filename or "", policy.exclude(cwd), cwd)
    report.notifications.sort(key=Notification.sort_key)  # findings: sorted by lint
    context = ReportContext(
        rules=rules,
        cwd=cwd,
        root=cwd if editor else find_root(cwd),
        color=color,
        category=shard_category(options),
        show_suppressed=options.show_suppressed,
        extra={
            **({"stdin_filename": options.stdin_filename or ""} if editor else {}),
            **({"quiet": "yes"} if options.quiet else {}),
        },
        catalog=policy.catalog,
        fail_on=policy.fail_on,
    )
    return report, get_reporter(options.output_format), context, policy.fail_on

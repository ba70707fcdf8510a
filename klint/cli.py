"""The ``klint`` command: parse flags, build the run, call the engine, pick a reporter.

Exit codes: see :mod:`klint.cli_exit` (0 clean, 1 findings, 2 usage error or input that
could not be linted, 3 internal error).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from klint import __version__
from klint import cli_limits as limit
from klint.cli_catalog import docs, explain, list_rules
from klint.cli_exit import EXIT_CLEAN, EXIT_ERROR, UsageFailure, exit_on_error, fail
from klint.cli_options import (
    CacheDir,
    ConfigFile,
    Ignores,
    KubeVersion,
    Namespace,
    NoCache,
    NoConfig,
    Paths,
    Profiles,
    ReleaseName,
    RulesDirs,
    Selects,
    SetStrings,
    SetValues,
    Values,
    default_paths,
)
from klint.cli_output import write_text
from klint.findings import Severity

app = typer.Typer(
    add_completion=True,  # --install-completion / --show-completion (bash, zsh, fish, pwsh)
    context_settings={"help_option_names": ["-h", "--help"]},
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Offline static security linter for Kubernetes manifests, Helm charts and Kustomize.",
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"klint {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", "-V", callback=_version, is_eager=True, help="Show version."),
    ] = False,
) -> None:
    """klint checks Kubernetes configuration for insecure settings, offline."""


NEVER = "never"


@app.command()
def check(
    paths: Paths = None,
    output_format: Annotated[
        str,
        typer.Option(
            "--format",
            "--output-format",
            help="text, json, sarif, github, markdown, junit, gitlab-codequality, compliance "
            "or html.",
        ),
    ] = "text",
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="Write the report to this file (summary still on stderr)."
        ),
    ] = None,
    report_to: Annotated[
        list[str] | None,
        typer.Option(
            "--report",
            metavar="FORMAT:FILE",
            help="Also write the report in FORMAT to FILE, from the same run (repeatable).",
        ),
    ] = None,
    fail_on: Annotated[
        str | None,
        typer.Option(
            "--fail-on",
            help="Lowest level that fails the run: error, warning (default), note; never: "
            "findings and unlintable input never fail it.",
        ),
    ] = None,
    exit_zero: Annotated[
        bool,
        typer.Option(
            "--exit-zero",
            help="Exit 0 even with findings or input that could not be linted (2 still on "
            "usage errors).",
        ),
    ] = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Print findings only: no summary line.")
    ] = False,
    verbose: Annotated[
        bool,
        typer.Option(
            "--verbose",
            "-v",
            help="Also say on stderr which config is used, every file linted and every file "
            "skipped (with why).",
        ),
    ] = False,
    show_files: Annotated[
        bool,
        typer.Option(
            "--show-files",
            help="Print the files linted, one per line, instead of the findings (skipped ones, "
            "with why, on stderr); exit as check would.",
        ),
    ] = False,
    statistics: Annotated[
        bool,
        typer.Option(
            "--statistics", help="Print the number of findings per rule (and a total) instead."
        ),
    ] = False,
    show_fixes: Annotated[
        bool,
        typer.Option("--show-fixes", help="Mark each finding `klint fix` can fix, with the fix."),
    ] = False,
    profile: Profiles = None,
    select: Selects = None,
    ignore: Ignores = None,
    stdin_filename: Annotated[
        str | None,
        typer.Option("--stdin-filename", help="Report stdin ('-') as this path."),
    ] = None,
    category: Annotated[
        str, typer.Option("--category", help="SARIF automationDetails category.")
    ] = "klint",
    kube_version: KubeVersion = None,
    values: Values = None,
    set_values: SetValues = None,
    set_string: SetStrings = None,
    release_name: ReleaseName = "release",
    namespace: Namespace = "",
    show_suppressed: Annotated[
        bool, typer.Option("--show-suppressed", help="List suppressed findings too.")
    ] = False,
    max_file_size: limit.MaxFileSize = 32,
    max_yaml_nodes: limit.MaxYamlNodes = 2_000_000,
    max_documents: limit.MaxDocuments = 10_000,
    max_findings: limit.MaxFindings = 20_000,
    max_depth: limit.MaxDepth = 250,
    render_memory: limit.RenderMemory = 0,
    unit_timeout: limit.UnitTimeout = 300.0,
    unit_memory: limit.UnitMemory = 2048,
    render_timeout: limit.RenderTimeout = 120.0,
    color: Annotated[
        bool | None,
        typer.Option("--color/--no-color", help="Colour text output (default: on a terminal)."),
    ] = None,
    jobs: Annotated[
        int, typer.Option("--jobs", "-j", help="Worker processes (0: one per core).")
    ] = 0,
    config: ConfigFile = None,
    no_config: NoConfig = False,
    baseline: Annotated[
        Path | None,
        typer.Option("--baseline", help="Report only findings not in this baseline file."),
    ] = None,
    rules_dir: RulesDirs = None,
    crd: Annotated[
        list[Path] | None,
        typer.Option("--crd", help="CRD file or folder: schemas for custom resources."),
    ] = None,
    policy: Annotated[
        list[Path] | None,
        typer.Option("--policy", help="ValidatingAdmissionPolicy file or folder: every unit."),
    ] = None,
    shard: Annotated[
        str | None,
        typer.Option("--shard", help="Lint only shard I of N (e.g. 2/4): one CI job per shard."),
    ] = None,
    no_cache: NoCache = False,
    cache_dir: CacheDir = None,
) -> None:
    """Lint PATHS (default: the current directory) and report findings."""
    from klint.cli_check import CheckOutput, run_check
    from klint.cli_output import parse_report_spec
    from klint.run import RunOptions, parse_shard

    never = fail_on is not None and fail_on.strip().lower() == NEVER
    also = [parse_report_spec(spec) for spec in report_to or ()]
    options = RunOptions(
        paths=default_paths(paths, stdin_filename),
        output_format=output_format,
        fail_on=_level(fail_on) if fail_on and not never else None,
        profiles=tuple(profile or ()),
        select=tuple(select or ()),
        ignore=tuple(ignore or ()),
        stdin_filename=stdin_filename,
        category=category,
        kube_version=kube_version,
        helm_values=tuple(values or ()),
        helm_set=tuple(set_values or ()),
        helm_set_string=tuple(set_string or ()),
        release_name=release_name,
        namespace=namespace,
        show_suppressed=show_suppressed,
        max_file_bytes=max_file_size * 1024 * 1024,
        max_yaml_nodes=max_yaml_nodes,
        max_depth=max_depth,
        max_documents=max_documents,
        max_findings=max_findings,
        render_memory_mb=render_memory,
        render_timeout=render_timeout,
        unit_timeout=unit_timeout,
        unit_memory_mb=unit_memory,
        jobs=jobs,
        config=config,
        no_config=no_config,
        baseline=baseline,
        rules_dirs=tuple(rule_dir for rule_dir in rules_dir or ()),
        crds=tuple(crd or ()),
        quiet=quiet,
        policies=tuple(policy or ()),
        shard=parse_shard(shard) if shard else None,
        no_cache=no_cache,
        cache_dir=cache_dir,
    )
    shown = CheckOutput(
        output=output,
        color=color,
        verbose=verbose,
        show_files=show_files,
        statistics=statistics,
        show_fixes=show_fixes,
        reports=tuple(also),
        never=never,
        exit_zero=exit_zero,
    )
    raise typer.Exit(run_check(options, shown))


@app.command()
def fix(
    paths: Paths = None,
    diff: Annotated[
        bool, typer.Option("--diff", help="Print a unified diff; do not write files.")
    ] = False,
    unsafe: Annotated[bool, typer.Option("--unsafe", help="Apply needs-review fixes too.")] = False,
    profile: Profiles = None,
    select: Selects = None,
    ignore: Ignores = None,
    kube_version: KubeVersion = None,
    values: Values = None,
    set_values: SetValues = None,
    set_string: SetStrings = None,
    release_name: ReleaseName = "release",
    namespace: Namespace = "",
    config: ConfigFile = None,
    no_config: NoConfig = False,
    rules_dir: RulesDirs = None,
) -> None:
    """Apply rule fixes in place (safe ones; --unsafe adds needs-review); see docs/fix.md."""
    from klint.fix import fix_exit_code, fix_summary, run_fix, unified_diff
    from klint.run import RunOptions

    options = RunOptions(
        paths=default_paths(paths),
        profiles=tuple(profile or ()),
        select=tuple(select or ()),
        ignore=tuple(ignore or ()),
        kube_version=kube_version,
        helm_values=tuple(values or ()),
        helm_set=tuple(set_values or ()),
        helm_set_string=tuple(set_string or ()),
        release_name=release_name,
        namespace=namespace,
        config=config,
        no_config=no_config,
        rules_dirs=tuple(rules_dir or ()),
        jobs=1,
    )
    cwd = Path.cwd()
    outcome = run_fix(options, cwd, unsafe=unsafe, write=not diff)
    if diff:
        from klint.cli_output import repository_path

        patch = (unified_diff(repository_path(p, cwd), *t) for p, t in outcome.files.items())
        write_text("".join(patch), None)
    sys.stderr.write(fix_summary(outcome, diff=diff, unsafe=unsafe))
    raise typer.Exit(fix_exit_code(outcome, diff=diff))


baseline_app = typer.Typer(
    no_args_is_help=True, help="Record current findings so that only new ones are reported."
)
app.add_typer(baseline_app, name="baseline")


@baseline_app.command("create")
def baseline_create(
    paths: Paths = None,
    output: Annotated[Path, typer.Option("--output", "-o", help="Baseline file to write.")] = Path(
        ".klint-baseline.json"
    ),
    profile: Profiles = None,
    select: Selects = None,
    ignore: Ignores = None,
    kube_version: KubeVersion = None,
    values: Values = None,
    set_values: SetValues = None,
    set_string: SetStrings = None,
    release_name: ReleaseName = "release",
    namespace: Namespace = "",
    config: ConfigFile = None,
    no_config: NoConfig = False,
    rules_dir: RulesDirs = None,
) -> None:
    """Lint PATHS and record every unsuppressed finding in a baseline file."""
    from klint.baseline import baseline_text
    from klint.run import RunOptions, run

    options = RunOptions(
        paths=default_paths(paths),
        output_format="json",
        profiles=tuple(profile or ()),
        select=tuple(select or ()),
        ignore=tuple(ignore or ()),
        kube_version=kube_version,
        helm_values=tuple(values or ()),
        helm_set=tuple(set_values or ()),
        helm_set_string=tuple(set_string or ()),
        release_name=release_name,
        namespace=namespace,
        config=config,
        no_config=no_config,
        rules_dirs=tuple(rule_dir for rule_dir in rules_dir or ()),
    )
    report, _, _ = run(options, cwd=Path.cwd())
    if any(n.fatal for n in report.notifications):
        messages = "; ".join(n.message for n in report.notifications if n.fatal)
        raise UsageFailure(f"baseline not written: {messages}")
    write_text(baseline_text(report), output)
    from klint.reporters.text import plural

    typer.echo(f"klint: recorded {plural(len(report.active), 'finding')} in {output}", err=True)


app.command("rules")(list_rules)
app.command()(explain)
app.command()(docs)


@app.command()
def lsp(
    profile: Profiles = None,
) -> None:
    """Run the language server over stdio (needs the lsp extra: pip install 'klint\\[lsp]')."""
    try:
        from klint.lsp import serve
    except ImportError as error:
        raise UsageFailure(f"klint lsp needs pygls ({error}): pip install 'klint[lsp]'") from None
    serve(tuple(profile or ()))


def _level(text: str) -> Severity:
    try:
        return Severity.parse(text)
    except ValueError as error:
        raise UsageFailure(str(error)) from None


def _once(message: str) -> str:
    """Click and typer both add "Did you mean ...?" to an unknown command: keep one."""
    import re

    return re.sub(r"( Did you mean [^?]*\?)(?:\1)+", r"\1", message)


def main(argv: list[str] | None = None) -> None:
    """Console entry point: one-line errors and stable exit codes, never a traceback."""
    import click

    try:
        result = app(args=argv, prog_name="klint", standalone_mode=False)
    except typer.Exit as done:
        sys.exit(done.exit_code)
    except click.exceptions.NoArgsIsHelpError as shown:
        # help was printed: the bare program is a request for it; a bare group lacks a command
        sys.exit(EXIT_CLEAN if shown.ctx.parent is None else EXIT_ERROR)
    except typer.Abort:
        fail("aborted")
    except (Exception, KeyboardInterrupt) as error:
        if hasattr(error, "format_message"):  # click's usage and parameter errors
            lines = str(error.format_message()).splitlines() or [type(error).__name__]
            fail(_once(lines[0]))
        exit_on_error(error)
    sys.exit(result if isinstance(result, int) else EXIT_CLEAN)

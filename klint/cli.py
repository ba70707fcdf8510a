"""The ``klint`` command: parse flags, build the run, call the engine, pick a reporter.

Exit codes: 0 no finding at or above ``--fail-on``; 1 such findings (or input that cannot
be parsed); 2 usage, configuration, render or internal error.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from klint import __version__
from klint import cli_limits as limit
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
from klint.findings import Severity
from klint.printable import printable

if TYPE_CHECKING:
    from klint.catalog import Rule

from klint.console import EXIT_CLEAN, EXIT_ERROR, EXIT_FINDINGS, exit_code

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Offline static security linter for Kubernetes manifests, Helm charts and Kustomize.",
)


class UsageFailure(Exception):
    """A problem with the command line or configuration: exit 2 with one line."""


def _version(value: bool) -> None:
    if value:
        typer.echo(f"klint {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show version.")
    ] = False,
) -> None:
    """klint checks Kubernetes configuration for insecure settings, offline."""


NEVER = "never"


def _catalog(config: Path | None, no_config: bool, rules_dir: list[Path] | None) -> list[Rule]:
    """Built-in rules plus the custom rules the config and ``--rules-dir`` name."""
    from klint.config import resolve_config
    from klint.policy import load_rules

    cwd = Path.cwd()
    settings = resolve_config(config, cwd, disabled=no_config)
    return load_rules(settings, [d if d.is_absolute() else cwd / d for d in rules_dir or ()])


@app.command()
def check(
    paths: Paths = None,
    output_format: Annotated[
        str,
        typer.Option(
            "--format",
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
    fail_on: Annotated[
        str | None,
        typer.Option(
            "--fail-on",
            help="Lowest level that fails the run: error, warning (default), note, never.",
        ),
    ] = None,
    exit_zero: Annotated[
        bool, typer.Option("--exit-zero", help="Exit 0 even with findings (2 still on errors).")
    ] = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Print findings only: no summary line.")
    ] = False,
    verbose: Annotated[
        bool,
        typer.Option("--verbose", "-v", help="Also say on stderr which inputs were skipped."),
    ] = False,
    statistics: Annotated[
        bool, typer.Option("--statistics", help="Print the number of findings per rule instead.")
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
    namespace: Namespace = "default",
    show_suppressed: Annotated[
        bool, typer.Option("--show-suppressed", help="List suppressed findings too.")
    ] = False,
    max_file_size: limit.MaxFileSize = 32,
    max_yaml_nodes: limit.MaxYamlNodes = 2_000_000,
    max_documents: limit.MaxDocuments = 10_000,
    max_findings: limit.MaxFindings = 20_000,
    max_depth: limit.MaxDepth = 250,
    render_memory: limit.RenderMemory = 0,
    render_timeout: Annotated[
        float,
        typer.Option(
            "--render-timeout", help="Seconds one chart render or kustomize build may take."
        ),
    ] = 120.0,
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
    from klint import console
    from klint.run import RunOptions, parse_shard, run_stream

    never = fail_on is not None and fail_on.strip().lower() == NEVER
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
    use_color = console.use_color(color, sys.stdout, to_file=output is not None)
    report, pieces, effective_fail_on = run_stream(options, cwd=Path.cwd(), color=use_color)
    console.write_stderr(report.warnings)
    if verbose:
        console.write_stderr(console.skipped_lines(report))
    _write_pieces([console.statistics(report)] if statistics else pieces, output)
    if output is not None and not quiet:
        console.write_stderr(
            [*console.problem_lines(report.notifications), console.summary_line(report)]
        )
    code = exit_code(report, effective_fail_on)
    if (never or exit_zero) and code == EXIT_FINDINGS:
        code = EXIT_CLEAN
    raise typer.Exit(code)


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
    namespace: Namespace = "default",
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
    outcome = run_fix(options, Path.cwd(), unsafe=unsafe, write=not diff)
    if diff:
        _write("".join(unified_diff(p, *texts) for p, texts in outcome.files.items()), None)
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
    namespace: Namespace = "default",
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
    _write(baseline_text(report), output)
    from klint.reporters.text import plural

    typer.echo(f"klint: recorded {plural(len(report.active), 'finding')} in {output}", err=True)


@app.command("rules")
def list_rules(
    framework: Annotated[
        str | None, typer.Option("--framework", help="Show the mapping to pss, cis, nsa or mitre.")
    ] = None,
    profile: Annotated[
        str | None, typer.Option("--profile", help="Only rules of this profile.")
    ] = None,
    config: ConfigFile = None,
    no_config: NoConfig = False,
    rules_dir: RulesDirs = None,
) -> None:
    """List the rule catalogue (with custom rules from the config and --rules-dir)."""
    rules = _catalog(config, no_config, rules_dir)
    if profile:
        rules = [r for r in rules if profile in r.profiles or profile == "all"]
    for rule in rules:
        if framework:
            ids = rule.frameworks().get(framework)
            if not ids:
                continue
            typer.echo(f"{rule.id}  {rule.name:<40} {'; '.join(ids)}")
        else:
            typer.echo(
                f"{rule.id}  {rule.name:<40} {rule.severity.value:<8} {','.join(rule.profiles)}"
            )


@app.command()
def explain(
    rule: Annotated[str, typer.Argument(help="Rule id or name (any case).")],
    markdown: Annotated[
        bool, typer.Option("--markdown", help="Print the page as Markdown source.")
    ] = False,
    config: ConfigFile = None,
    no_config: NoConfig = False,
    rules_dir: RulesDirs = None,
) -> None:
    """Show a rule's documentation: why, how to fix, examples, references."""
    from klint.console import explain_text
    from klint.docs import rule_page
    from klint.selection import rule_index

    index = rule_index(_catalog(config, no_config, rules_dir))
    found = index.get(rule)
    if found is None:
        raise UsageFailure(index.unknown(rule))
    page = rule_page(found)
    typer.echo(page if markdown else explain_text(page, sys.stdout), nl=False)


@app.command()
def docs(
    output: Annotated[Path, typer.Option("--output", "-o", help="Directory to write.")] = Path(
        "docs/rules"
    ),
    config: ConfigFile = None,
    rules_dir: RulesDirs = None,
    readme: Annotated[
        Path | None,
        typer.Option(
            "--readme", help="Also refresh the rule table between the markers in this file."
        ),
    ] = None,
) -> None:
    """Generate the rule reference (Markdown) from the catalogue (plus custom rules)."""
    from klint.docs import update_readme, write_docs

    # Only an explicit --config adds custom rules: the built-in reference stays reproducible.
    rules = _catalog(config, config is None, rules_dir)
    written = write_docs(rules, output)
    if readme is not None:
        update_readme(readme, rules)
        written.append(readme)
    typer.echo(f"wrote {len(written)} files", err=True)


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


def _write(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as error:
        raise UsageFailure(f"cannot write {output}: {error.strerror}") from None


def _write_pieces(pieces: Iterable[str], output: Path | None) -> None:
    """Write a report as it is formatted (a large SARIF log is never one string)."""
    if output is None:
        for piece in pieces:
            sys.stdout.write(piece)
        sys.stdout.flush()
        return
    try:
        with output.open("w", encoding="utf-8") as handle:
            for piece in pieces:
                handle.write(piece)
    except OSError as error:
        raise UsageFailure(f"cannot write {output}: {error.strerror}") from None


def _fail(message: str) -> NoReturn:
    sys.stderr.write(f"klint: error: {printable(message)}\n")  # names cannot forge log lines
    sys.exit(EXIT_ERROR)


def main(argv: list[str] | None = None) -> None:
    """Console entry point: one-line errors and stable exit codes, never a traceback."""
    import click

    from klint.errors import KlintError

    try:
        result = app(args=argv, prog_name="klint", standalone_mode=False)
    except typer.Exit as done:
        sys.exit(done.exit_code)
    except click.exceptions.NoArgsIsHelpError as shown:
        # help was printed: the bare program is a request for it; a bare group lacks a command
        sys.exit(EXIT_CLEAN if shown.ctx.parent is None else EXIT_ERROR)
    except typer.Abort:
        _fail("aborted")
    except (UsageFailure, KlintError) as error:
        _fail(str(error))
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(EXIT_ERROR)
    except KeyboardInterrupt:
        _fail("interrupted")
    except Exception as error:
        if hasattr(error, "format_message"):  # click's usage and parameter errors
            lines = str(error.format_message()).splitlines() or [type(error).__name__]
            _fail(lines[0])
        _fail(f"internal error: {type(error).__name__}: {error}")
    sys.exit(result if isinstance(result, int) else EXIT_CLEAN)

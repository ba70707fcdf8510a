"""``klint rules``, ``klint explain`` and ``klint docs``: the commands about the catalogue.

Plain functions; :mod:`klint.cli` registers them on the app.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from klint.cli_exit import UsageFailure
from klint.cli_options import ConfigFile, NoConfig, RulesDirs
from klint.cli_output import write_text
from klint.printable import log_line, log_lines

if TYPE_CHECKING:
    from klint.catalog import Rule


def _catalog(config: Path | None, no_config: bool, rules_dir: list[Path] | None) -> list[Rule]:
    """Built-in rules plus the custom rules the config and ``--rules-dir`` name."""
    from klint.config import resolve_config
    from klint.policy import load_rules

    cwd = Path.cwd()
    settings = resolve_config(config, cwd, disabled=no_config)
    return load_rules(settings, [d if d.is_absolute() else cwd / d for d in rules_dir or ()])


def list_rules(
    framework: Annotated[
        str | None, typer.Option("--framework", help="Show the mapping to pss, cis, nsa or mitre.")
    ] = None,
    profile: Annotated[
        str | None, typer.Option("--profile", help="Only rules of this profile.")
    ] = None,
    output_format: Annotated[
        str, typer.Option("--format", "--output-format", help="text or json.")
    ] = "text",
    config: ConfigFile = None,
    no_config: NoConfig = False,
    rules_dir: RulesDirs = None,
) -> None:
    """List the rule catalogue (with custom rules from the config and --rules-dir)."""
    from klint.selection import select_rules

    if output_format not in ("text", "json"):
        raise UsageFailure(f"unknown format {output_format!r}: use text or json")
    rules = _catalog(config, no_config, rules_dir)
    if profile:  # an unknown profile is an error, as for check --profile
        rules = select_rules(rules, (profile,))
    if output_format == "json":
        from klint.console import rules_json

        write_text(rules_json(rules), None)
        return
    for rule in rules:  # custom rules are repository text: each line through log_line
        ids = rule.frameworks().get(framework) if framework else None
        if framework and not ids:
            continue
        if ids:
            line = f"{rule.id}  {rule.name:<40} {'; '.join(ids)}"
        else:
            line = f"{rule.id}  {rule.name:<40} {rule.severity.value:<8} {','.join(rule.profiles)}"
        typer.echo(log_line(line))


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
    from klint.reporters import input_problem
    from klint.selection import rule_index

    index = rule_index(_catalog(config, no_config, rules_dir))
    found = index.get(rule)
    if found is not None:
        page = log_lines(rule_page(found))  # custom rules are repository text
    elif rule.upper() == input_problem.ID or rule.lower() == input_problem.NAME:
        page = input_problem.PAGE
    else:
        raise UsageFailure(index.unknown(rule))
    typer.echo(page if markdown else explain_text(page, sys.stdout), nl=False)


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
    from klint.reporters import input_problem

    page = output.parent / "input-problems.md"  # KL000, not a rule of the catalogue
    page.write_text(input_problem.PAGE, encoding="utf-8")
    written.append(page)
    if readme is not None:
        update_readme(readme, rules)
        written.append(readme)
    typer.echo(f"wrote {len(written)} files", err=True)

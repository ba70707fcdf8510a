"""Command-line options shared by several ``klint`` commands (one definition each)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

Profiles = Annotated[
    list[str] | None,
    typer.Option(
        "--profile",
        help="Rule profile: default, pss-baseline, pss-restricted, nsa, cis, all (repeatable).",
    ),
]
Selects = Annotated[
    list[str] | None,
    typer.Option("--select", help="Also run these rules (ids or names, comma-separated)."),
]
Ignores = Annotated[
    list[str] | None,
    typer.Option("--ignore", help="Do not run these rules (ids or names, comma-separated)."),
]
ConfigFile = Annotated[
    Path | None,
    typer.Option(
        "--config", help="Config file (default: .klint.yaml here or above, up to the git root)."
    ),
]
NoConfig = Annotated[bool, typer.Option("--no-config", help="Ignore any .klint.yaml.")]
RulesDirs = Annotated[
    list[Path] | None, typer.Option("--rules-dir", help="Folder of custom rule files (repeatable).")
]

# Helm rendering: the same options for check, fix and baseline create.
KubeVersion = Annotated[
    str | None, typer.Option("--kube-version", help="Target Kubernetes version, e.g. 1.33.")
]
Values = Annotated[
    list[str] | None, typer.Option("--values", "-f", help="Helm values file (repeatable).")
]
SetValues = Annotated[
    list[str] | None, typer.Option("--set", help="Helm --set key=value (repeatable).")
]
SetStrings = Annotated[
    list[str] | None, typer.Option("--set-string", help="Helm --set-string key=value.")
]
ReleaseName = Annotated[str, typer.Option("--release-name", help="Helm release name.")]
Namespace = Annotated[
    str, typer.Option("--namespace", help="Namespace for Helm rendering (default: default).")
]

NoCache = Annotated[
    bool, typer.Option("--no-cache", help="Neither read nor write the result cache.")
]
CacheDir = Annotated[
    Path | None,
    typer.Option(
        "--cache-dir",
        help="Result cache folder (default: KLINT_CACHE_DIR, else .klint_cache at the root).",
    ),
]

Paths = Annotated[
    list[str] | None,
    typer.Argument(help="Files, directories, charts or overlays (default: '.'); '-' is stdin."),
]


def default_paths(paths: list[str] | None, stdin_filename: str | None = None) -> tuple[str, ...]:
    """The paths given, else stdin with ``--stdin-filename``, else the current directory."""
    if paths:
        return tuple(paths)
    return ("-",) if stdin_filename is not None else (".",)

"""The ``klint check`` options that bound what one lint unit may cost (see SECURITY.md)."""

from __future__ import annotations

from typing import Annotated

import typer

MaxFileSize = Annotated[int, typer.Option("--max-file-size", help="Largest file read, in MiB.")]
MaxYamlNodes = Annotated[
    int, typer.Option("--max-yaml-nodes", help="Most nodes a document (or a file) may expand to.")
]
MaxDocuments = Annotated[
    int, typer.Option("--max-documents", help="Most YAML documents in one file or lint unit.")
]
MaxDepth = Annotated[int, typer.Option("--max-depth", help="Deepest nesting a document may have.")]
MaxFindings = Annotated[
    int, typer.Option("--max-findings", help="Most findings one lint unit may produce.")
]
RenderMemory = Annotated[
    int,
    typer.Option(
        "--render-memory",
        help="MiB one render child (Helm, kustomize) may use.",
        show_default="768, or KLINT_RENDER_MEMORY_MB if set",
    ),
]
UnitTimeout = Annotated[
    float,
    typer.Option(
        "--unit-timeout",
        help="Seconds one lint unit (file, folder, chart, overlay) may take in all, "
        "rendering and checks included (0: no limit).",
    ),
]
RenderTimeout = Annotated[
    float,
    typer.Option("--render-timeout", help="Seconds one chart render or kustomize build may take."),
]
UnitMemory = Annotated[
    int,
    typer.Option(
        "--unit-memory",
        help="MiB by which one lint unit may grow klint's own process (0: no limit).",
    ),
]

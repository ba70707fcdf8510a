"""docs/architecture.md stays true: imports follow the arrows, no cycles, no module over 500 lines.

An AST walk over ``klint/`` collects every import of a klint module, including imports inside
functions and under ``TYPE_CHECKING``: a lazy import is a dependency too. The layer table
below mirrors the table in docs/architecture.md; a module may import modules of its own
layer or of lower layers, and the whole graph must be free of cycles.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

KLINT = Path(__file__).resolve().parent.parent / "klint"
MAX_LINES = 500

# Rank: a module may import modules whose rank is lower or equal. Longest prefix wins.
LAYERS: dict[str, int] = {
    # 0 foundation: no klint imports beyond this layer
    "klint": 0,
    "klint.errors": 0,
    "klint.data": 0,
    "klint.findings": 0,
    "klint.deprecations": 0,
    "klint.not_kubernetes": 0,
    "klint.printable": 0,
    # the sandbox of every child that touches repository content (imports nothing)
    "klint.sandbox": 0,
    "klint.unit_budget": 0,
    # what importing dependencies costs for nothing, avoided (imports nothing of klint)
    "klint.import_cost": 0,
    "klint.user_cache": 0,
    # confinement of paths (used by config, fix and every source) imports only errors
    "klint.sources.confine": 0,
    # 1 documents: YAML streams with positions, bundled Kubernetes schemas
    "klint.documents": 1,
    "klint.document_trees": 1,
    "klint.embedded_yaml": 1,
    "klint.yaml_budget": 1,
    "klint.k8s_schemas": 1,
    # 2 model: resources and workload views over documents
    "klint.model": 2,
    # 3 rules and configuration: the catalogue, selection, config, baseline, docs
    "klint.catalog": 3,
    "klint.selection": 3,
    "klint.compliance": 3,
    "klint.docs": 3,
    "klint.config": 3,
    "klint.baseline": 3,
    "klint.untrusted": 3,
    # 4 checks: check functions, fix builders, check plugins
    "klint.checks": 4,
    "klint.fixes": 4,
    "klint.edits": 4,
    "klint.plugins": 4,
    # 5 sources: paths → lint units (see SOURCE_* below for the arrows inside)
    "klint.sources": 5,
    # 6 engine: units → findings, suppressions
    "klint.engine": 6,
    "klint.engine_context": 6,
    "klint.engine_rules": 6,
    "klint.engine_pool": 6,
    "klint.suppress": 6,
    # 7 policy: config + catalogue + engine wired for one run
    "klint.policy": 7,
    # 8 where fixes land outside plain manifests (Kustomize files, Helm advice)
    "klint.fix_targets": 8,
    # 9 reporters: a finished report → text, SARIF, ...
    "klint.reporters": 9,
    # 10 entry points
    "klint.run": 10,
    "klint.run_context": 10,
    "klint.release_copies": 10,
    "klint.fix": 10,
    "klint.lsp": 10,
    "klint.cli": 10,
    "klint.cli_options": 10,
    "klint.cli_limits": 10,
    "klint.cli_exit": 10,
    "klint.cli_catalog": 10,
    "klint.cli_output": 10,
    "klint.cli_check": 10,
    "klint.console": 10,
    "klint.entry": 10,
    "klint.result_cache": 10,
    "klint.cache_inputs": 10,
    "klint.cache_codec": 10,
    "klint.__main__": 10,
}

# Inside klint.sources: the base is shared, each source package sees only the base and itself,
# and discover (on top) may import anything.
SOURCE_BASE = frozenset(
    {
        "klint.sources",
        "klint.sources.base",
        "klint.sources.names",
        "klint.sources.confine",
        "klint.sources.budget",
        "klint.sources.scans",
    }
)
SOURCE_PACKAGES = ("klint.sources.manifests", "klint.sources.helm", "klint.sources.kustomize")
SOURCE_TOP = "klint.sources.discover"

# Edges that break the arrows today and are being removed by another issue. Each entry must
# still exist (the test fails when it is gone, so the allowance cannot outlive the edge).
TEMPORARY_EDGES: frozenset[tuple[str, str]] = frozenset(set())

# Modules allowed over the limit while another change shrinks them (none today).
OVERSIZED_ALLOWED: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Import:
    source: str
    target: str
    line: int


def module_files() -> dict[str, Path]:
    """Dotted module name → file, for every module of the package."""
    modules: dict[str, Path] = {}
    for path in sorted(KLINT.rglob("*.py")):
        parts = list(path.relative_to(KLINT.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def imports_of(module: str, modules: dict[str, Path]) -> Iterator[Import]:
    """Every klint module that ``module`` imports, wherever the import statement is."""
    path = modules[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    for node in ast.walk(tree):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                kept = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*kept, base] if base else kept)
            targets = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
                for alias in node.names
            ]
        for target in targets:
            if target == "klint" or target.startswith("klint."):
                resolved = _resolve(target, modules)
                if resolved is not None and resolved != module:
                    yield Import(module, resolved, node.lineno)


def graph() -> dict[str, list[Import]]:
    modules = module_files()
    return {module: list(imports_of(module, modules)) for module in modules}


def rank(module: str) -> int | None:
    prefixes = [p for p in LAYERS if module == p or module.startswith(p + ".")]
    return LAYERS[max(prefixes, key=len)] if prefixes else None


def source_package(module: str) -> str | None:
    return next((p for p in SOURCE_PACKAGES if module == p or module.startswith(p + ".")), None)


def against_arrows(edge: Import) -> str | None:
    """Why ``edge`` breaks the layering, or None."""
    source_rank, target_rank = rank(edge.source), rank(edge.target)
    if source_rank is None or target_rank is None:
        return "module missing from the layer table"
    if target_rank > source_rank:
        return f"layer {source_rank} imports layer {target_rank}"
    if edge.source.startswith("klint.sources.") and edge.target.startswith("klint.sources"):
        if edge.source == SOURCE_TOP or edge.target in SOURCE_BASE:
            return None
        own = source_package(edge.source)
        if edge.source in SOURCE_BASE:
            return "the sources base imports a source"
        if own is None or own != source_package(edge.target):
            return "a source imports another source or discover (sources share only the base)"
    return None


def cycles(edges: dict[str, list[Import]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for edge in edges.get(node, []):
            if edge.target not in index:
                visit(edge.target)
                low[node] = min(low[node], low[edge.target])
            elif edge.target in on_stack:
                low[node] = min(low[node], index[edge.target])
        if low[node] == index[node]:
            component: list[str] = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def _without_temporary(edges: dict[str, list[Import]]) -> dict[str, list[Import]]:
    return {
        module: [e for e in imports if (e.source, e.target) not in TEMPORARY_EDGES]
        for module, imports in edges.items()
    }


def test_every_module_is_in_the_layer_table() -> None:
    missing = sorted(m for m in module_files() if rank(m) is None)
    assert not missing, f"add these modules to LAYERS here and in docs/architecture.md: {missing}"


def test_imports_follow_the_arrows() -> None:
    broken = [
        f"{e.source} (line {e.line}) imports {e.target}: {why}"
        for imports in _without_temporary(graph()).values()
        for e in imports
        if (why := against_arrows(e)) is not None
    ]
    assert not broken, "\n".join(broken)


def test_no_import_cycle_counting_lazy_imports() -> None:
    assert cycles(_without_temporary(graph())) == []


def test_temporary_allowances_still_name_real_edges() -> None:
    present = {(e.source, e.target) for imports in graph().values() for e in imports}
    stale = sorted(TEMPORARY_EDGES - present)
    assert not stale, f"remove these allowances from TEMPORARY_EDGES: {stale}"


def test_no_module_over_500_lines() -> None:
    too_long = {}
    for path in sorted(KLINT.rglob("*.py")):
        name = path.relative_to(KLINT.parent).as_posix()
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > MAX_LINES and name not in OVERSIZED_ALLOWED:
            too_long[name] = lines
    assert not too_long, f"split these modules by responsibility: {too_long}"


def test_the_architecture_page_shows_the_same_layers() -> None:
    page = (KLINT.parent / "docs" / "architecture.md").read_text(encoding="utf-8")
    for prefix, layer in LAYERS.items():
        if prefix in ("klint", "klint.__main__"):
            continue
        shown = prefix.removeprefix("klint.").replace(".", "/")
        assert f"| {layer} | " in page, f"layer {layer} missing from the page's table"
        assert f"`{shown}" in page, f"{shown} missing from docs/architecture.md"


# --- the checker itself must be able to fail --------------------------------------------


def _edges_of(tmp_path: Path, modules: dict[str, str]) -> dict[str, list[Import]]:
    files: dict[str, Path] = {}
    for name, text in modules.items():
        path = tmp_path.joinpath(*name.split(".")).with_suffix(".py")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        files[name] = path
    return {name: list(imports_of(name, files)) for name in files}


def test_a_lazy_import_makes_a_cycle(tmp_path: Path) -> None:
    edges = _edges_of(
        tmp_path,
        {
            "klint.a": "from klint.b import x\n",
            "klint.b": "def f():\n    from klint import a\n",
        },
    )
    assert cycles(edges) == [["klint.a", "klint.b"]]


@pytest.mark.parametrize(
    ("source", "target", "broken"),
    [
        ("klint.sources.helm.chart", "klint.sources.kustomize.build", True),
        ("klint.sources.helm.chart", "klint.sources.discover", True),
        ("klint.sources.manifests", "klint.sources.helm.rendered_output", True),
        ("klint.sources.base", "klint.sources.manifests", True),
        ("klint.sources.helm.chart", "klint.sources.base", False),
        ("klint.sources.discover", "klint.sources.helm.chart", False),
        ("klint.documents", "klint.engine", True),
        ("klint.engine", "klint.sources.base", False),
        ("klint.checks.rbac", "klint.reporters.sarif", True),
    ],
)
def test_the_arrows_checker(source: str, target: str, broken: bool) -> None:
    assert (against_arrows(Import(source, target, 1)) is not None) is broken

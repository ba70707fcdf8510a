"""``klint lsp``: a Language Server publishing klint findings as diagnostics (extra ``lsp``).

A plain manifest is linted on open and save at once and on change after a short debounce.
A file of a Helm chart (template, ``values.yaml``, ``Chart.yaml``) or a Kustomize patch is
linted the way CI lints it, with its whole chart or overlay from disk, on open and on save
only (a render takes about a second): the file gets the findings on its lines, values
files the lines findings name as where a value was set, and a render that fails is said as
a diagnostic and a ``window/showMessage``. Each diagnostic carries the rule id as ``code``
with a link to the rule doc, and a quick fix inserts a ``# klint: ignore[RULE] reason``
comment at the end of the offending line. In plain manifests, findings whose rule has a fix
also get that fix (``klint fix``) as a quick fix.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path

from klint import __version__
from klint.catalog import Rule, load_catalog
from klint.errors import KlintError
from klint.findings import Applicability, Notification, Report, Severity, Span
from klint.sources.names import MANIFEST_SUFFIXES, find_chart_root, find_kustomization_root

DEBOUNCE_SECONDS = 0.3
SOURCE = "klint"
SUPPRESS_REASON = "TODO: say why this is acceptable"
_SEVERITY = {
    Severity.ERROR: types.DiagnosticSeverity.Error,
    Severity.WARNING: types.DiagnosticSeverity.Warning,
    Severity.NOTE: types.DiagnosticSeverity.Information,
}
_IGNORE_COMMENT = re.compile(r"#\s*klint:\s*ignore\[([^\]]*)\]")
_RULE_CODE = re.compile(r"^[A-Z]+[0-9]+$")


class Linter:
    """Lints one buffer the way ``klint check --stdin-filename PATH -`` would.

    Config, excludes and suppressions come from PATH's directory, as on the command line.
    """

    def __init__(self, root: Path, profiles: Sequence[str] = ()) -> None:
        self.root = root
        self.profiles = tuple(profiles)
        self.help_uri = {rule.id: rule.help_uri for rule in load_catalog()}

    def lint(self, text: str, path: str) -> Report:
        """Findings and problems of this buffer, reported under ``path`` only."""
        from klint.run import RunOptions, run

        options = RunOptions(paths=("-",), stdin_filename=path, profiles=self.profiles, jobs=1)
        try:
            report, _, _ = run(options, cwd=self.root, stdin=text.encode())
        except KlintError as error:  # a broken .klint.yaml: say so on the buffer
            report = Report(notifications=[Notification("config", str(error), None)])
        return report

    def lint_unit(self, unit: Path) -> Report:
        """A whole chart or overlay as saved on disk, as ``klint check UNIT`` lints it."""
        from klint.run import RunOptions, run

        options = RunOptions(paths=(str(unit),), profiles=self.profiles, jobs=1)
        try:
            report, _, _ = run(options, cwd=self.root)
        except KlintError as error:
            report = Report(notifications=[Notification("config", str(error), None)])
        return report

    def display(self, path: str) -> str:
        """``path`` as reports name it (relative to the workspace root)."""
        from klint.sources.base import display_path

        return display_path(Path(path), self.root)


def chart_of(path: str) -> Path | None:
    """The chart a file belongs to (its templates, values files, Chart.yaml), if any."""
    return find_chart_root(Path(path).parent)


def part_of_unit(report: Report) -> bool:
    """Whether the buffer lint said the file is linted only with its overlay (a patch)."""
    from klint.not_kubernetes import PART_OF_UNIT

    return any(note.code == PART_OF_UNIT for note in report.skipped)


def unit_diagnostics(
    report: Report, display: str, lines: Sequence[str], help_uri: dict[str, str]
) -> list[types.Diagnostic]:
    """What a chart's or overlay's report says about one of its files: findings on its
    lines, values lines named as where a finding's value was set, and input problems (a
    failed render is shown on line 1 when it points at another file)."""
    found = diagnostics(_located_in(report, display), lines, help_uri)
    for finding in report.active:
        for related in finding.related:
            if related.location.path != display or finding.location.path == display:
                continue
            href = help_uri.get(finding.rule_id)
            where = f"{finding.location.path}:{finding.location.span.start_line}"
            found.append(
                types.Diagnostic(
                    range=to_range(related.location.span, lines),
                    message=f"{finding.message} [{finding.rule_name}] ({related.message} "
                    f"this line, reported at {where})",
                    severity=_SEVERITY[finding.severity],
                    code=finding.rule_id,
                    code_description=types.CodeDescription(href=href) if href else None,
                    source=SOURCE,
                )
            )
    for note in report.notifications:
        if note.location is not None and note.location.path == display:
            continue  # already shown on its own line
        if note.fatal or note.level is Severity.ERROR:
            found.append(
                types.Diagnostic(
                    range=to_range(Span.line(1), lines),
                    message=note.message,
                    severity=_SEVERITY[note.level],
                    code=note.code,
                    source=SOURCE,
                )
            )
    return found


def _located_in(report: Report, display: str) -> Report:
    """The findings and problems of ``report`` located in the file ``display``."""
    return Report(
        findings=[f for f in report.findings if f.location.path == display],
        notifications=[
            n for n in report.notifications if n.location is not None and n.location.path == display
        ],
    )


def memoize_catalog() -> None:
    """The server lints after every pause in typing: read the rule files once per process."""
    import klint.policy

    original = load_catalog  # what klint.policy imported
    cache: dict[tuple[tuple[Path, ...], bool], list[Rule]] = {}

    def cached(extra_dirs: Iterable[Path] = (), *, validate_builtin: bool = False) -> list[Rule]:
        key = (tuple(extra_dirs), validate_builtin)
        if key not in cache:
            cache[key] = original(key[0], validate_builtin=validate_builtin)
        return list(cache[key])

    setattr(klint.policy, "load_catalog", cached)  # noqa: B010 - module attribute


def lintable(path: str) -> bool:
    """YAML/JSON manifests; Helm templates are Go templates, not YAML, and are skipped."""
    file = Path(path)
    if not file.name.endswith(MANIFEST_SUFFIXES):
        return False
    chart = find_chart_root(file.parent)
    return chart is None or "templates" not in file.relative_to(chart).parts


def utf16_column(line: str, column: int) -> int:
    """1-based code-point column → 0-based UTF-16 offset (LSP's default position encoding)."""
    prefix = line[: max(column - 1, 0)]
    return len(prefix.encode("utf-16-le")) // 2


def to_range(span: Span, lines: Sequence[str]) -> types.Range:
    """An LSP range; a zero-width span (line only) covers the rest of its line."""

    def text(number: int) -> str:
        return lines[number - 1].rstrip("\r\n") if 0 < number <= len(lines) else ""

    start = types.Position(
        span.start_line - 1, utf16_column(text(span.start_line), span.start_column)
    )
    end_line, end_column = span.end_line, span.end_column
    if (end_line, end_column) <= (span.start_line, span.start_column):
        end_line, end_column = span.start_line, len(text(span.start_line)) + 1
    end = types.Position(end_line - 1, utf16_column(text(end_line), end_column))
    return types.Range(start, end)


def diagnostics(
    report: Report, lines: Sequence[str], help_uri: dict[str, str]
) -> list[types.Diagnostic]:
    """Active findings and input problems as LSP diagnostics."""
    result = []
    for finding in report.active:
        href = help_uri.get(finding.rule_id)
        result.append(
            types.Diagnostic(
                range=to_range(finding.location.span, lines),
                message=f"{finding.message} [{finding.rule_name}]",
                severity=_SEVERITY[finding.severity],
                code=finding.rule_id,
                code_description=types.CodeDescription(href=href) if href else None,
                source=SOURCE,
            )
        )
    for note in report.notifications:
        span = note.location.span if note.location is not None else Span.line(1)
        result.append(
            types.Diagnostic(
                range=to_range(span, lines),
                message=note.message,
                severity=_SEVERITY[note.level],
                code=note.code,
                source=SOURCE,
            )
        )
    return result


def suppression_edit(line: str, line_number: int, rule: str) -> types.TextEdit | None:
    """The edit adding ``rule`` to the line's ``# klint: ignore[...]`` comment (or a new one)."""
    content = line.rstrip("\r\n")
    existing = _IGNORE_COMMENT.search(content)
    if existing is not None:
        listed = [item.strip() for item in existing.group(1).split(",") if item.strip()]
        if rule in listed:
            return None
        at = utf16_column(content, existing.end(1) + 1)
        position = types.Position(line_number, at)
        return types.TextEdit(types.Range(position, position), f",{rule}" if listed else rule)
    end = types.Position(line_number, utf16_column(content, len(content) + 1))
    spacer = "" if content.endswith(" ") else " "
    return types.TextEdit(
        types.Range(end, end), f"{spacer}# klint: ignore[{rule}] {SUPPRESS_REASON}"
    )


def code_actions(
    uri: str, lines: Sequence[str], found: Sequence[types.Diagnostic]
) -> list[types.CodeAction]:
    """One quick fix per klint diagnostic: suppress that rule on that line."""
    actions = []
    for diagnostic in found:
        rule = diagnostic.code
        if diagnostic.source != SOURCE or not isinstance(rule, str) or not _RULE_CODE.match(rule):
            continue
        number = diagnostic.range.start.line
        if number >= len(lines):
            continue
        edit = suppression_edit(lines[number], number, rule)
        if edit is None:
            continue
        actions.append(
            types.CodeAction(
                title=f"Suppress {rule} on this line (klint: ignore)",
                kind=types.CodeActionKind.QuickFix,
                diagnostics=[diagnostic],
                edit=types.WorkspaceEdit(changes={uri: [edit]}),
            )
        )
    return actions


def fix_actions(
    uri: str, text: str, report: Report, found: Sequence[types.Diagnostic], rules: Sequence[Rule]
) -> list[types.CodeAction]:
    """One quick fix per klint diagnostic whose finding carries a fix (the scan's edits)."""
    lines = text.splitlines(keepends=True)
    actions = []
    for diagnostic in found:
        if diagnostic.source != SOURCE or not isinstance(diagnostic.code, str):
            continue
        for finding in report.active:
            fix = finding.fix
            if (
                fix is None
                or finding.rule_id != diagnostic.code
                or to_range(finding.location.span, lines) != diagnostic.range
            ):
                continue
            edits = [
                types.TextEdit(
                    types.Range(
                        _position(e.span.start_line, e.span.start_column, lines),
                        _position(e.span.end_line, e.span.end_column, lines),
                    ),
                    e.text,
                )
                for e in fix.edits
            ]
            actions.append(
                types.CodeAction(
                    title=f"Fix {finding.rule_id}: {fix.description}",
                    kind=types.CodeActionKind.QuickFix,
                    diagnostics=[diagnostic],
                    edit=types.WorkspaceEdit(changes={uri: edits}),
                    is_preferred=fix.applicability is Applicability.SAFE,
                )
            )
            break
    return actions


def _position(line: int, column: int, lines: Sequence[str]) -> types.Position:
    """1-based line and code-point column → LSP position (UTF-16)."""
    text = lines[line - 1].rstrip("\r\n") if 0 < line <= len(lines) else ""
    return types.Position(line - 1, utf16_column(text, column))


def fixable_buffer(path: str) -> bool:
    """Fixes are offered in plain manifests: not in Kustomize directories or Helm charts."""
    file = Path(path)
    kustomize = ("kustomization.yaml", "kustomization.yml", "Kustomization")
    return find_chart_root(file.parent) is None and not any(
        (file.parent / name).exists() for name in kustomize
    )


def create_server(profiles: Sequence[str] = ()) -> LanguageServer:
    """The server with its handlers registered (not started)."""
    server = LanguageServer("klint", __version__)
    memoize_catalog()
    linter = Linter(Path.cwd(), profiles)
    pending: dict[str, asyncio.TimerHandle] = {}

    @server.feature(types.INITIALIZED)
    def initialized(params: types.InitializedParams) -> None:
        root = server.workspace.root_path
        if root:
            linter.root = Path(root)
        linter.lint("", str(linter.root / "klint-warm-up.yaml"))  # imports, rule files

    def publish(uri: str, saved: bool = True) -> None:
        """Lint and publish; ``saved`` False (typing): chart and overlay files wait for a save."""
        pending.pop(uri, None)
        document = server.workspace.get_text_document(uri)
        path = to_fs_path(uri) or uri
        unit = chart_of(path)
        found: list[types.Diagnostic] = []
        if unit is None and lintable(path):
            report = linter.lint(document.source, path)
            if part_of_unit(report):
                unit = find_kustomization_root(Path(path).parent)
            else:
                found = diagnostics(report, document.lines, linter.help_uri)
        if unit is not None:
            if saved:
                publish_unit(unit)
            return
        server.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, version=document.version, diagnostics=found)
        )

    def publish_unit(unit: Path) -> None:
        """Lint the chart or overlay once; publish for each of its open files."""
        report = linter.lint_unit(unit)
        failed = [n.message for n in report.notifications if n.fatal]
        if failed:
            server.window_show_message(
                types.ShowMessageParams(types.MessageType.Warning, f"klint: {failed[0]}")
            )
        for uri, document in list(server.workspace.text_documents.items()):
            path = to_fs_path(uri) or uri
            if unit not in Path(path).parents:
                continue
            found = unit_diagnostics(report, linter.display(path), document.lines, linter.help_uri)
            server.text_document_publish_diagnostics(
                types.PublishDiagnosticsParams(uri=uri, version=document.version, diagnostics=found)
            )

    def cancel(uri: str) -> None:
        handle = pending.pop(uri, None)
        if handle is not None:
            handle.cancel()

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(params: types.DidOpenTextDocumentParams) -> None:
        publish(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    async def did_change(params: types.DidChangeTextDocumentParams) -> None:
        uri = params.text_document.uri
        cancel(uri)
        pending[uri] = asyncio.get_running_loop().call_later(DEBOUNCE_SECONDS, publish, uri, False)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE, types.SaveOptions(include_text=False))
    def did_save(params: types.DidSaveTextDocumentParams) -> None:
        cancel(params.text_document.uri)
        publish(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(params: types.DidCloseTextDocumentParams) -> None:
        cancel(params.text_document.uri)
        server.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=params.text_document.uri, diagnostics=[])
        )

    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix]),
    )
    def code_action(params: types.CodeActionParams) -> list[types.CodeAction]:
        uri = params.text_document.uri
        if (to_fs_path(uri) or uri).endswith(".json"):
            return []  # JSON has no comments
        document = server.workspace.get_text_document(uri)
        actions = code_actions(uri, document.lines, params.context.diagnostics)
        path = to_fs_path(uri) or uri
        if fixable_buffer(path) and any(d.source == SOURCE for d in params.context.diagnostics):
            report = linter.lint(document.source, path)
            rules = load_catalog()
            fixes = fix_actions(uri, document.source, report, params.context.diagnostics, rules)
            actions = fixes + actions
        return actions

    return server


def serve(profiles: Sequence[str] = ()) -> None:
    """Run the server over stdio until the client exits."""
    create_server(profiles).start_io()

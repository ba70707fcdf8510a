"""Suppressions: inline comments, object annotations and config exemptions.

Suppressed findings stay in the report with :attr:`Finding.suppression` set, so reporters
can count and list them. Every suppression needs a reason; a suppression that matches
nothing, one without a reason and an expired exemption each become a note-level
notification, so suppressions never rot silently.

Inline comments are read from the raw lines of the file a finding points at, so they work
wherever the locator points: plain manifests, Helm templates, Kustomize patches.
"""

from __future__ import annotations

import datetime
import fnmatch
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from klint.catalog import Rule
from klint.config import Exemption
from klint.findings import FieldPath, Finding, Location, Notification, Severity, Span, Suppression
from klint.model.resource import Resource
from klint.model.workload import container_at, pod_view
from klint.sources.base import LoadedUnit

ANNOTATION = "klint.dev/ignore"
REASON_ANNOTATION = "klint.dev/ignore-reason"
ALL_RULES = frozenset({"all", "*"})
_DIRECTIVE = re.compile(r"(?:^|\s)#\s*klint:\s*(ignore-file|ignore)\[([^\]]*)\]\s*(.*)$")
_ANY_DIRECTIVE = re.compile(r"(?:^|\s)#\s*klint:")
_MAX_READ = 32 * 1024 * 1024


@dataclass
class Directive:
    """One suppression as written: an inline comment, an annotation or a config exemption."""

    tokens: tuple[str, ...]
    reason: str
    location: Location | None
    source: str  # "comment", "annotation" or "config"
    file_level: bool = False
    standalone: bool = False
    used: set[str] = field(default_factory=set)

    @property
    def kind(self) -> str:
        return "external" if self.source == "config" else "inSource"

    def matches(self, finding: Finding) -> list[str]:
        """Tokens of this directive that name the finding's rule (case-insensitive)."""
        names = (finding.rule_id.lower(), finding.rule_name.lower())
        return [token for token in self.tokens if token in ALL_RULES or token.lower() in names]


def parse_directives(lines: Sequence[str], path: str) -> tuple[list[Directive], list[Notification]]:
    """The ``# klint: ignore[...]`` comments of a file, and malformed ones as notes."""
    directives: list[Directive] = []
    problems: list[Notification] = []
    for number, line in enumerate(lines, start=1):
        if "klint:" not in line:
            continue
        match = _DIRECTIVE.search(line)
        if match is None:
            loose = _ANY_DIRECTIVE.search(line)
            if loose is not None:
                problems.append(
                    _note(
                        "invalid-suppression",
                        "malformed suppression comment: write `# klint: ignore[rule,...] reason` "
                        "or `# klint: ignore-file[rule,...] reason`.",
                        Location(path, Span.line(number)),
                    )
                )
            continue
        column = match.start() + (0 if line[match.start()] == "#" else 1) + 1
        tokens = tuple(t.strip() for t in match.group(2).split(",") if t.strip())
        reason = match.group(3).strip().lstrip(":-–— ").strip()
        directives.append(
            Directive(
                tokens=tokens,
                reason=reason,
                location=Location(path, Span(number, column, number, len(line) + 1)),
                source="comment",
                file_level=match.group(1) == "ignore-file",
                standalone=not line[: match.start()].strip(),
            )
        )
    return directives, problems


def container_of(resource: Resource, finding: Finding) -> str | None:
    """Name of the container a finding's field path is inside, if any."""
    container = container_at(resource, finding.field_path)
    name = container.get("name") if container is not None else None
    return str(name) if name is not None else None


@dataclass
class _Annotations:
    """Annotation suppressions of one object: object-wide and per container."""

    whole: list[Directive] = field(default_factory=list)
    per_container: dict[str, list[Directive]] = field(default_factory=dict)


class Suppressor:
    """Applies suppressions unit by unit (as an engine hook) and reports unused ones."""

    def __init__(
        self,
        *,
        catalog: Sequence[Rule],
        active: Sequence[Rule],
        exemptions: Sequence[Exemption] = (),
        cwd: Path,
        today: datetime.date | None = None,
    ) -> None:
        self.known = {key.lower() for rule in catalog for key in (rule.id, rule.name)}
        self.active = {key.lower() for rule in active for key in (rule.id, rule.name)}
        self.names = {rule.id: rule.name for rule in catalog}
        self.cwd = cwd
        self.today = today or datetime.date.today()
        self.exemptions: list[tuple[Exemption, Directive]] = []
        self.expired: list[Exemption] = []
        for exemption in exemptions:
            if exemption.expired(self.today):
                self.expired.append(exemption)
                continue
            directive = Directive(
                exemption.rules or ("all",), exemption.reason, exemption.location, "config"
            )
            self.exemptions.append((exemption, directive))
        self._files: dict[str, tuple[list[Directive], list[Notification]]] = {}
        self._reported: set[tuple[str, int, int, str]] = set()

    def __call__(
        self,
        loaded: LoadedUnit,
        resources: Sequence[Resource],
        pairs: Sequence[tuple[Resource, Finding]],
    ) -> tuple[list[Finding], list[Notification]]:
        """Suppress what this unit's comments, annotations and exemptions accept."""
        # a rendered document's lines are not its file's: that file is read from disk
        lines_of = {
            d.path: d.text_lines for d in loaded.documents if d.text_lines and not d.rendered
        }
        paths = list(dict.fromkeys([*lines_of, *(f.location.path for _, f in pairs)]))
        comments: dict[str, list[Directive]] = {}
        notes: list[Notification] = []
        for path in paths:
            directives, problems = self._file_directives(path, lines_of.get(path))
            comments[path] = directives
            notes.extend(problems)
        annotations = {id(r): self._annotations(r, loaded, notes) for r in resources}
        findings = []
        for resource, finding in pairs:
            file_lines = lines_of.get(finding.location.path) or self._lines(finding.location.path)
            candidates = self._comment_candidates(
                comments.get(finding.location.path, []), finding, file_lines
            )
            container = container_of(resource, finding)
            object_notes = annotations.get(id(resource), _Annotations())
            candidates += object_notes.whole
            if container is not None:
                candidates += object_notes.per_container.get(container, [])
            candidates += [
                d for e, d in self.exemptions if _exempts(e, resource, finding, container)
            ]
            chosen: Directive | None = None
            for directive in candidates:
                tokens = directive.matches(finding)
                if tokens:
                    directive.used.update(tokens)
                    chosen = chosen or directive
            if chosen is not None:
                finding = replace(
                    finding,
                    suppression=Suppression(
                        chosen.kind, chosen.reason or "no reason given", chosen.source
                    ),
                )
            findings.append(finding)
        for path, directives in comments.items():
            judged = loaded.unjudged.get(path, ())
            notes.extend(self._unused(d for d in directives if not _within(d, judged)))
        for objects in annotations.values():
            notes.extend(self._unused(objects.whole))
            for directives in objects.per_container.values():
                notes.extend(self._unused(directives))
        return findings, self._once(notes)

    def finish(self, findings: Iterable[Finding]) -> list[Notification]:
        """Notes about config exemptions: expired ones and ones that matched nothing.

        Usage is read from the finished findings (not from state kept by the hook), so it
        is right when units were linted in worker processes.
        """
        notes = [
            _note(
                "expired-suppression",
                f"exemption expired on {e.expires}: it no longer suppresses findings "
                f"(reason: {e.reason}).",
                e.location,
            )
            for e in self.expired
        ]
        used = {
            f.suppression.justification
            for f in findings
            if f.suppression is not None and f.suppression.source == "config"
        }
        for exemption, directive in self.exemptions:
            if exemption.reason in used:
                continue
            if exemption.rules and not any(
                rule.lower() in self.active or rule.lower() not in self.known
                for rule in exemption.rules
            ):
                continue  # none of its rules ran
            notes.append(
                _note(
                    "unused-suppression",
                    "exemption matches no finding; remove it.",
                    directive.location,
                )
            )
        return notes

    # -- inline comments ---------------------------------------------------------------

    def _lines(self, path: str) -> list[str]:
        absolute = Path(path) if Path(path).is_absolute() else self.cwd / path
        try:
            if not absolute.is_file() or absolute.stat().st_size > _MAX_READ:
                return []
            return absolute.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            return []

    def _file_directives(
        self, path: str, lines: list[str] | None
    ) -> tuple[list[Directive], list[Notification]]:
        if path not in self._files:
            directives, problems = parse_directives(lines or self._lines(path), path)
            for directive in directives:
                if not directive.reason:
                    problems.append(self._no_reason(directive, "comment"))
            self._files[path] = (directives, problems)
            return directives, problems
        return self._files[path][0], []

    @staticmethod
    def _comment_candidates(
        directives: list[Directive], finding: Finding, lines: list[str]
    ) -> list[Directive]:
        """File-level comments, a comment on the finding's line and comment lines above it."""
        line = finding.location.span.start_line
        covering = {line}
        above = line - 1
        while 1 <= above <= len(lines) and lines[above - 1].lstrip().startswith("#"):
            covering.add(above)
            above -= 1
        return [
            d
            for d in directives
            if d.file_level
            or (
                d.location is not None
                and d.location.span.start_line in covering
                and (d.location.span.start_line == line or d.standalone)
            )
        ]

    # -- annotations -------------------------------------------------------------------

    def _annotations(
        self, resource: Resource, loaded: LoadedUnit, notes: list[Notification]
    ) -> _Annotations:
        result = _Annotations()
        pod = pod_view(resource)
        places: list[tuple[dict[str, Any], FieldPath]] = [(resource.metadata, ("metadata",))]
        if pod is not None and tuple(pod.metadata_path) != ("metadata",):
            places.append((pod.metadata, tuple(pod.metadata_path)))
        for metadata, meta_path in places:
            annotations = metadata.get("annotations")
            if not isinstance(annotations, dict):
                continue
            for key, value in annotations.items():
                key = str(key)
                if key != ANNOTATION and not key.startswith(ANNOTATION + "."):
                    continue
                container = key[len(ANNOTATION) + 1 :] if key != ANNOTATION else None
                reason = annotations.get(f"{REASON_ANNOTATION}.{container}") if container else None
                if reason is None:
                    reason = annotations.get(REASON_ANNOTATION)
                location, _ = loaded.locator.locate(resource, (*meta_path, "annotations", key))
                tokens = tuple(t.strip() for t in str(value or "").split(",") if t.strip())
                directive = Directive(tokens, str(reason or "").strip(), location, "annotation")
                if not directive.reason:
                    notes.append(self._no_reason(directive, "annotation"))
                if container is None:
                    result.whole.append(directive)
                else:
                    result.per_container.setdefault(container, []).append(directive)
        return result

    # -- reporting ---------------------------------------------------------------------

    def _no_reason(self, directive: Directive, what: str) -> Notification:
        hint = (
            f"add `{REASON_ANNOTATION}`"
            if what == "annotation"
            else "write the reason after the closing bracket"
        )
        return _note(
            "suppression-without-reason",
            f"suppression of {', '.join(directive.tokens) or 'nothing'} has no reason: {hint}.",
            directive.location,
        )

    def _unused(self, directives: Iterable[Directive]) -> list[Notification]:
        notes = []
        for directive in directives:
            for token in directive.tokens:
                if token in directive.used:
                    continue
                if token in ALL_RULES:
                    text = "suppression of all rules matches no finding; remove it."
                elif token.lower() not in self.known:
                    text = f"suppression names unknown rule {token!r}; remove or fix it."
                elif token.lower() in self.active:
                    text = f"suppression of {token} matches no finding; remove it."
                else:
                    continue  # the rule did not run, so the suppression cannot be judged
                notes.append(_note("unused-suppression", text, directive.location))
        return notes

    def _once(self, notes: list[Notification]) -> list[Notification]:
        """Drop notes already reported (a template file can serve several units)."""
        result = []
        for note in notes:
            span = note.location.span if note.location else Span.line(0)
            key = (
                note.location.path if note.location else "",
                span.start_line,
                span.start_column,
                note.message,
            )
            if key not in self._reported:
                self._reported.add(key)
                result.append(note)
        return result


def _within(directive: Directive, ranges: Sequence[tuple[int, int]]) -> bool:
    """Whether ``directive`` is written on a line of ``ranges``."""
    if directive.location is None:
        return False
    line = directive.location.span.start_line
    return any(start <= line <= end for start, end in ranges)


def _exempts(
    exemption: Exemption, resource: Resource, finding: Finding, container: str | None
) -> bool:
    """Whether every condition of a config exemption holds for a finding."""
    checks = (
        (exemption.namespace, resource.namespace),
        (exemption.name, resource.name),
        (exemption.kind, resource.kind),
        (exemption.container, container),
    )
    for pattern, value in checks:
        if pattern is not None and (value is None or not fnmatch.fnmatchcase(value, pattern)):
            return False
    return not exemption.paths or any(
        fnmatch.fnmatchcase(finding.location.path, pattern) for pattern in exemption.paths
    )


# The notes the hook gives about suppressions; a file that several units read gives them once.
HOOK_NOTE_CODES = frozenset(
    {"invalid-suppression", "suppression-without-reason", "unused-suppression"}
)


def once_across_units(notes: Iterable[Notification]) -> list[Notification]:
    """``notes`` of every unit in unit order, each suppression note once (as
    :meth:`Suppressor._once` keeps them within one process: workers keep their own)."""
    seen: set[tuple[str, int, int, str]] = set()
    result = []
    for note in notes:
        if note.code in HOOK_NOTE_CODES:
            span = note.location.span if note.location else Span.line(0)
            path = note.location.path if note.location else ""
            key = (path, span.start_line, span.start_column, note.message)
            if key in seen:
                continue
            seen.add(key)
        result.append(note)
    return result


def _note(code: str, message: str, location: Location | None) -> Notification:
    return Notification(code, message, location, level=Severity.NOTE)

"""The values every stage exchanges: severities, spans, findings and the report."""

from __future__ import annotations

import enum
import heapq
import itertools
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

FieldPath = tuple[str | int, ...]


def field_path_text(path: Sequence[str | int]) -> str:
    """``("spec", "containers", 0, "image")`` → ``spec.containers[0].image``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


class Severity(enum.Enum):
    """How bad a finding is; the values are SARIF levels."""

    NOTE = "note"
    WARNING = "warning"
    ERROR = "error"

    @property
    def rank(self) -> int:
        """Order for comparisons: note < warning < error."""
        return {"note": 0, "warning": 1, "error": 2}[self.value]

    @classmethod
    def parse(cls, text: str) -> Severity:
        """Read a level name as written in config and on the command line."""
        try:
            return cls(text.lower())
        except ValueError:
            raise ValueError(f"unknown level {text!r}: use error, warning or note") from None


def _by_fields(self: Any) -> tuple[Any, tuple[Any, ...]]:
    """Pickled as its class and field values (a worker sends ~110,000 findings to the parent):
    about 3 times faster than the state dictionary a slotted dataclass pickles by default."""
    return type(self), tuple(getattr(self, name) for name in self.__slots__)


@dataclass(frozen=True, order=True, slots=True)
class Span:
    """A region of a file: 1-based lines and columns, end column exclusive."""

    start_line: int
    start_column: int
    end_line: int
    end_column: int

    __reduce__ = _by_fields

    @classmethod
    def line(cls, number: int) -> Span:
        """A span covering the start of one line (used when only a line is known)."""
        return cls(number, 1, number, 1)


ARCHIVE_MEMBER = (
    "!/"  # ``charts/dep-1.2.3.tgz!/dep/templates/x.yaml``: a file inside a chart archive
)
ARCHIVE_SUFFIXES = (".tgz", ".tar.gz")  # packaged charts


def archive_member(path: str) -> tuple[str, str] | None:
    """``(archive, member)`` of a location inside a chart archive, else None.

    ``charts/dep-1.2.3.tgz!/dep/templates/x.yaml`` → ``("charts/dep-1.2.3.tgz",
    "dep/templates/x.yaml")``: the archive's path, then the member's path as ``tar`` lists it.
    """
    archive, separator, member = path.partition(ARCHIVE_MEMBER)
    if not separator or not member or not archive.endswith(ARCHIVE_SUFFIXES):
        return None
    return archive, member


@dataclass(frozen=True, order=True, slots=True)
class Location:
    """A place in a file; ``path`` is as displayed (relative to the root, ``/``-separated)."""

    path: str
    span: Span

    __reduce__ = _by_fields


@dataclass(frozen=True, order=True, slots=True)
class ObjectRef:
    """Identity of a Kubernetes object, used for logical locations and fingerprints."""

    api_version: str
    kind: str
    namespace: str
    name: str

    __reduce__ = _by_fields

    def describe(self) -> str:
        """``Kind/namespace/name`` (namespace omitted when empty)."""
        parts = [self.kind or "?"]
        if self.namespace:
            parts.append(self.namespace)
        parts.append(self.name or "?")
        return "/".join(parts)


@dataclass(frozen=True, slots=True)
class RelatedLocation:
    """A second place that explains a finding, such as the values.yaml line that set it."""

    location: Location
    message: str

    __reduce__ = _by_fields


@dataclass(frozen=True, slots=True)
class Suppression:
    """Why a finding is not counted: an inline comment, annotation, exemption or baseline."""

    kind: str  # "inSource" or "external" (SARIF suppression kinds)
    justification: str
    source: str  # e.g. "comment", "annotation", "config", "baseline"

    __reduce__ = _by_fields


@dataclass(frozen=True, slots=True)
class TextEdit:
    """Replace ``span`` of a file (empty for an insertion) with ``text``: ruff's ``Edit``."""

    span: Span
    text: str

    __reduce__ = _by_fields


class Applicability(enum.Enum):
    """Whether a fix may be applied without a person looking at it (ruff's applicability)."""

    SAFE = "safe"
    NEEDS_REVIEW = "needs-review"


@dataclass(frozen=True, slots=True)
class Fix:
    """The text edits that resolve a finding, in the file of its location, computed once.

    ``klint fix``, SARIF ``fixes`` and editor quick fixes all apply these same edits.
    """

    description: str
    applicability: Applicability
    edits: tuple[TextEdit, ...]

    __reduce__ = _by_fields


@dataclass(frozen=True, slots=True)
class Finding:
    """One violation of one rule, located precisely."""

    rule_id: str
    rule_name: str
    severity: Severity
    message: str
    location: Location
    object_ref: ObjectRef | None
    field_path: FieldPath
    related: tuple[RelatedLocation, ...] = ()
    properties: tuple[tuple[str, str], ...] = ()
    suppression: Suppression | None = None
    # Where the object comes from when its rendered name is not stable (Helm's randAlphaNum):
    # used for the fingerprint instead of the name.
    source_identity: str = ""
    fix: Fix | None = None

    __reduce__ = _by_fields

    @property
    def fingerprint(self) -> str:
        """Stable identity: rule, object and field path; independent of line numbers.

        Objects without identity (no kind or name) add the file path so that two
        anonymous documents in different files do not collide.
        """
        import hashlib

        ref = self.object_ref
        identity = ref.describe() if ref is not None and ref.name else self.location.path
        if ref is not None and not ref.name:
            identity = f"{self.location.path}#{ref.kind}"
        if self.source_identity:
            identity = self.source_identity
        path = ".".join(str(part) for part in self.field_path)
        digest = hashlib.sha256(
            f"{self.rule_id}|{identity}|{path}".encode(errors="surrogateescape")
        ).hexdigest()
        return digest[:32]

    def sort_key(self) -> tuple[str, int, int, str, str]:
        """Deterministic order: file, line, column, rule, message."""
        span = self.location.span
        return (self.location.path, span.start_line, span.start_column, self.rule_id, self.message)


@dataclass(frozen=True)
class Notification:
    """A problem with the input or the run itself (bad YAML, render failure): not a rule result.

    ``fatal`` marks problems that make the run's exit code 2, such as a chart that fails to
    render: silently passing it would hide every finding in it. ``repeatable`` is False for
    problems that depend on the machine or the moment rather than on the input (a time or
    memory limit reached, a child killed, a tool missing, an internal error): a unit with
    one is never stored in the result cache; every other problem is replayed like a finding.
    """

    code: str
    message: str
    location: Location | None
    level: Severity = Severity.ERROR
    fatal: bool = False
    repeatable: bool = True

    def sort_key(self) -> tuple[str, int, int, str]:
        """Deterministic order: file, line, column, code."""
        if self.location is None:
            return ("", 0, 0, self.code + self.message)
        span = self.location.span
        return (self.location.path, span.start_line, span.start_column, self.code + self.message)


@dataclass(frozen=True)
class BaselineEntry:
    """A finding recorded in a baseline file (``klint baseline create``)."""

    fingerprint: str
    rule_id: str
    object: str
    path: str
    field_path: str


@dataclass(frozen=True)
class BaselineSummary:
    """How a run compared with its baseline: entries matched and entries now fixed."""

    source: str
    matched: int
    fixed: tuple[BaselineEntry, ...] = ()


@dataclass
class Report:
    """Everything a reporter needs: findings (kept and suppressed), notifications, rules run."""

    findings: list[Finding] = field(default_factory=list)
    notifications: list[Notification] = field(default_factory=list)
    rule_ids: list[str] = field(default_factory=list)
    files_scanned: int = 0
    objects_scanned: int = 0
    baseline: BaselineSummary | None = None
    skipped: list[Notification] = field(default_factory=list)  # not Kubernetes (--verbose)
    linted: list[str] = field(default_factory=list)  # the files read, sorted (--show-files)
    warnings: list[str] = field(default_factory=list)  # about the run itself, for stderr

    @property
    def active(self) -> list[Finding]:
        """Findings that count (not suppressed)."""
        return [f for f in self.findings if f.suppression is None]

    @property
    def suppressed(self) -> list[Finding]:
        """Findings that a suppression, exemption or baseline accepted."""
        return [f for f in self.findings if f.suppression is not None]

    def sort(self) -> None:
        """Put findings and notifications in their deterministic order."""
        self.findings.sort(key=Finding.sort_key)
        self.notifications.sort(key=Notification.sort_key)


def sorted_once_per_location(runs: Iterable[list[Finding]]) -> list[Finding]:
    """Units' findings (``runs``), one per rule, place and message, in the report's order.

    A base linted on its own and through the overlay that uses it, or a chart beside its
    committed ``helm template`` output, map the same violation to the same line of the
    same file twice; a person fixes it once. The first copy is kept, unless it is suppressed
    and a later one is not. One run (a unit's findings) is sorted at a time and the runs
    merged: no sort key of every finding at once (110,000 findings: 11 MiB), no dictionary
    of every finding; every copy of a finding has the same sort key, so each run of equal
    keys is de-duplicated on its own. Then each place, rule, object and field keeps the
    findings of one unit only (:func:`_one_unit_per_object`)."""
    sorted_runs = []
    for run in runs:
        run.sort(key=Finding.sort_key)
        sorted_runs.append(run)
    result: list[Finding] = []
    units: list[int] = []  # the run each kept finding comes from
    kept: dict[tuple[object, ...], int] = {}
    previous: tuple[str, int, int, str, str] | None = None
    # heapq.merge is stable: equal keys come in the order of the runs, as a stable sort
    merged = heapq.merge(*map(_numbered, itertools.count(), sorted_runs), key=_merge_key)
    for unit, finding in merged:
        sort_key = finding.sort_key()
        if sort_key != previous:
            kept.clear()
            previous = sort_key
        key = (finding.location.span, finding.message)  # path, rule: in the sort key
        index = kept.get(key)
        if index is None:
            kept[key] = len(result)
            result.append(finding)
            units.append(unit)
        elif result[index].suppression is not None and finding.suppression is None:
            result[index] = finding
            units[index] = unit
    return _one_unit_per_object(result, units)


def _numbered(unit: int, run: list[Finding]) -> Iterator[tuple[int, Finding]]:
    return ((unit, finding) for finding in run)


def _merge_key(item: tuple[int, Finding]) -> tuple[str, int, int, str, str]:
    return item[1].sort_key()


def _one_unit_per_object(findings: list[Finding], units: list[int]) -> list[Finding]:
    """Of the sorted ``findings`` (each from unit ``units[i]``), each file, place, rule,
    object and field keeps the findings of one unit: a file linted in two units in
    different contexts (a base through a deployed overlay and a test overlay) would
    otherwise show a warning and a note, or two wordings, at one line. The unit kept has an
    unsuppressed finding there if any does, then the highest level, then comes first; its
    findings there all stay (one unit's findings for distinct bindings are distinct)."""
    result: list[Finding] = []
    start = 0
    while start < len(findings):
        place = findings[start].sort_key()[:4]
        end = start + 1
        while end < len(findings) and findings[end].sort_key()[:4] == place:
            end += 1
        group = range(start, end)
        if len({units[i] for i in group}) == 1:
            result.extend(findings[start:end])
        else:
            best: dict[tuple[object, ...], tuple[bool, int, int]] = {}
            for i in group:
                what = (findings[i].object_ref, findings[i].field_path)
                score = (findings[i].suppression is None, findings[i].severity.rank, -units[i])
                chosen = best.get(what)
                if chosen is None or score > chosen:
                    best[what] = score
            result.extend(
                findings[i]
                for i in group
                if -best[findings[i].object_ref, findings[i].field_path][2] == units[i]
            )
        start = end
    return result

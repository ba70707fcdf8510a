"""``klint fix``: apply rule fixes to YAML files, keeping comments, order, quoting and layout.

Edits go through ruamel.yaml's round-trip mode, one YAML document at a time: documents
without fixes stay byte-identical, and a document's own indentation (mapping indent,
sequence indent and dash offset) is detected and kept. Where ruamel would normalise
something else in the document (spacing, odd indentation), only the lines the edit
changed are carried over into the original text. CRLF line ends and a BOM are kept.

Findings are mapped to files through their location: the finding's line picks the YAML
document (and the item of a ``kind: List``) and its field path picks the node. For
Kustomize, the location already points at the patch or base file; list indices of the
built object are mapped to that file's items by their merge key (a container's name).
Helm templates are never rewritten: :func:`run_fix` returns advice instead.
"""

from __future__ import annotations

import difflib
import io
import itertools
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError

from klint.catalog import Rule
from klint.findings import Finding, Span
from klint.fixes import FIXERS, Edit, FixPlan, dotted
from klint.sources.names import KUSTOMIZATION_FILES

SAFE, NEEDS_REVIEW = "safe", "needs-review"
_SEPARATOR = re.compile(r"^---(?:[ \t]+(?:#.*)?)?$")
_KEY_ONLY = re.compile(r"^( *)(?:- +)?[^\s#-][^#]*?:[ \t]*(?:#.*)?$")
_DASH = re.compile(r"^( *)-( +)\S")
_MERGE_KEYS = {
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "volumes": "name",
    "env": "name",
    "ports": "containerPort",
    "items": None,
}


@dataclass(frozen=True)
class Target:
    """A finding to fix; ``built`` is the Kustomize-built object its path refers to."""

    finding: Finding
    plan: FixPlan | None = None
    built: Mapping[str, Any] | None = None


@dataclass
class FileResult:
    """The outcome of fixing one file's text."""

    text: str
    applied: list[Finding] = field(default_factory=list)
    skipped: list[tuple[Finding, str]] = field(default_factory=list)
    plans: dict[int, FixPlan] = field(default_factory=dict)  # id(finding) → its plan

    def changed(self, original: str) -> bool:
        return self.text != original


def fix_of(rule: Rule) -> tuple[str, str] | None:
    """The rule's fix (applicability, description) when it has one klint can apply."""
    applicability = rule.fix.get("applicability")
    if rule.check not in FIXERS or applicability not in (SAFE, NEEDS_REVIEW):
        return None
    return str(applicability), str(rule.fix.get("description", ""))


def plan_for(rule: Rule, obj: Mapping[str, Any], finding: Finding) -> FixPlan | None:
    """The edits that fix ``finding`` in ``obj`` (the object it was reported on)."""
    fixer = FIXERS.get(rule.check)
    if fixer is None or not rule.fix:
        return None
    return fixer(obj, finding.field_path)


def applicability(rule: Rule, plan: FixPlan) -> str:
    """``needs-review`` when the rule says so or the plan replaces an explicit value."""
    declared = rule.fix.get("applicability")
    return NEEDS_REVIEW if declared != SAFE or plan.overrides else SAFE


# --- documents ----------------------------------------------------------------------


@dataclass
class _Chunk:
    """One YAML document of a stream: its ``---`` line (if any) and its body text."""

    start: int  # 0-based line of the first line (the separator when there is one)
    header: str
    body: str

    @property
    def body_start(self) -> int:
        return self.start + (1 if self.header else 0)

    def lines(self) -> int:
        return (1 if self.header else 0) + len(self.body.splitlines())


def split_documents(text: str) -> list[_Chunk]:
    """A stream (``\\n`` line ends) split at ``---`` lines; the pieces join back to it."""
    chunks: list[_Chunk] = []
    header, start = "", 0
    body: list[str] = []
    for number, line in enumerate(text.splitlines(keepends=True)):
        if _SEPARATOR.match(line.rstrip("\n")):
            if header or body:
                chunks.append(_Chunk(start, header, "".join(body)))
            header, body, start = line, [], number
        else:
            body.append(line)
    chunks.append(_Chunk(start, header, "".join(body)))
    return chunks


def detect_indent(text: str) -> tuple[int, int, int]:
    """(mapping indent, sequence indent, dash offset) most used in ``text``.

    These are ruamel.yaml's ``indent(mapping, sequence, offset)``: ``sequence`` is where an
    item's content starts and ``offset`` where its dash is, both relative to the parent key.
    """
    mappings: Counter[int] = Counter()
    sequences: Counter[tuple[int, int]] = Counter()
    lines = [
        line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")
    ]
    for line, following in itertools.pairwise(lines):
        key = _KEY_ONLY.match(line)
        if key is None or line.rstrip().endswith(("|", ">", "|-", ">-")):
            continue
        parent = len(key.group(1))
        if line.lstrip().startswith("-"):
            parent = len(line) - len(line.lstrip("- ")) if _DASH.match(line) else parent
        dash = _DASH.match(following)
        if dash is not None:
            offset = len(dash.group(1)) - parent
            if offset >= 0:
                sequences[(offset + 1 + len(dash.group(2)), offset)] += 1
            continue
        child = len(following) - len(following.lstrip(" "))
        if child > parent:
            mappings[child - parent] += 1
    mapping = mappings.most_common(1)[0][0] if mappings else 2
    sequence, offset = sequences.most_common(1)[0][0] if sequences else (mapping + 2, mapping)
    return mapping, max(sequence, offset + 2), offset


def _yaml(body: str) -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 1_000_000
    mapping, sequence, offset = detect_indent(body)
    yaml.indent(mapping=mapping, sequence=sequence, offset=offset)
    return yaml


def _dump(yaml: YAML, data: Any) -> str:
    out = io.StringIO()
    yaml.dump(data, out)
    return out.getvalue()


def transplant(original: str, noop: str, edited: str) -> str:
    """Carry the lines that differ between ``noop`` and ``edited`` into ``original``.

    ``noop`` is ruamel's dump of the unedited document: where it already differs from the
    original (normalised spacing), only the edit's hunks are applied, so unrelated lines
    keep their exact text. Lines are matched with whitespace runs collapsed, so re-indented
    or re-spaced lines still anchor a hunk. Falls back to ``edited`` when one has no anchor.
    """
    if noop == original:
        return edited
    old, base, new = (s.splitlines(keepends=True) for s in (original, noop, edited))
    to_old: dict[int, int] = {}
    loose_old, loose_base = ([" ".join(line.split()) for line in s] for s in (old, base))
    for a, b, size in difflib.SequenceMatcher(
        None, loose_old, loose_base, autojunk=False
    ).get_matching_blocks():
        for k in range(size):
            to_old[b + k] = a + k
    result = list(old)
    hunks = difflib.SequenceMatcher(None, base, new, autojunk=False).get_opcodes()
    for tag, i1, i2, j1, j2 in reversed(hunks):
        if tag == "equal":
            continue
        if i1 < i2:
            if not all(i in to_old for i in range(i1, i2)):
                return edited
            start, end = to_old[i1], to_old[i2 - 1] + 1
            if end - start != i2 - i1:
                return edited
        elif i1 > 0 and i1 - 1 in to_old:
            start = end = to_old[i1 - 1] + 1
        elif i1 in to_old:
            start = end = to_old[i1]
        else:
            return edited
        result[start:end] = new[j1:j2]
    return "".join(result)


# --- locating and editing -------------------------------------------------------------


class _Skip(Exception):
    """This finding cannot be fixed here; the message says why."""


def _line_of(node: Any) -> int:
    return int(node.lc.line) if hasattr(node, "lc") and node.lc.line is not None else 0


def _object_in(root: Any, line: int, finding: Finding) -> CommentedMap:
    """The object of ``root`` (a document) that holds 0-based ``line`` (a List's item)."""
    if not isinstance(root, CommentedMap):
        raise _Skip("the document is not a mapping (a JSON patch?): edit it by hand")
    kind = root.get("kind")
    items = root.get("items")
    obj = root
    if isinstance(kind, str) and kind.endswith("List") and isinstance(items, CommentedSeq):
        chosen = None
        for index, item in enumerate(items):
            if isinstance(item, CommentedMap) and items.lc.item(index)[0] <= line:
                chosen = item
        if chosen is None:
            raise _Skip("no List item at the finding's line")
        obj = chosen
    ref = finding.object_ref
    if ref is not None and ref.kind and obj.get("kind") not in (None, ref.kind):
        raise _Skip(f"the document at this line is a {obj.get('kind')}, not a {ref.kind}")
    return obj


class _Editor:
    """Applies :class:`Edit` paths (built-object paths) to one object of a file."""

    def __init__(self, obj: CommentedMap, built: Mapping[str, Any] | None) -> None:
        self.obj = obj
        self.built = built

    def apply(self, edit: Edit) -> None:
        parent, key = self._parent(edit.path, create=edit.op != "delete")
        if edit.op == "delete" and (parent is None or key not in parent):
            raise _Skip(f"{dotted(edit.path)} is not written in this file")
        if edit.op == "set":
            if (
                key in parent
                and parent[key] == edit.value
                and type(parent[key]) is type(edit.value)
            ):
                return
            parent[key] = edit.value
        elif edit.op == "append":
            current = parent.get(key)
            if current is None:
                parent[key] = CommentedSeq([edit.value])
            elif not isinstance(current, list):
                raise _Skip(f"{dotted(edit.path)} is not a list")
            elif edit.value not in current:
                current.append(edit.value)
        else:
            _delete_keeping_comments(parent, str(key))

    def _parent(self, path: Sequence[str | int], *, create: bool) -> tuple[Any, Any]:
        """The mapping that holds the last step of ``path`` and the key to use in it."""
        node: Any = self.obj
        for depth, step in enumerate(path[:-1]):
            following = path[depth + 1]
            if isinstance(step, int):
                node = self._item(node, path[:depth], step)
            else:
                if not isinstance(node, CommentedMap):
                    raise _Skip(f"{dotted(path[:depth]) or 'the object'} is not a mapping")
                child = node.get(step)
                if child is None:
                    if not create:
                        return None, None
                    if isinstance(following, int):
                        raise _Skip(f"{dotted(path[: depth + 1])} is missing from this file")
                    child = CommentedMap()
                    node[step] = child
                node = child
        if not isinstance(node, CommentedMap) or not isinstance(path[-1], str):
            raise _Skip(f"{dotted(path[:-1])} is not a mapping")
        return node, path[-1]

    def _item(self, node: Any, path: Sequence[str | int], index: int) -> Any:
        """List item ``index`` of the built object → the matching item in this file."""
        if not isinstance(node, CommentedSeq):
            raise _Skip(f"{dotted(path)} is not a list")
        if self.built is None:
            if not 0 <= index < len(node):
                raise _Skip(f"{dotted((*path, index))} is missing from this file")
            return node[index]
        key = _MERGE_KEYS.get(str(path[-1])) if path else None
        built_items = _dig(self.built, path)
        if key is None or not isinstance(built_items, list) or index >= len(built_items):
            raise _Skip(f"cannot match {dotted((*path, index))} to an item of this file")
        wanted = built_items[index].get(key) if isinstance(built_items[index], dict) else None
        for item in node:
            if isinstance(item, CommentedMap) and wanted is not None and item.get(key) == wanted:
                return item
        raise _Skip(f"{dotted(path)} item {key}={wanted} is not in this file")


def _dig(value: Any, path: Sequence[str | int]) -> Any:
    for step in path:
        if isinstance(step, str) and isinstance(value, Mapping):
            value = value.get(step)
        elif isinstance(step, int) and isinstance(value, list) and 0 <= step < len(value):
            value = value[step]
        else:
            return None
    return value


def _delete_keeping_comments(mapping: CommentedMap, key: str) -> None:
    """Delete ``key``; full-line comments that followed it move to the previous key."""
    comments = mapping.ca.items.get(key)
    keys = list(mapping.keys())
    position = keys.index(key)
    trailing = ""
    if comments and len(comments) > 2 and comments[2] is not None:
        value = comments[2].value
        trailing = value[value.index("\n") + 1 :] if "\n" in value else ""
    del mapping[key]
    if not trailing.strip() or position == 0:
        return
    previous = keys[position - 1]
    if isinstance(mapping[previous], (CommentedMap, CommentedSeq)):
        return  # a nested block's comments live deep inside it; keep it simple
    from ruamel.yaml.error import CommentMark
    from ruamel.yaml.tokens import CommentToken

    slot = mapping.ca.items.setdefault(previous, [None, None, None, None])
    existing = slot[2].value if slot[2] is not None else "\n"
    slot[2] = CommentToken(existing + trailing, CommentMark(0), None)


def apply_to_text(text: str, targets: Sequence[Target], rules: Mapping[str, Rule]) -> FileResult:
    """Apply each target's plan to ``text`` (a YAML stream); returns the new text."""
    bom = "\ufeff" if text.startswith("\ufeff") else ""
    crlf = "\r\n" in text
    work = text[len(bom) :].replace("\r\n", "\n") if crlf else text[len(bom) :]
    chunks = split_documents(work)
    result = FileResult(text)
    by_chunk: dict[int, list[Target]] = {}
    for target in targets:
        line = target.finding.location.span.start_line - 1
        for index, chunk in enumerate(chunks):
            if chunk.start <= line < chunk.start + max(chunk.lines(), 1):
                by_chunk.setdefault(index, []).append(target)
                break
        else:
            result.skipped.append((target.finding, "line is outside the file"))
    for index, chunk_targets in sorted(by_chunk.items()):
        chunks[index].body = _fix_chunk(chunks[index], chunk_targets, rules, result)
    new = "".join(chunk.header + chunk.body for chunk in chunks)
    if crlf:
        new = new.replace("\n", "\r\n")
    result.text = bom + new if new != work else text
    return result


def _fix_chunk(
    chunk: _Chunk, targets: Sequence[Target], rules: Mapping[str, Rule], result: FileResult
) -> str:
    yaml = _yaml(chunk.body)
    try:
        root = yaml.load(chunk.body)
        noop = _dump(yaml, root)
    except (YAMLError, ValueError) as error:
        for target in targets:
            result.skipped.append((target.finding, f"cannot edit this YAML: {error}"))
        return chunk.body
    planned: list[tuple[Target, _Editor, FixPlan]] = []
    for target in targets:
        line = target.finding.location.span.start_line - 1 - chunk.body_start
        try:
            obj = _object_in(root, line, target.finding)
            rule = rules[target.finding.rule_id]
            plan = target.plan or plan_for(rule, target.built or obj, target.finding)
            if plan is None:
                raise _Skip("no automatic fix for this finding")
            planned.append((target, _Editor(obj, target.built), plan))
            result.plans[id(target.finding)] = plan
        except _Skip as skip:
            result.skipped.append((target.finding, str(skip)))
    for target, editor, plan in planned:  # plans first: each sees the unedited object
        try:
            for edit in plan.edits:
                editor.apply(edit)
            result.applied.append(target.finding)
        except _Skip as skip:
            result.skipped.append((target.finding, str(skip)))
    edited = _dump(yaml, root)
    if edited == noop:
        return chunk.body
    return transplant(chunk.body, noop, edited)


# --- SARIF replacements ----------------------------------------------------------------


@dataclass(frozen=True)
class Replacement:
    """Replace the text of ``region`` (1-based, end exclusive) with ``text``."""

    region: Span
    text: str


def replacements(original: str, fixed: str) -> list[Replacement]:
    """Minimal replacements that turn ``original`` into ``fixed``, in original coordinates."""
    old = original.splitlines(keepends=True)
    new = fixed.splitlines(keepends=True)
    starts = [0]
    for line in old:
        starts.append(starts[-1] + len(line))
    found = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(
        None, old, new, autojunk=False
    ).get_opcodes():
        if tag == "equal":
            continue
        deleted, inserted = "".join(old[i1:i2]), "".join(new[j1:j2])
        prefix = len(_common_prefix(deleted, inserted))
        deleted, inserted = deleted[prefix:], inserted[prefix:]
        suffix = len(_common_prefix(deleted[::-1], inserted[::-1]))
        if suffix:
            deleted, inserted = deleted[:-suffix], inserted[:-suffix]
        begin = starts[i1] + prefix
        found.append(
            Replacement(
                Span(*_position(original, begin), *_position(original, begin + len(deleted))),
                inserted,
            )
        )
    return found


def _common_prefix(a: str, b: str) -> str:
    """The common start of ``a`` and ``b``, never ending inside a word (``true``/``tree``)."""
    size = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        size += 1

    def inside(text: str) -> bool:
        return size < len(text) and text[size].isalnum()

    while size and a[size - 1].isalnum() and (inside(a) or inside(b)):
        size -= 1
    return a[:size]


def _position(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column (code points) of ``offset``; a CR before LF counts in its line."""
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, column


def apply_replacements(text: str, found: Sequence[Replacement]) -> str:
    """The inverse of :func:`replacements` (for tests and editors)."""
    lines = text.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))

    def offset(line: int, column: int) -> int:
        return starts[min(line - 1, len(lines))] + column - 1

    for item in sorted(found, key=lambda r: r.region, reverse=True):
        begin = offset(item.region.start_line, item.region.start_column)
        end = offset(item.region.end_line, item.region.end_column)
        text = text[:begin] + item.text + text[end:]
    return text


def unified_diff(path: str, original: str, fixed: str) -> str:
    """``diff -u`` style text with ``a/`` and ``b/`` prefixes."""
    return "".join(
        difflib.unified_diff(
            original.splitlines(keepends=True),
            fixed.splitlines(keepends=True),
            fromfile=f"a/{path}",
            tofile=f"b/{path}",
        )
    )


def read_text(path: Path) -> tuple[str, bytes] | None:
    """A file's text (UTF-8, optional BOM) with its raw bytes; None when it is not text."""
    try:
        data = path.read_bytes()
        return data.decode("utf-8"), data
    except (OSError, UnicodeDecodeError):
        return None


@dataclass(frozen=True)
class SingleFix:
    """One finding's fix as text replacements in its file (for SARIF and editors)."""

    description: str
    applicability: str
    replacements: tuple[Replacement, ...]


def fix_in_text(text: str, finding: Finding, rule: Rule) -> SingleFix | None:
    """The fix for ``finding`` in ``text`` (the plain manifest it points at), or None."""
    if fix_of(rule) is None:
        return None
    result = apply_to_text(text, [Target(finding)], {rule.id: rule})
    plan = result.plans.get(id(finding))
    if plan is None or not result.applied or result.text == text:
        return None
    level = applicability(rule, plan)
    description = f"{plan.describe()[:1].upper()}{plan.describe()[1:]} (klint fix: {level})."
    return SingleFix(description, level, tuple(replacements(text, result.text)))


def is_plain_manifest(path: Path, root: Path) -> bool:
    """A YAML/JSON file outside Helm charts and Kustomize directories (up to ``root``)."""
    if path.suffix.lower() not in (".yaml", ".yml", ".json") or not path.is_file():
        return False
    if any((path.parent / name).exists() for name in KUSTOMIZATION_FILES):
        return False
    for directory in path.resolve().parents:
        if (directory / "Chart.yaml").exists():
            return False
        if directory == root.resolve():
            break
    return True


class FixFinder:
    """Per-finding fixes for plain manifest files, with each file read once."""

    def __init__(self, cwd: Path, root: Path, rules: Sequence[Rule], skip: str = "") -> None:
        self.cwd, self.root, self.skip = cwd, root, skip
        self.rules = {rule.id: rule for rule in rules}
        self._texts: dict[str, str | None] = {}

    def find(self, finding: Finding) -> SingleFix | None:
        """The fix of an unsuppressed finding whose rule has one, in a plain manifest."""
        rule = self.rules.get(finding.rule_id)
        path = finding.location.path
        if rule is None or fix_of(rule) is None or finding.suppression is not None:
            return None
        if path == self.skip:
            return None  # an editor buffer: the file on disk may differ
        if path not in self._texts:
            full = self.cwd / path
            read = read_text(full) if is_plain_manifest(full, self.root) else None
            self._texts[path] = read[0] if read is not None else None
        text = self._texts[path]
        return fix_in_text(text, finding, rule) if text is not None else None


# --- the klint fix run --------------------------------------------------------------


@dataclass
class Collected:
    """An unsuppressed finding with the object it was reported on and its unit's kind."""

    finding: Finding
    obj: Mapping[str, Any]
    source: str  # "manifest", "kustomize", "helm" or "stdin"


@dataclass
class FixOutcome:
    """What ``klint fix`` did and what is left for a person to do."""

    files: dict[str, tuple[str, str]] = field(default_factory=dict)  # display → (old, new)
    applied: list[Finding] = field(default_factory=list)
    needs_review: list[Finding] = field(default_factory=list)  # held back without --unsafe
    advice: list[str] = field(default_factory=list)  # manual changes: Helm, unmappable
    errors: list[str] = field(default_factory=list)

    @property
    def manual(self) -> bool:
        return bool(self.advice)


class _Collector:
    """Engine hook: runs the suppressor and keeps the unsuppressed findings with objects."""

    def __init__(self, suppressor: Any) -> None:
        self.suppressor = suppressor
        self.collected: list[Collected] = []

    def __call__(self, loaded: Any, resources: Any, pairs: Any) -> tuple[list[Finding], list[Any]]:
        from klint.sources.base import DocumentLocator
        from klint.sources.kustomize.overlay import OverlayLocator

        findings, notes = self.suppressor(loaded, resources, pairs)
        kept = {_key(f) for f in findings if f.suppression is None}
        if isinstance(loaded.locator, DocumentLocator):
            source = "manifest"
        elif isinstance(loaded.locator, OverlayLocator):
            source = "kustomize"
        else:
            source = "helm"
        for resource, finding in pairs:
            if _key(finding) in kept:
                where = "stdin" if finding.location.path == "<stdin>" else source
                self.collected.append(Collected(finding, resource.data, where))
        return findings, notes


def _key(finding: Finding) -> tuple[Any, ...]:
    return (finding.rule_id, finding.location, finding.field_path, finding.message)


def collect(options: Any, cwd: Path) -> tuple[list[Collected], dict[str, Rule], list[str]]:
    """Lint as ``klint check`` would (config, selection, suppressions) and keep objects."""
    from klint.documents import Limits
    from klint.engine import lint_unit
    from klint.run import DEFAULT_KUBE_VERSION, parse_kube_version, policy_for
    from klint.sources.base import LoadSettings
    from klint.sources.discover import DiscoverOptions, discover

    policy = policy_for(options, cwd)
    kube_version = policy.kube_version or DEFAULT_KUBE_VERSION
    discovery = discover(
        options.paths, cwd=cwd, options=DiscoverOptions(exclude=policy.exclude(cwd))
    )
    settings = LoadSettings(
        limits=Limits(max_file_bytes=options.max_file_bytes),
        helm_values=options.helm_values,
        helm_set=options.helm_set,
        helm_set_string=options.helm_set_string,
        release_name=options.release_name,
        namespace=options.namespace,
        kube_version=kube_version,
    )
    collector = _Collector(policy.suppressor)
    errors = [n.message for n in discovery.problems if n.fatal]
    for unit in policy.units(discovery.units, cwd):
        result = lint_unit(
            unit, policy.active, settings, parse_kube_version(kube_version), collector
        )
        errors += [
            f"{n.location.path if n.location else unit.display}: {n.message}"
            for n in result.notifications
            if n.fatal
        ]
    rules = {rule.id: rule for rule in policy.rules}
    return collector.collected, rules, errors


def run_fix(options: Any, cwd: Path, *, unsafe: bool = False, write: bool = True) -> FixOutcome:
    """Fix what the run's findings allow: safe fixes, plus needs-review ones with ``unsafe``.

    ``options`` is a :class:`klint.run.RunOptions`. Files are written only with ``write``;
    Helm findings and findings that cannot be mapped become advice.
    """
    collected, rules, errors = collect(options, cwd)
    outcome = FixOutcome(errors=errors)
    by_file: dict[str, list[Target]] = {}
    objects: dict[int, tuple[Mapping[str, Any], FixPlan]] = {}
    for item in sorted(collected, key=lambda c: c.finding.sort_key()):
        rule = rules.get(item.finding.rule_id)
        if rule is None or fix_of(rule) is None:
            continue
        plan = plan_for(rule, item.obj, item.finding)
        if plan is None:
            continue
        where = _where(item.finding)
        if item.source == "helm":
            outcome.advice.append(
                f"{where}: {item.finding.rule_id}: {_helm_advice(item, plan, cwd)}"
            )
            continue
        if item.source == "stdin":
            outcome.advice.append(f"{where}: {item.finding.rule_id}: {plan.describe()}")
            continue
        if applicability(rule, plan) != SAFE and not unsafe:
            outcome.needs_review.append(item.finding)
            continue
        objects[id(item.finding)] = (item.obj, plan)
        built = item.obj if item.source == "kustomize" else None
        by_file.setdefault(item.finding.location.path, []).append(Target(item.finding, plan, built))
    for display, targets in sorted(by_file.items()):
        path = cwd / display
        read = read_text(path)
        if read is None:
            outcome.errors.append(f"{display}: cannot read the file to fix it")
            continue
        original, _ = read
        result = apply_to_text(original, targets, rules)
        outcome.applied.extend(result.applied)
        for finding, reason in result.skipped:
            item_obj, plan = objects[id(finding)]
            change = "; ".join(_named(edit, item_obj) for edit in plan.edits)
            outcome.advice.append(
                f"{_where(finding)}: {finding.rule_id}: {change} — not fixed automatically: "
                f"{reason}"
            )
        if result.text != original:
            outcome.files[display] = (original, result.text)
            if write:
                path.write_bytes(result.text.encode("utf-8"))
    return outcome


def _where(finding: Finding) -> str:
    span = finding.location.span
    return f"{finding.location.path}:{span.start_line}:{span.start_column}"


def _helm_advice(item: Collected, plan: FixPlan, cwd: Path) -> str:
    """The change to make in a chart: in values.yaml where the template reads it from there."""
    changes = []
    for edit in plan.edits:
        hint = None
        if edit.path[: len(item.finding.field_path)] == item.finding.field_path:
            hint = next(
                (h for r in item.finding.related if (h := _values_hint(edit, r.location, cwd))),
                None,
            )
        changes.append(hint or f"{_named(edit, item.obj)} (in this template)")
    return "; ".join(changes) + " — klint does not rewrite Helm charts"


def _values_hint(edit: Edit, where: Any, cwd: Path) -> str | None:
    """``in values.yaml:8 under securityContext: set allowPrivilegeEscalation: false``."""
    read = read_text(cwd / where.path)
    if read is None:
        return None
    try:
        keys = _keys_by_line(_yaml(read[0]).load(read[0]), ())
    except (YAMLError, ValueError):
        return None
    key_path = keys.get(where.span.start_line - 1)
    if not key_path or key_path[-1] not in edit.path:
        return None
    at = len(edit.path) - 1 - edit.path[::-1].index(key_path[-1])
    rest = Edit(edit.op, edit.path[at + 1 :], edit.value) if at + 1 < len(edit.path) else None
    if rest is None:
        change = Edit(edit.op, key_path, edit.value).describe()
        return f"in {where.path}:{where.span.start_line}: {change}"
    return f"in {where.path}:{where.span.start_line} under {dotted(key_path)}: {rest.describe()}"


def _keys_by_line(node: Any, path: tuple[str | int, ...]) -> dict[int, tuple[str | int, ...]]:
    """0-based line → key path of every mapping key in a round-trip loaded document."""
    found: dict[int, tuple[str | int, ...]] = {}
    if isinstance(node, CommentedMap):
        for key, value in node.items():
            child = (*path, str(key))
            found.setdefault(node.lc.key(key)[0], child)
            found.update({k: v for k, v in _keys_by_line(value, child).items() if k not in found})
    return found


def _named(edit: Edit, obj: Mapping[str, Any]) -> str:
    """An edit described with container names instead of indices where there are names."""
    text = ""
    for depth, step in enumerate(edit.path):
        if isinstance(step, int):
            item = _dig(obj, edit.path[: depth + 1])
            name = item.get("name") if isinstance(item, Mapping) else None
            text += f"[name={name}]" if isinstance(name, str) else f"[{step}]"
        else:
            text += f".{step}" if text else step
    described = edit.describe()
    return described.replace(dotted(edit.path), text, 1)


def fix_summary(outcome: FixOutcome, *, diff: bool, unsafe: bool) -> str:
    """What happened, for standard error: errors, manual changes, counts, the --unsafe hint."""
    lines = [f"klint: error: {message}" for message in outcome.errors]
    lines += [f"{advice}" for advice in outcome.advice]
    verb = "would fix" if diff else "fixed"
    lines.append(f"klint: {verb} {len(outcome.applied)} finding(s) in {len(outcome.files)} file(s)")
    if outcome.needs_review and not unsafe:
        lines.append(
            f"klint: {len(outcome.needs_review)} more fix(es) need review: "
            "rerun with --unsafe (add --diff to see them first)"
        )
    if outcome.advice:
        lines.append(f"klint: {len(outcome.advice)} change(s) to make by hand (listed above)")
    return "\n".join(lines) + "\n"


def fix_exit_code(outcome: FixOutcome, *, diff: bool) -> int:
    """2 on errors; 1 when changes remain (``--diff`` with changes, or changes by hand); 0."""
    if outcome.errors:
        return 2
    if outcome.advice or (diff and outcome.files):
        return 1
    return 0

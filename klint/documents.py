"""YAML streams → documents: plain values for rules, composed nodes for positions.

The scan path composes with libyaml (PyYAML's C composer) and converts nodes to plain
values itself, with YAML 1.1 scalar rules as Kubernetes reads them (``yes`` and ``on`` are
true, ``0644`` is octal). Each :class:`Document` keeps its root node, so a field path
turns into a precise span only when a finding needs one. Bad input (syntax errors,
duplicate keys, alias bombs, deep nesting, binary data) becomes a :class:`Notification`
with a line, and the documents that do load are still returned.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml

from klint import not_kubernetes
from klint.document_trees import FAST_PARSER as FAST_PARSER
from klint.document_trees import PLAIN_TAG as _PLAIN_TAG
from klint.document_trees import Composer as _Composer
from klint.document_trees import recomposed
from klint.embedded_yaml import embedded_span
from klint.findings import FieldPath, Location, Notification, Severity, Span
from klint.yaml_budget import overrun

_TRUE = frozenset(["y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"])
_FALSE = frozenset(["n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"])
_NULLS = frozenset(["", "~", "null", "Null", "NULL"])
_NUMERIC_START = frozenset("0123456789+-.")
_INT = re.compile(
    r"[-+]?(?:0b[0-1_]+|0[0-7_]+|(?:0|[1-9][0-9_]*)|0x[0-9a-fA-F_]+|[1-9][0-9_]*(?::[0-5]?[0-9])+)"
)
_FLOAT = re.compile(
    r"[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?"
    r"|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)"
)

_BOOL_TAG = "tag:yaml.org,2002:bool"
_INT_TAG = "tag:yaml.org,2002:int"
_FLOAT_TAG = "tag:yaml.org,2002:float"
_NULL_TAG = "tag:yaml.org,2002:null"
_MERGE_TAG = "tag:yaml.org,2002:merge"
_DOC_SEPARATOR = re.compile(r"^---(?:[ \t].*)?$", re.MULTILINE)


@dataclass(frozen=True)
class Limits:
    """Bounds that keep hostile input from exhausting time or memory."""

    max_file_bytes: int = 32 * 1024 * 1024
    max_nodes_per_document: int = 2_000_000  # also per file, counted before composing
    max_depth: int = 250
    max_documents: int = 10_000  # per file and per lint unit
    max_findings: int = 20_000  # per lint unit, checked as the checks run
    unit_timeout: float = 300.0  # seconds per lint unit, loading and checks (0: none)
    unit_memory_mb: int = 2048  # growth of klint's process per lint unit (0: none)


class InputError(Exception):
    """A document cannot be used; carries the 1-based line and column of the cause."""

    def __init__(self, code: str, message: str, line: int, column: int) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.line = line
        self.column = column


@dataclass
class Document:
    """One YAML document: its plain value and the node tree that locates fields in it."""

    path: str
    index: int
    data: Any
    tree: yaml.Node | None  # None once released (document_trees): ``root`` composes ``source``
    line_offset: int = 0
    text_lines: list[str] = field(default_factory=list, repr=False)
    identity: str = ""  # a stable name for the document's source (set for rendered charts)
    source: str = field(default="", repr=False)  # the document's own text, once released
    # ``text_lines`` are a render's output (a chart template, a Kustomize build), not the
    # lines of the file at ``path``: comments there are not the file's own
    rendered: bool = False

    @property
    def root(self) -> yaml.Node:
        """The document's root node (composed again from its text if it was released)."""
        return self.tree if self.tree is not None else recomposed(self)

    def span_of(self, field_path: FieldPath) -> Span:
        """Span of the node at ``field_path``, or of its nearest existing ancestor."""
        node, key_node, via_index = _resolve(self.root, field_path)
        if isinstance(node, yaml.ScalarNode):
            inner = embedded_span(self, node, field_path, _resolve)
            return inner or self._span(node.start_mark, node.end_mark)
        if key_node is not None and not via_index:
            return self._span(key_node.start_mark, key_node.end_mark)
        if isinstance(node, yaml.MappingNode) and node.value:
            first_key, first_value = node.value[0]
            end = first_value if isinstance(first_value, yaml.ScalarNode) else first_key
            return self._span(first_key.start_mark, end.end_mark)
        return self._span(node.start_mark, node.start_mark)

    def resolves(self, field_path: FieldPath) -> bool:
        """Whether every step of ``field_path`` exists in the document."""
        node, _, _ = _resolve(self.root, field_path, strict=True)
        return node is not None

    def _span(self, start: yaml.Mark, end: yaml.Mark) -> Span:
        start_line = start.line + 1 + self.line_offset
        end_line = end.line + 1 + self.line_offset
        start_col = start.column + 1
        end_col = end.column + 1
        if end_line > start_line and end.column == 0:
            # A block node ends at the start of the next line: keep it on its own line.
            end_line -= 1
            end_col = start_col if end_line == start_line else 1
        if end_line == start_line:  # one int object for both (110,000 findings hold spans)
            end_line = start_line
            end_col = max(end_col, start_col)
        return Span(start_line, start_col, end_line, end_col)


def _resolve(
    root: yaml.Node, field_path: FieldPath, strict: bool = False
) -> tuple[Any, yaml.Node | None, bool]:
    """Walk ``field_path`` through the node tree.

    Returns the deepest node reached, the key node that led to it (None at the root or
    after a sequence index) and whether the last step was a sequence index. With
    ``strict``, a missing step returns ``(None, None, False)``.
    """
    node: yaml.Node = root
    key_node: yaml.Node | None = None
    via_index = False
    for part in field_path:
        child: tuple[yaml.Node | None, yaml.Node] | None = None
        if isinstance(node, yaml.MappingNode) and isinstance(part, str):
            child = _find_key(node, part)
        elif (
            isinstance(node, yaml.SequenceNode)
            and isinstance(part, int)
            and 0 <= part < len(node.value)
        ):
            child = (None, node.value[part])
        if child is None:
            if strict:
                return None, None, False
            break
        key_node, node = child
        via_index = key_node is None
    return node, key_node, via_index


def _find_key(node: yaml.MappingNode, key: str) -> tuple[yaml.Node | None, yaml.Node] | None:
    """The (key node, value node) for ``key``; the last occurrence wins, merges count."""
    found: tuple[yaml.Node | None, yaml.Node] | None = None
    merges: list[yaml.Node] = []
    for key_node, value_node in node.value:
        if _is_merge_key(key_node):
            merges.append(value_node)
        elif isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
            found = (key_node, value_node)
    if found is not None:
        return found
    for merged in merges:
        sources = merged.value if isinstance(merged, yaml.SequenceNode) else [merged]
        for source in sources:
            if isinstance(source, yaml.MappingNode):
                hit = _find_key(source, key)
                if hit is not None:
                    return hit
    return None


@dataclass
class ParsedStream:
    """The outcome of parsing one file or buffer."""

    documents: list[Document]
    problems: list[Notification]


def decode(data: bytes, path: str) -> tuple[str | None, Notification | None]:
    """Bytes → text, or a notification for binary and undecodable input."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), None
        except UnicodeDecodeError as error:
            return None, _problem(path, "encoding", f"invalid UTF-16 text: {error.reason}", 1, 1)
    if b"\x00" in data[:8192]:
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        return None, _problem(path, "binary-file", "binary file (NUL byte) skipped", line, 1)
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        column = error.start - (data.rfind(b"\n", 0, error.start) + 1) + 1
        return None, _problem(
            path, "encoding", f"not valid UTF-8 (byte 0x{data[error.start]:02x})", line, column
        )


def parse_stream(text: str, path: str, limits: Limits | None = None) -> ParsedStream:
    """Parse every document of a YAML stream; a broken document does not lose the others."""
    limits = limits or Limits()
    over = overrun(text, limits.max_documents, limits.max_nodes_per_document)
    if over is not None:
        return ParsedStream([], [_problem(path, over.code, over.message, 1, 1)])
    lines = text.splitlines()
    result = ParsedStream([], [])
    try:
        _parse_into(text, path, 0, 0, limits, lines, result)
    except yaml.YAMLError:
        # libyaml cannot resume after a syntax error: parse the stream again one
        # document at a time so the documents around the broken one still count.
        result = ParsedStream([], [])
        for offset, chunk in _split_documents(text):
            try:
                _parse_into(chunk, path, offset, len(result.documents), limits, lines, result)
            except yaml.YAMLError as error:
                problem = _syntax_problem(path, error, offset)
                result.problems.append(not_kubernetes.syntax_problem(problem, text))
    return result


def _parse_into(
    text: str,
    path: str,
    line_offset: int,
    first_index: int,
    limits: Limits,
    lines: list[str],
    result: ParsedStream,
) -> None:
    """Compose ``text`` and append its documents (or the problems they have) to ``result``."""
    index = first_index
    loader = _Composer(text)
    try:
        while loader.check_node():
            root = loader.get_node()
            if root is None:
                continue
            try:
                converter = _Converter(limits)
                data = converter.convert_document(root)
            except RecursionError:
                mark = root.start_mark
                result.problems.append(
                    _problem(
                        path,
                        "yaml-limit",
                        "document nested too deeply to read; skipped",
                        mark.line + 1 + line_offset,
                        mark.column + 1,
                    )
                )
                index += 1
                continue
            except InputError as error:
                result.problems.append(
                    _problem(
                        path, error.code, error.message, error.line + line_offset, error.column
                    )
                )
                index += 1
                continue
            kubernetes = not_kubernetes.is_object(data)
            for code, message, mark in converter.warnings:
                line, column = mark.line + 1 + line_offset, mark.column + 1
                warning = _problem(path, code, message, line, column, Severity.WARNING)
                result.problems.append(warning if kubernetes else not_kubernetes.skipped(warning))
            result.documents.append(Document(path, index, data, root, line_offset, lines))
            index += 1
    finally:
        loader.dispose()


def _split_documents(text: str) -> Iterator[tuple[int, str]]:
    """Cut a stream at ``---`` lines; yields (line offset, chunk)."""
    starts = [0] + [m.start() for m in _DOC_SEPARATOR.finditer(text) if m.start() > 0]
    for begin, end in zip(starts, [*starts[1:], len(text)], strict=True):
        yield text.count("\n", 0, begin), text[begin:end]


def _syntax_problem(path: str, error: yaml.YAMLError, line_offset: int) -> Notification:
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    problem = getattr(error, "problem", None) or str(error)
    context = getattr(error, "context", None)
    message = f"YAML syntax error: {context + ', ' if context else ''}{problem}"
    line = mark.line + 1 + line_offset if mark is not None else 1 + line_offset
    column = mark.column + 1 if mark is not None else 1
    return _problem(path, "yaml-syntax", message, line, column)


def _problem(
    path: str,
    code: str,
    message: str,
    line: int,
    column: int,
    level: Severity = Severity.ERROR,
) -> Notification:
    return Notification(code, message, Location(path, Span(line, column, line, column)), level)


class _Converter:
    """Turns a composed node tree into plain Python values with Kubernetes' YAML 1.1 rules."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.warnings: list[tuple[str, str, yaml.Mark]] = []
        self._visited = 0
        self._root: yaml.Node | None = None

    def _limit(self, node: yaml.Node, message: str) -> InputError:
        mark = (self._root or node).start_mark
        return InputError("yaml-limit", message, mark.line + 1, mark.column + 1)

    def convert_document(self, root: yaml.Node) -> Any:
        """Plain value of a document root (limits are reported at the document start)."""
        self._root = root
        return self.convert(root, 0)

    def convert(self, node: yaml.Node, depth: int) -> Any:
        """Plain value of ``node``.

        Every node visited counts, aliases each time they are expanded, so an alias bomb
        stops at the node limit instead of exhausting memory; nesting is bounded too.
        """
        self._visited += 1
        if self._visited > self.limits.max_nodes_per_document:
            raise self._limit(
                node,
                f"document expands to more than "
                f"{self.limits.max_nodes_per_document:,} nodes (alias bomb?); skipped",
            )
        if isinstance(node, yaml.ScalarNode):
            return _scalar(node)
        if depth > self.limits.max_depth:
            raise self._limit(
                node, f"nesting deeper than {self.limits.max_depth} levels; document skipped"
            )
        if isinstance(node, yaml.SequenceNode):
            return [self.convert(item, depth + 1) for item in node.value]
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, depth)
        return None  # pragma: no cover - PyYAML has no other node kinds

    def _mapping(self, node: yaml.MappingNode, depth: int) -> dict[str, Any]:
        result: dict[str, Any] = {}
        merged: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if _is_merge_key(key_node):
                sources = (
                    value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
                )
                for source in reversed(sources):
                    value = self.convert(source, depth + 1)
                    if isinstance(value, dict):
                        merged.update(value)
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                self.warnings.append(
                    (
                        "yaml-key",
                        "a mapping key that is not a scalar is ignored",
                        key_node.start_mark,
                    )
                )
                continue
            key = _key_text(key_node)
            if key in result:
                self.warnings.append(
                    (
                        "duplicate-key",
                        f'duplicate key "{key}": Kubernetes rejects the object; '
                        "klint uses the last value",
                        key_node.start_mark,
                    )
                )
            result[key] = self.convert(value_node, depth + 1)
        if merged:
            return {**merged, **result}
        return result


def _is_merge_key(node: yaml.Node) -> bool:
    """``<<`` written plain (or tagged ``!!merge``)."""
    if node.tag == _MERGE_TAG:
        return True
    return isinstance(node, yaml.ScalarNode) and not node.style and node.value == "<<"


def _key_text(node: yaml.ScalarNode) -> str:
    """Mapping keys become strings, as in the JSON that Kubernetes converts YAML to."""
    value = str(node.value)
    if not node.style and node.tag == _PLAIN_TAG:
        if value in _TRUE:
            return "true"
        if value in _FALSE:
            return "false"
    return value


def plain_value(text: str) -> Any:
    """The value of ``text`` as an untagged plain scalar (YAML 1.1, as klint reads it)."""
    return _scalar(yaml.ScalarNode(_PLAIN_TAG, text, style=""))


def _scalar(node: yaml.ScalarNode) -> Any:
    """YAML 1.1 value of a scalar; quoted and block scalars and unknown tags keep the text."""
    tag = node.tag
    value: str = node.value
    if not node.style and tag == _PLAIN_TAG:  # untagged plain: resolve implicitly
        if value in _TRUE:
            return True
        if value in _FALSE:
            return False
        if value in _NULLS:
            return None
        if value[0] in _NUMERIC_START:
            if _INT.fullmatch(value):
                return _to_int(value)
            if _FLOAT.fullmatch(value):
                return _to_float(value)
        return value
    if tag == _BOOL_TAG:
        return value in _TRUE
    if tag == _NULL_TAG:
        return None
    if tag == _INT_TAG:
        return _to_int(value)
    if tag == _FLOAT_TAG:
        return _to_float(value)
    return value


def _to_int(text: str) -> int | str:
    value = text.replace("_", "")
    sign = -1 if value.startswith("-") else 1
    value = value.lstrip("+-")
    try:
        if value == "0":
            return 0
        if value.startswith("0b"):
            return sign * int(value[2:], 2)
        if value.startswith("0x"):
            return sign * int(value[2:], 16)
        if value.startswith("0") and value.isdigit():
            return sign * int(value, 8)
        if ":" in value:
            total = 0
            for part in value.split(":"):
                total = total * 60 + int(part)
            return sign * total
        return sign * int(value)
    except ValueError:
        return text


def _to_float(text: str) -> float | str:
    value = text.replace("_", "").lower()
    if value in (".inf", "+.inf"):
        return math.inf
    if value == "-.inf":
        return -math.inf
    if value == ".nan":
        return math.nan
    try:
        if ":" in value:
            sign = -1.0 if value.startswith("-") else 1.0
            total = 0.0
            for part in value.lstrip("+-").split(":"):
                total = total * 60 + float(part)
            return sign * total
        return float(value)
    except ValueError:
        return text

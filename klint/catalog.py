"""The rule catalogue: ``rules/**/*.yaml`` → validated, typed :class:`Rule` objects.

A rule file holds everything about one rule once (id, name, docs, severity, references,
profiles, the check it runs with its params, and pass/fail examples). Docs, ``klint rules``
and SARIF rule descriptors are all generated from these objects.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

from klint.data import data_path
from klint.documents import Limits
from klint.errors import KlintError
from klint.findings import Severity

DOCS_BASE_URL = "https://github.com/klint-dev/klint/blob/main/docs/rules/"
PROFILES = ("default", "pss-baseline", "pss-restricted", "nsa", "cis", "cis-control-plane", "all")


class CatalogError(KlintError):
    """A rule file is invalid; the message names the file and the problem."""


@dataclass(frozen=True)
class Example:
    """A manifest shown in the docs; fail examples mark offending lines with ``# expect``."""

    title: str
    manifest: str
    passes: bool

    def expected_lines(self) -> list[int]:
        """1-based lines marked ``# expect`` (where a fail example must report)."""
        return [
            number
            for number, line in enumerate(self.manifest.splitlines(), start=1)
            if line.rstrip().endswith("# expect")
        ]


@dataclass(frozen=True)
class Rule:
    """One rule of the catalogue."""

    id: str
    name: str
    summary: str
    description: str
    remediation: str
    severity: Severity
    security_severity: float
    precision: str
    check: str
    params: Mapping[str, Any]
    profiles: tuple[str, ...]
    tags: tuple[str, ...]
    references: Mapping[str, Any]
    examples: tuple[Example, ...]
    overrides: tuple[str, ...] = ()
    source: str = ""
    builtin: bool = True
    fix: Mapping[str, Any] = field(default_factory=dict)
    opt_in: str = ""  # why the rule is not in the default profile

    @property
    def help_uri(self) -> str:
        return f"{DOCS_BASE_URL}{self.name}.md"

    def frameworks(self) -> dict[str, list[str]]:
        """Framework ids this rule maps to: ``pss``, ``cis``, ``nsa``, ``mitre``."""
        refs = self.references
        result: dict[str, list[str]] = {}
        pss = refs.get("pss")
        if isinstance(pss, Mapping):
            result["pss"] = [f"{pss.get('level')}: {pss.get('control')}"]
        for key in ("cis", "nsa", "mitre"):
            values = refs.get(key)
            if values:
                result[key] = [str(v) for v in values]
        return result


def builtin_rules_dir() -> Path:
    """Where the built-in rule files are (installed or in a checkout)."""
    return data_path("rules")


def rule_schema() -> dict[str, Any]:
    """The JSON Schema every rule file must match."""
    with data_path("schemas", "rule.schema.json").open(encoding="utf-8") as handle:
        schema: dict[str, Any] = json.load(handle)
    return schema


def load_rule_files(directory: Path, *, builtin: bool, validate: bool) -> list[Rule]:
    """Read every ``*.yaml`` rule below ``directory``, sorted by file path."""
    validator = _validator() if validate else None
    paths = sorted(directory.rglob("*.yaml")) if builtin else _custom_rule_paths(directory)
    return [_load_rule(path, validator, builtin=builtin) for path in paths]


# Custom rules come with the repository: bounded like any input, links may not leave it.
MAX_RULE_FILE_BYTES = 1024 * 1024
_RULE_LIMITS = Limits(
    max_file_bytes=MAX_RULE_FILE_BYTES, max_nodes_per_document=100_000, max_depth=64
)


def _custom_rule_paths(directory: Path) -> list[Path]:
    """``*.yaml`` below a custom rules folder; a symlink that leaves it is an error."""
    from klint.sources.confine import walk_confined

    found = []
    for path, refusal in walk_confined(directory):
        if path.suffix != ".yaml":
            continue
        if refusal is not None:
            raise CatalogError(f"{path}: {refusal.reason}")
        found.append(path)
    return sorted(found)


def _read_custom_rule(path: Path) -> Any:
    """A custom rule file's data, read within :data:`_RULE_LIMITS` (size, nodes, depth)."""
    from klint.documents import decode, parse_stream

    try:
        if path.stat().st_size > MAX_RULE_FILE_BYTES:
            raise CatalogError(f"{path}: rule file is larger than 1 MiB")
        data = path.read_bytes()
    except OSError as error:
        raise CatalogError(f"{path}: cannot read rule file: {error.strerror}") from None
    text, problem = decode(data, str(path))
    if text is None:
        raise CatalogError(f"{path}: {problem.message if problem else 'unreadable'}")
    parsed = parse_stream(text, str(path), _RULE_LIMITS)
    if parsed.problems:
        first = parsed.problems[0]
        line = first.location.span.start_line if first.location else 1
        raise CatalogError(f"{path}:{line}: cannot read rule file: {first.message}")
    if len(parsed.documents) != 1:
        raise CatalogError(f"{path}: a rule file holds one YAML document")
    return parsed.documents[0].data


def load_catalog(extra_dirs: Iterable[Path] = (), *, validate_builtin: bool = False) -> list[Rule]:
    """Built-in rules plus custom rules from ``extra_dirs``, checked for clashes, sorted by id.

    Built-in rules are validated by the test suite, so start-up skips that by default;
    custom rules are always validated.
    """
    if validate_builtin:
        _index_key.clear()  # these rules were not read under an index key
        _indexed.clear()
        rules = load_rule_files(builtin_rules_dir(), builtin=True, validate=True)
    else:
        rules = list(_cached_builtin_rules())
    for directory in extra_dirs:
        if not os.path.isdir(directory):  # a name the system refuses is not found either
            raise CatalogError(f"{directory}: rules directory not found")
        rules.extend(load_rule_files(directory, builtin=False, validate=True))
    _check_unique(rules)
    return sorted(rules, key=rule_order)


def rule_order(rule: Rule) -> tuple[str, int, str]:
    """Sort key: ids in numeric order (KL101 before KL1001), then the id itself."""
    match = re.fullmatch(r"(.*?)([0-9]+)", rule.id)
    if match is None:
        return (rule.id, 0, rule.id)
    return (match.group(1), int(match.group(2)), rule.id)


def _cached_builtin_rules() -> list[Rule]:
    """The built-in rules, from an index keyed by every rule file's name, size and mtime.

    Parsing the rule files costs 60-80 ms on every run and unpickling the rules ~20 ms; the
    index holds them as plain values (``marshal``: strings, numbers, tuples and dicts only,
    nothing that runs code) and loads in a few milliseconds. It lives in the user's cache
    folder (:mod:`klint.user_cache`: only a 0600 file of the user's is read); a missing,
    stale, untrusted or unwritable index just means parsing the files again. Custom rules
    (from the repository) are never indexed.
    """
    import hashlib
    import marshal

    from klint import __version__
    from klint.user_cache import cache_file, read_private, write_private

    directory = builtin_rules_dir()
    key = hashlib.sha256(f"{__version__}|{_INDEX_FORMAT}".encode())
    for path in _rule_file_names(directory):  # os.walk: a third of rglob's cost
        info = os.stat(path)
        key.update(f"{path}|{info.st_size}|{info.st_mtime_ns}\n".encode(errors="surrogatepass"))
    _index_key[:] = [key.hexdigest()]
    cache = cache_file(f"catalog-{key.hexdigest()[:24]}.marshal")
    data = read_private(cache)
    if data is not None:
        try:
            return _remember([_rule_from_index(entry) for entry in marshal.loads(data)])
        except (EOFError, ValueError, TypeError, IndexError, KeyError):
            pass
    rules = load_rule_files(directory, builtin=True, validate=False)
    write_private(cache, lambda: marshal.dumps([_rule_to_index(rule) for rule in rules]))
    return _remember(rules)


def _remember(rules: list[Rule]) -> list[Rule]:
    _indexed.clear()
    _indexed.update((rule.id, rule) for rule in rules)
    return rules


_index_key: list[str] = []  # the key the built-in rules were last read under
_indexed: dict[str, Rule] = {}  # the rule objects read under it, by id


def indexed_rules() -> list[Rule]:
    """The built-in rules as last read under :func:`builtin_rules_key` (empty: not read so)."""
    return list(_indexed.values()) if _index_key else []


def indexed_rule(rule_id: str) -> Rule | None:
    """The rule object read under the index key for ``rule_id``: a rule that *is* this object
    is the built-in rule, unchanged, as :func:`builtin_rules_key` describes it."""
    return _indexed.get(rule_id) if _index_key else None


def builtin_rules_key() -> str | None:
    """What the built-in rules this process read from the index are a function of (klint's
    version and every rule file's path, size and mtime), or None when it did not read them
    that way. The result cache keys built-in rules by it instead of their whole text."""
    return _index_key[0] if _index_key else None


def _rule_file_names(directory: Path) -> list[str]:
    """Every ``*.yaml`` below ``directory`` (the files ``rglob`` finds), sorted."""
    names: list[str] = []
    for root, _, files in os.walk(directory, followlinks=True):
        names.extend(os.path.join(root, name) for name in files if name.endswith(".yaml"))
    return sorted(names)


_INDEX_FORMAT = 1
_INDEX_FIELDS = tuple(f.name for f in fields(Rule))


def _rule_to_index(rule: Rule) -> tuple[Any, ...]:
    """A rule as plain values, in :class:`Rule` field order."""
    values = []
    for name in _INDEX_FIELDS:
        value = getattr(rule, name)
        if name == "severity":
            value = value.value
        elif name == "examples":
            value = tuple((e.title, e.manifest, e.passes) for e in value)
        elif isinstance(value, Mapping):
            value = dict(value)
        values.append(value)
    return tuple(values)


def _rule_from_index(entry: tuple[Any, ...]) -> Rule:
    values = dict(zip(_INDEX_FIELDS, entry, strict=True))
    values["severity"] = Severity(values["severity"])
    values["examples"] = tuple(Example(*example) for example in values["examples"])
    return Rule(**values)


def _check_unique(rules: list[Rule]) -> None:
    seen: dict[str, str] = {}
    for rule in rules:
        for key in (rule.id, rule.name):
            if key in seen:
                raise CatalogError(f"{rule.source}: {key!r} is already used by {seen[key]}")
            seen[key] = rule.source


def _validator() -> Any:
    """The rule-file validator; ``pattern`` with JSON Schema's (ECMA-262) meaning of a final
    ``$``, the end of the text: Python's ``$`` also matches before a final newline, which
    let ``id: "EVIL-001\\n"`` load and split text and Markdown output."""
    import jsonschema

    base = jsonschema.Draft202012Validator
    checks = dict(base.VALIDATORS)
    checks["pattern"] = _anchored_pattern
    extended: Any = jsonschema.validators.extend(base, checks)  # type: ignore[no-untyped-call]
    return extended(rule_schema())


def _anchored_pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Any:
    import jsonschema

    if not validator.is_type(instance, "string"):
        return
    anchored = pattern
    if pattern.endswith("$") and not pattern.endswith("\\$"):
        anchored = pattern[:-1] + r"\Z"
    if re.search(anchored, instance) is None:
        yield jsonschema.ValidationError(f"{instance!r} does not match {pattern!r}")


def _load_rule(path: Path, validator: Any, *, builtin: bool) -> Rule:
    if not builtin:
        raw = _read_custom_rule(path)
    else:
        try:
            raw = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
            raise CatalogError(f"{path}: cannot read rule file: {error}") from None
    if validator is not None:
        errors = sorted(validator.iter_errors(raw), key=lambda e: list(e.absolute_path))
        if errors:
            first = errors[0]
            where = "/".join(str(p) for p in first.absolute_path) or "(top level)"
            raise CatalogError(f"{path}: {where}: {first.message}")
    if not isinstance(raw, dict):
        raise CatalogError(f"{path}: a rule file must be a mapping")
    if validator is not None and raw.get("check") == "json-schema":
        _check_generic_params(raw, path)
    try:
        return _rule_from_mapping(raw, path, builtin)
    except (KeyError, TypeError, ValueError) as error:
        raise CatalogError(f"{path}: invalid rule: {error}") from None


def _expression(raw: dict[str, Any]) -> dict[str, Any]:
    """``check: cel`` rules give their ``expression`` at the top level; it is a param."""
    return {"expression": raw["expression"]} if "expression" in raw else {}


def _check_generic_params(raw: dict[str, Any], path: Path) -> None:
    """Refuse a json-schema rule whose message template or schema klint will not run.

    The error names the rule file and the line of the offending key.
    """
    from klint.untrusted.params import params_problems

    params = raw.get("params")
    problems = params_problems(params) if isinstance(params, dict) else []
    if problems:
        where, why = problems[0]
        field_path = ("params", *where)
        line = _line_of(path, field_path)
        shown = ".".join(str(part) for part in field_path)
        raise CatalogError(f"{path}:{line}: {shown}: {why}")


def _line_of(path: Path, field_path: tuple[str | int, ...]) -> int:
    """The line of ``field_path`` in a rule file (1 when it cannot be found)."""
    from klint.documents import parse_stream

    try:
        parsed = parse_stream(path.read_text(encoding="utf-8"), str(path))
    except (OSError, UnicodeDecodeError):
        return 1
    if not parsed.documents:
        return 1
    return parsed.documents[0].span_of(field_path).start_line


def _rule_from_mapping(raw: dict[str, Any], path: Path, builtin: bool) -> Rule:
    examples = raw.get("examples") or {}
    return Rule(
        id=str(raw["id"]),
        name=str(raw["name"]),
        summary=str(raw["summary"]).strip(),
        description=str(raw["description"]).strip(),
        remediation=str(raw["remediation"]).strip(),
        severity=Severity.parse(str(raw["severity"])),
        security_severity=float(raw["security_severity"]),
        precision=str(raw.get("precision", "high")),
        check=str(raw["check"]),
        params={**(raw.get("params") or {}), **_expression(raw)},
        profiles=tuple(raw.get("profiles") or ()),
        tags=tuple(raw.get("tags") or ()),
        references=dict(raw.get("references") or {}),
        examples=tuple(
            [
                Example(str(e.get("title", "")), str(e["manifest"]), True)
                for e in examples.get("pass", [])
            ]
            + [
                Example(str(e.get("title", "")), str(e["manifest"]), False)
                for e in examples.get("fail", [])
            ]
        ),
        overrides=tuple(raw.get("overrides") or ()),
        source=str(path),
        builtin=builtin,
        fix=dict(raw.get("fix") or {}),
        opt_in=str(raw.get("opt_in") or "").strip(),
    )

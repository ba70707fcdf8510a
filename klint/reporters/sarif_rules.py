"""SARIF rule descriptors (``tool.driver.rules``), generated from the catalogue and kept
between runs.

The ~110 descriptors of the default profile, with their Markdown help and examples, are
~400 KB of the log of a one-file run: building and writing them was ~7 ms of its ~100 ms
start. Their text is a function of the built-in rule files and of the code that writes them,
so it is kept in the user's cache folder (:mod:`klint.user_cache`: a 0600 file of the user's,
never a repository's) keyed by both: the catalogue's index key (klint's version and every
rule file's path, size and mtime) and the path, size and mtime of the modules that shape a
descriptor. A descriptor is taken from it only for a rule object the catalogue index itself
returned (custom rules, or rules read without the index, are written afresh), so the log is
byte for byte what writing every descriptor would give (``tests/test_sarif_rules.py``).
"""

from __future__ import annotations

import hashlib
import marshal
import os
import sys
from collections.abc import Sequence
from typing import Any

from klint import catalog
from klint.catalog import Rule
from klint.docs import rule_help_markdown, rule_help_text
from klint.reporters import indented_json
from klint.reporters.indented_json import dump_indented
from klint.user_cache import cache_file, read_private, write_private

# where a descriptor sits in the log: runs[0].tool.driver.rules[i], the run at six spaces
DESCRIPTOR_INDENT = " " * 12
_FORMAT = 1


def descriptor(rule: Rule) -> dict[str, Any]:
    """A rule's reportingDescriptor, generated from its catalogue entry."""
    tags = list(dict.fromkeys(["security", *rule.tags]))[:10]
    properties: dict[str, Any] = {
        "tags": tags,
        "precision": rule.precision,
        "security-severity": f"{rule.security_severity:.1f}",
    }
    frameworks = rule.frameworks()
    if frameworks:
        properties["frameworks"] = frameworks
    result: dict[str, Any] = {
        "id": rule.id,
        "name": rule.name,
        "shortDescription": {"text": rule.summary[:1024]},
        "fullDescription": {"text": rule.description[:1024]},
        "defaultConfiguration": {"level": rule.severity.value},
    }
    if rule.help_uri:
        result["helpUri"] = rule.help_uri
    result["help"] = {"text": rule_help_text(rule), "markdown": rule_help_markdown(rule)}
    result["properties"] = properties
    return result


def descriptor_texts(rules: Sequence[Rule]) -> list[str]:
    """Each rule's descriptor as the log writes it at :data:`DESCRIPTOR_INDENT`."""
    kept = _kept_texts()
    texts = []
    for rule in rules:
        text = kept.get(rule.id) if catalog.indexed_rule(rule.id) is rule else None
        texts.append(text if text is not None else _text(rule))
    return texts


def _text(rule: Rule) -> str:
    return dump_indented(descriptor(rule), DESCRIPTOR_INDENT)


def _kept_texts() -> dict[str, str]:
    """The built-in rules' descriptor texts from the user's cache, written when missing;
    empty when the built-in rules were not read from the catalogue index."""
    indexed = catalog.indexed_rules()
    index_key = catalog.builtin_rules_key()
    if not indexed or index_key is None:
        return {}
    key = hashlib.sha256(f"{index_key}|{_FORMAT}|{_code_stamp()}".encode(errors="replace"))
    path = cache_file(f"sarif-rules-{key.hexdigest()[:24]}.marshal")
    data = read_private(path)
    if data is not None:
        try:
            kept = marshal.loads(data)
        except (EOFError, ValueError, TypeError):
            kept = None
        if isinstance(kept, dict) and all(type(v) is str for v in kept.values()):
            return kept
    texts = {rule.id: _text(rule) for rule in indexed}
    write_private(path, lambda: marshal.dumps(texts))
    return texts


def _code_stamp() -> str:
    """The path, size and mtime of every module whose code shapes a descriptor's text."""
    from klint import docs

    stamps = []
    for module in (catalog, docs, indented_json, sys.modules[__name__]):
        name = module.__file__ or ""
        try:
            info = os.stat(name)
        except OSError:
            return "unknown"
        stamps.append(f"{name}:{info.st_size}:{info.st_mtime_ns}")
    return "|".join(stamps)

"""JSON Schemas from custom rules, validated without network, files or backtracking regexes.

A custom rule's schema comes from the repository being linted, so it is hostile input:

* ``$ref`` resolves only inside the schema (``#...``) and to the bundled JSON Schema
  metaschemas: the validator gets a :class:`referencing.Registry` with no retrieval, so an
  ``http://`` or ``file://`` reference is never fetched or read;
* ``pattern`` and ``patternProperties`` (also where ``additionalProperties`` consults them)
  run under RE2, whose matching is linear in the input, so ``^(a+)+$`` cannot hang a run;
* ``uniqueItems`` compares hashes of the items (linear), not every pair of them.

:func:`schema_problems` finds what would break those rules before any object is linted,
so a bad schema is a clear error at rule load time, not a failure per object.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import lru_cache
from typing import Any

from klint.findings import FieldPath

RE2_MISSING = "needs the google-re2 package for regular expressions (pip install google-re2)"
# Subtrees that hold data, not subschemas.
_DATA_KEYWORDS = frozenset({"const", "enum", "default", "examples"})


class PatternError(ValueError):
    """A regular expression RE2 cannot compile (or RE2 is not installed)."""


@lru_cache(maxsize=512)
def compile_pattern(pattern: str) -> Any:
    """``pattern`` compiled by RE2; raises :class:`PatternError` with the reason."""
    try:
        import re2  # type: ignore[import-untyped]
    except ImportError:  # pragma: no cover - google-re2 is a dependency
        raise PatternError(RE2_MISSING) from None
    options = re2.Options()
    options.log_errors = False
    try:
        return re2.compile(pattern, options)
    except re2.error as error:
        reason = error.args[0] if error.args else error
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        raise PatternError(
            f"{pattern!r} is not a regular expression RE2 accepts ({reason}); "
            "lookaround and backreferences are not supported"
        ) from None


def schema_problems(schema: Any) -> list[tuple[FieldPath, str]]:
    """(path in the schema, why) for each ``$ref``, pattern or keyword klint refuses."""
    problems: list[tuple[FieldPath, str]] = []
    has_pattern_properties = False
    for path, node in _subschemas(schema, ()):
        for keyword in ("$ref", "$dynamicRef"):
            ref = node.get(keyword)
            if isinstance(ref, str) and not _resolvable_offline(ref):
                problems.append(
                    (
                        (*path, keyword),
                        f"{keyword} {ref!r} is not resolved: klint follows only references "
                        "inside the schema ('#...') and the bundled JSON Schema metaschemas, "
                        "and never fetches a URL or reads a file",
                    )
                )
        pattern = node.get("pattern")
        if isinstance(pattern, str):
            problems.extend(_pattern_problem((*path, "pattern"), pattern))
        properties = node.get("patternProperties")
        if isinstance(properties, Mapping):
            has_pattern_properties = True
            for key in properties:
                problems.extend(_pattern_problem((*path, "patternProperties", key), str(key)))
    if has_pattern_properties:
        for path, node in _subschemas(schema, ()):
            if "unevaluatedProperties" in node:
                problems.append(
                    (
                        (*path, "unevaluatedProperties"),
                        "unevaluatedProperties cannot be combined with patternProperties "
                        "in a custom rule (its regexes would not run under RE2)",
                    )
                )
    return problems


def safe_validator(schema: Mapping[str, Any]) -> Any:
    """A draft 2020-12 validator for ``schema`` with RE2 patterns and no retrieval."""
    return _validator_class()(schema, registry=_registry())


def _pattern_problem(path: FieldPath, pattern: str) -> Iterator[tuple[FieldPath, str]]:
    try:
        compile_pattern(pattern)
    except PatternError as error:
        yield path, str(error)


def _subschemas(node: Any, path: FieldPath) -> Iterator[tuple[FieldPath, Mapping[str, Any]]]:
    """Every mapping of the schema with its path, skipping data keywords."""
    if isinstance(node, Mapping):
        yield path, node
        for key, value in node.items():
            if key not in _DATA_KEYWORDS:
                yield from _subschemas(value, (*path, str(key)))
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from _subschemas(item, (*path, index))


def _resolvable_offline(ref: str) -> bool:
    if ref.startswith("#"):
        return True
    document = ref.split("#", 1)[0]
    return document in _registry()


@lru_cache(maxsize=1)
def _registry() -> Any:
    """The bundled metaschemas only; a registry without ``retrieve`` never fetches."""
    from jsonschema_specifications import REGISTRY  # type: ignore[import-untyped]

    return REGISTRY


@lru_cache(maxsize=1)
def _validator_class() -> Any:
    from jsonschema import Draft202012Validator, validators

    return validators.extend(  # type: ignore[no-untyped-call]
        Draft202012Validator,
        {
            "pattern": _pattern,
            "patternProperties": _pattern_properties,
            "additionalProperties": _additional_properties,
            "uniqueItems": _unique_items,
        },
    )


def _pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Iterator[Any]:
    from jsonschema.exceptions import ValidationError

    if validator.is_type(instance, "string") and not compile_pattern(pattern).search(instance):
        yield ValidationError(f"{_short(instance)} does not match {pattern!r}")


def _pattern_properties(
    validator: Any, properties: Mapping[str, Any], instance: Any, schema: Any
) -> Iterator[Any]:
    if not validator.is_type(instance, "object"):
        return
    for pattern, subschema in properties.items():
        compiled = compile_pattern(pattern)
        for key, value in instance.items():
            if compiled.search(key):
                yield from validator.descend(value, subschema, path=key, schema_path=pattern)


def _additional_properties(
    validator: Any, additional: Any, instance: Any, schema: Mapping[str, Any]
) -> Iterator[Any]:
    from jsonschema.exceptions import ValidationError

    if not validator.is_type(instance, "object"):
        return
    known = schema.get("properties", {})
    patterns = [compile_pattern(p) for p in schema.get("patternProperties", {})]
    extras = sorted(
        (
            key
            for key in instance
            if key not in known and not any(pattern.search(key) for pattern in patterns)
        ),
        key=str,
    )
    if validator.is_type(additional, "object"):
        for extra in extras:
            yield from validator.descend(instance[extra], additional, path=extra)
    elif not additional and extras:
        shown = ", ".join(_short(extra) for extra in extras[:5])
        shown += f" and {len(extras) - 5} more" if len(extras) > 5 else ""
        verb = "was" if len(extras) == 1 else "were"
        yield ValidationError(f"Additional properties are not allowed ({shown} {verb} unexpected)")


def _unique_items(validator: Any, unique: Any, instance: Any, schema: Any) -> Iterator[Any]:
    """``uniqueItems`` in linear time: jsonschema compares unsortable items pairwise."""
    from jsonschema.exceptions import ValidationError

    if not unique or not validator.is_type(instance, "array"):
        return
    seen: set[Any] = set()
    for item in instance:
        key = _frozen(item)
        if key in seen:
            yield ValidationError(f"{_short(instance)} has non-unique elements")
            return
        seen.add(key)


def _frozen(value: Any) -> Any:
    """A hashable value equal for items JSON Schema calls equal (``1`` and ``1.0`` are,
    ``true`` and ``1`` are not; object keys in any order)."""
    if isinstance(value, bool) or value is None:
        return ("literal", value)
    if isinstance(value, (int, float)):
        return ("number", value)
    if isinstance(value, str):
        return ("string", value)
    if isinstance(value, list):
        return ("array", tuple(_frozen(item) for item in value))
    if isinstance(value, Mapping):
        return ("object", frozenset((str(k), _frozen(v)) for k, v in value.items()))
    return ("other", repr(value))


def _short(value: Any, limit: int = 80) -> str:
    """``repr`` of a value cut to ``limit`` characters (instances can be megabytes)."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."

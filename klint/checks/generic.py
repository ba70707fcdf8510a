"""Generic checks for custom rules that no built-in check fits.

``json-schema`` matches a JSON Schema (draft 2020-12) against the object, its pod spec or
each container; every failing schema error becomes a violation at the failing field, so
the engine points at the right line. The schema and the ``message`` template come from the
repository, so both are confined (see :mod:`klint.untrusted.schema` and
:mod:`klint.untrusted.template`) and checked when the rule is loaded
(:func:`klint.untrusted.params.params_problems`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from functools import lru_cache
from typing import Any

from klint.checks.base import Check, Params, UnitContext, Violation
from klint.checks.cel_checks import CEL_CHECK
from klint.findings import FieldPath
from klint.model import containers, pod_view
from klint.model.resource import Resource

METASCHEMA = "https://json-schema.org/draft/2020-12/schema"
DEFAULT_MESSAGE = "{target}: {error}."
_MAX_ERROR_TEXT = 300


def json_schema(resource: Resource, _: UnitContext, params: Params) -> Iterator[Violation]:
    """Each place the configured schema fails on the configured target."""
    kinds = params.get("kinds") or ()
    if kinds and resource.kind not in kinds:
        return
    from klint.untrusted.template import render  # custom rules only: not for built-in ones

    validator = _validator(json.dumps(params["schema"], sort_keys=True))
    template = str(params.get("message") or DEFAULT_MESSAGE)
    for instance, base, label in _targets(resource, str(params["target"])):
        seen: set[tuple[FieldPath, str]] = set()
        for error in sorted(validator.iter_errors(instance), key=_error_order):
            path = (*base, *error.absolute_path, *_missing(error))
            text = _clip(str(error.message).rstrip("."))
            if (path, text) in seen:
                continue
            seen.add((path, text))
            message = render(template, {"target": label, "error": text})
            yield Violation(path, message if message.endswith(".") else message + ".")


def _targets(resource: Resource, target: str) -> Iterator[tuple[Any, FieldPath, str]]:
    """(instance, its path in the object, how messages name it) for each target."""
    if target == "object":
        yield resource.data, (), f'{resource.kind or "object"} "{resource.name or "?"}"'
        return
    pod = pod_view(resource)
    if pod is None:
        return
    if target == "pod":
        yield pod.spec, pod.path, "the pod spec"
        return
    for container in containers(pod):
        yield container.data, container.path, container.label


def _missing(error: Any) -> tuple[str, ...]:
    """For ``required``: the first missing property (the engine shows its nearest parent)."""
    if error.validator != "required" or not isinstance(error.instance, Mapping):
        return ()
    for name in error.validator_value:
        if name not in error.instance:
            return (str(name),)
    return ()


def _error_order(error: Any) -> tuple[list[str], str]:
    return [str(part) for part in error.absolute_path], str(error.message)


def _clip(text: str) -> str:
    return text if len(text) <= _MAX_ERROR_TEXT else text[: _MAX_ERROR_TEXT - 3] + "..."


@lru_cache(maxsize=64)
def _validator(schema_text: str) -> Any:
    """The confined validator; a schema with refused parts fails here, not per field."""
    from klint.untrusted.schema import safe_validator, schema_problems

    schema = json.loads(schema_text)
    problems = schema_problems(schema)
    if problems:
        path, why = problems[0]
        raise ValueError(f"schema.{'.'.join(map(str, path))}: {why}")
    return safe_validator(schema)


CHECKS = (
    Check(
        "json-schema",
        json_schema,
        "Custom rules: the object, pod spec or each container must match a JSON Schema.",
        {
            "type": "object",
            "additionalProperties": False,
            "required": ["schema"],
            "properties": {
                "schema": {"$ref": METASCHEMA},
                "target": {"enum": ["object", "pod", "container"]},
                "kinds": {"type": "array", "items": {"type": "string"}, "minItems": 1},
                # Named fields only: {target} and {error}, {{ and }} for braces.
                "message": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": 1000,
                    "pattern": r"^(?:[^{}]|\{\{|\}\}|\{(?:target|error)\})*$",
                },
            },
        },
        {"target": "object"},
    ),
    CEL_CHECK,
)

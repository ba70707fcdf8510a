"""Load-time validation of a custom rule's ``json-schema`` params: template and schema."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from klint.findings import FieldPath
from klint.untrusted.schema import schema_problems
from klint.untrusted.template import template_problem

MESSAGE_FIELDS = ("target", "error")


def params_problems(params: Mapping[str, Any]) -> list[tuple[FieldPath, str]]:
    """(path in params, why) for a message template or schema klint will not run."""
    problems: list[tuple[FieldPath, str]] = []
    message = params.get("message")
    if isinstance(message, str):
        problem = template_problem(message, MESSAGE_FIELDS)
        if problem is not None:
            problems.append((("message",), problem))
    schema = params.get("schema")
    if isinstance(schema, Mapping):
        problems.extend((("schema", *path), why) for path, why in schema_problems(schema))
    return problems

"""Finding messages from custom rules: ``{field}`` substitution, nothing more.

A custom rule's ``message`` is text from the repository being linted. ``str.format`` on it
would reach Python internals (``{target.__class__.__mro__}``) or allocate gigabytes
(``{error:>2000000000}``); here a template may name only the given fields, with ``{{`` and
``}}`` for literal braces, and is checked when the rule is loaded.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping

MAX_LENGTH = 1000
_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]{0,64})\}|[{}]")


class TemplateError(ValueError):
    """A template naming an unknown field or holding a stray brace."""


def template_problem(template: str, fields: Collection[str]) -> str | None:
    """Why ``template`` is not a valid message template for ``fields``, or None."""
    if len(template) > MAX_LENGTH:
        return f"message template is longer than {MAX_LENGTH} characters"
    allowed = ", ".join("{" + name + "}" for name in sorted(fields))
    for match in _TOKEN.finditer(template):
        token = match.group()
        if token in ("{{", "}}"):
            continue
        name = match.group(1)
        if name is None:
            return (
                f"message template has a stray {token!r} at character {match.start() + 1}: "
                "write {{ or }} for a literal brace"
            )
        if name not in fields:
            return (
                f"message template names unknown field {token!r}: only {allowed} can be used "
                "(no attributes, indexes or format specs)"
            )
    return None


def render(template: str, values: Mapping[str, str]) -> str:
    """``template`` with each ``{field}`` replaced; raises :class:`TemplateError` if invalid."""
    problem = template_problem(template, values.keys())
    if problem is not None:
        raise TemplateError(problem)

    def substitute(match: re.Match[str]) -> str:
        token = match.group()
        if token == "{{":
            return "{"
        if token == "}}":
            return "}"
        return values[match.group(1)]

    return _TOKEN.sub(substitute, template)

"""Input that is not Kubernetes: told apart from broken manifests, skipped with a note.

Repositories hold YAML and JSON that no cluster ever sees (``tsconfig.json`` with comments,
``.vscode/settings.json``, CI and tool configuration). Their syntax errors and repeated
keys are no reason to fail a lint run: on every path (a folder walk, named files, stdin,
the editor) such input becomes a ``not-kubernetes`` note, shown with ``--verbose`` only.
"""

from __future__ import annotations

import re

from klint.findings import Notification, Severity

NOT_KUBERNETES = "not-kubernetes"
PART_OF_UNIT = "part-of-unit"  # an editor buffer that is a chart template or overlay patch
SKIPPED = frozenset({NOT_KUBERNETES, PART_OF_UNIT})
# An ``apiVersion`` and a ``kind`` key anywhere in the text (YAML block or flow style, JSON):
# ``kind`` alone is common elsewhere (VS Code's tasks.json: ``"kind": "build"``).
_API_VERSION_KEY = re.compile(r"""(?:^|[\s{,])["']?apiVersion["']?[ \t]*:""", re.M)
_KIND_KEY = re.compile(r"""(?:^|[\s{,])["']?kind["']?[ \t]*:""", re.M)
# A Go template action on a line of its own (``{{- if .Values.x }}``, ``{{ end }}``), or a
# Jinja/Liquid tag (``{% raw %}`` around mkdocs snippets): the text is a template some tool
# renders (gomplate, envsubst-like scripts, a docs site), not YAML yet.
_TEMPLATE_LINE = re.compile(r"^[ \t]*(?:\{\{.*\}\}|\{%.*%\})[ \t]*$", re.M)


def mentions_kubernetes(text: str) -> bool:
    """Whether the text has an ``apiVersion`` and a ``kind`` key, even if broken."""
    return _API_VERSION_KEY.search(text) is not None and _KIND_KEY.search(text) is not None


def is_object(data: object) -> bool:
    """Whether a document's value is a Kubernetes object (a mapping with both keys)."""
    return isinstance(data, dict) and "apiVersion" in data and "kind" in data


def syntax_problem(problem: Notification, text: str) -> Notification:
    """A syntax problem as reported for ``text``: a broken manifest's stays a problem; in
    text that is no manifest, or a template not rendered yet, it becomes a skipped note."""
    line = _TEMPLATE_LINE.search(text)
    if line is not None:
        tags = "{% %} tags" if line.group(0).strip().startswith("{%") else "{{ }} actions"
        where = f"{tags} on their own lines"
    elif _at_action(problem, text):  # ``name: {{ .Release.Name }}-secrets``
        where = "{{ }} actions where the error is"
    else:
        return problem if mentions_kubernetes(text) else skipped(problem)
    return Notification(
        NOT_KUBERNETES,
        f"a template with {where}, not YAML until a tool renders it ({problem.message})",
        problem.location,
        Severity.NOTE,
    )


def _at_action(problem: Notification, text: str) -> bool:
    """Whether the line of a syntax error holds a Go template action (an unquoted one
    breaks YAML there): a template some tool renders, as a chart's templates are."""
    if problem.location is None:
        return False
    number = problem.location.span.start_line
    lines = text.split("\n", number)
    return 1 <= number <= len(lines) and _ACTION.search(lines[number - 1]) is not None


_ACTION = re.compile(r"\{\{.*?\}\}")


def skipped(problem: Notification) -> Notification:
    """The note that replaces a problem of input that is not Kubernetes."""
    reason = problem.message
    if problem.code == "duplicate-key":  # drop "Kubernetes rejects the object": it is none
        reason = reason.split(":")[0]
    return Notification(
        NOT_KUBERNETES,
        f"not a Kubernetes manifest ({reason})",
        problem.location,
        Severity.NOTE,
    )

"""Values a person replaces before applying: a name or a host that holds a placeholder
(``__URL__``, ``${HOST}``, ``$(SA_NAME)``, ``%HOST%``, ``<your-domain>``) fails the API
server's syntax only as committed, in a file someone runs ``sed`` or ``envsubst`` over (or
kustomize replaces a var in) first (``{{ }}`` actions make a template source, said by its
own context). The API-validation checks report
such a value as a note that says so; a value someone meant keeps its error."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace

from klint.checks.base import Check, Params, UnitContext, Violation
from klint.findings import Severity
from klint.model.resource import Resource, dig

_TOKEN = re.compile(
    r"__[A-Za-z0-9]+(?:_[A-Za-z0-9]+)*__"  # __URL__, __CLUSTER_NAME__
    r"|\$\{[A-Za-z_][A-Za-z0-9_.-]*\}"  # ${HOST} (envsubst)
    r"|\$\([A-Za-z_][A-Za-z0-9_.-]*\)"  # $(SA_NAME) (kustomize vars, Makefiles)
    r"|%[A-Z][A-Z0-9_]*%"  # %HOST%
)
_WHOLE = re.compile(r"<[^<>\s][^<>]*>")  # <your-domain>: only as the whole value


def placeholder_in(value: str) -> str | None:
    """The placeholder a value holds, if any."""
    whole = _WHOLE.fullmatch(value.strip())
    if whole is not None:
        return whole.group(0)
    found = _TOKEN.search(value)
    return found.group(0) if found is not None else None


def placeholder_aware(check: Check) -> Check:
    """``check`` with each violation on a value that holds a placeholder as a note."""

    def function(resource: Resource, context: UnitContext, params: Params) -> Iterator[Violation]:
        for violation in check.function(resource, context, params):
            value = dig(resource.data, violation.path)
            token = placeholder_in(value) if isinstance(value, str) else None
            if token is None:
                yield violation
                continue
            yield replace(
                violation,
                message=f"{violation.message.rstrip('.')} (kept as a note: {token} is a "
                "placeholder, replaced before the object is applied; the API server rejects "
                "the value as committed).",
                severity=Severity.NOTE,
                properties=(*violation.properties, ("expected-for", "placeholder")),
            )

    return replace(check, function=function)

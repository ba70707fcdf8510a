"""Helm's version constraints (Masterminds semver), for a dependency's ``version:``.

``1.2.3``, ``=1.2.3``, ``!=1.2.3``, ``>``/``>=``/``<``/``<=``/``=<``, ``~1.2`` (patch
updates), ``~>``, ``^1.2`` (no major change; below 1.0, no minor change), wildcards
(``0.3.*``, ``1.x``, ``*``), hyphen ranges (``1.2 - 1.4.5``), comparisons joined by spaces
or commas (all must hold) and ``||`` (any). A version with a pre-release matches only a
constraint that names one, as Helm's does. Anything else does not parse (None).
"""

from __future__ import annotations

import re

Version = tuple[int, int, int]
_VERSION = re.compile(r"v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?")
_PART = re.compile(r"v?(\d+|[xX*])(?:\.(\d+|[xX*]))?(?:\.(\d+|[xX*]))?(-[0-9A-Za-z.-]+)?")
_ALTERNATIVE = re.compile(
    r"(?:\s*(?:!=|>=|=>|<=|=<|~>|>|<|=|~|\^)?\s*[^\s!<>=~^]+)*\s*|\s*\S+\s+-\s+\S+\s*"
)
_TERM = re.compile(r"\s*(!=|>=|=>|<=|=<|~>|>|<|=|~|\^)?\s*([^\s!<>=~^]+)")


def parse_version(text: str) -> tuple[Version, bool] | None:
    """A chart's version and whether it has a pre-release; None when it is not semver."""
    match = _VERSION.fullmatch(text.strip())
    if match is None:
        return None
    major, minor, patch = (int(part or 0) for part in match.group(1, 2, 3))
    return (major, minor, patch), match.group(4) is not None


def satisfies(version: str, constraint: str) -> bool | None:
    """Whether ``version`` meets ``constraint``; None when either does not parse."""
    parsed = parse_version(version)
    if parsed is None or not constraint.strip():
        return None
    number, prerelease = parsed
    if prerelease and "-" not in constraint.replace(" - ", " "):
        return False
    results = []
    for alternative in constraint.split("||"):
        terms = _terms(alternative)
        if terms is None:
            return None
        results.append(all(_holds(number, op, bound) for op, bound in terms))
    return any(results)


def _terms(text: str) -> list[tuple[str, Version]] | None:
    """The comparisons of one alternative, each as (operator, version)."""
    if _ALTERNATIVE.fullmatch(text) is None:
        return None
    hyphen = re.fullmatch(r"\s*(\S+)\s+-\s+(\S+)\s*", text)
    if hyphen is not None:
        low, high = _bounds(hyphen.group(1)), _bounds(hyphen.group(2))
        if low is None or high is None:
            return None
        return [(">=", low[0]), *([("<", high[1])] if high[1] is not None else [])]
    terms: list[tuple[str, Version]] = []
    for match in _TERM.finditer(text.replace(",", " ")):
        op, operand = match.group(1) or "=", match.group(2)
        expanded = _expand(op, operand)
        if expanded is None:
            return None
        terms += expanded
    return terms if terms or text.strip() in ("", "*") else None


def _bounds(operand: str) -> tuple[Version, Version | None] | None:
    """The lowest version a (possibly partial or wildcard) operand allows and the first
    above it (None: unbounded)."""
    match = _PART.fullmatch(operand)
    if match is None:
        return None
    fixed: list[int] = []  # the parts before the first wildcard or missing one
    for part in match.group(1, 2, 3):
        if not isinstance(part, str) or part in ("x", "X", "*"):
            break
        fixed.append(int(part))
    low = (*fixed, *([0] * (3 - len(fixed))))
    if not fixed:
        return (0, 0, 0), None
    if len(fixed) == 3:
        return (low[0], low[1], low[2]), (low[0], low[1], low[2] + 1)
    high = [*fixed[:-1], fixed[-1] + 1] + [0] * (3 - len(fixed))
    return (low[0], low[1], low[2]), (high[0], high[1], high[2])


def _expand(op: str, operand: str) -> list[tuple[str, Version]] | None:
    bounds = _bounds(operand)
    if bounds is None:
        return None
    low, above = bounds
    if op in ("=>", ">="):
        return [(">=", low)]
    if op == "=":
        return [(">=", low), *([("<", above)] if above is not None else [])]
    if op == "!=":
        return [("!=", low)] if above == (low[0], low[1], low[2] + 1) else None
    if op == ">":
        return [(">=", above)] if above is not None else [("<", (0, 0, 0))]
    if op == "<":
        return [("<", low)]
    if op in ("<=", "=<"):
        return [("<", above)] if above is not None else []
    if op in ("~", "~>"):
        fixed = len(operand.lstrip("v").split("."))
        top = (low[0] + 1, 0, 0) if fixed == 1 else (low[0], low[1] + 1, 0)
        return [(">=", low), ("<", top)]
    # ^: no change to the left-most non-zero part
    if low[0] > 0 or "." not in operand:
        top = (low[0] + 1, 0, 0)
    elif low[1] > 0 or operand.count(".") == 1:
        top = (0, low[1] + 1, 0)
    else:
        top = (0, 0, low[2] + 1)
    return [(">=", low), ("<", top)]


def _holds(version: Version, op: str, bound: Version) -> bool:
    if op == ">=":
        return version >= bound
    if op == "<":
        return version < bound
    return version != bound  # "!="

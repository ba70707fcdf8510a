"""Kubernetes resource quantities (``500m``, ``1Gi``, ``1e3``) parsed exactly.

The grammar is apimachinery's ``resource.ParseQuantity``: an optional sign, a decimal
number, then a binary suffix (Ki..Ei), a decimal suffix (n, u, m, k, M..E) or a decimal
exponent (``e3``, ``E-2``). Values are exact :class:`~fractions.Fraction` numbers, so
comparisons (requests above limits, the CEL quantity library) never round.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fractions import Fraction

_BINARY = {"Ki": 1, "Mi": 2, "Gi": 3, "Ti": 4, "Pi": 5, "Ei": 6}
_DECIMAL = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_PATTERN = re.compile(
    r"(?P<number>[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))"
    r"(?P<suffix>Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?[0-9]+)?"
)


class QuantityError(ValueError):
    """A text that is not a Kubernetes quantity."""


def parse_quantity(text: object) -> Fraction:
    """The exact value of a quantity given as a string or a YAML number."""
    from fractions import Fraction

    if isinstance(text, bool):
        raise QuantityError(f"quantities must match the regular expression: {text!r}")
    if isinstance(text, int):
        return Fraction(text)
    if isinstance(text, float):
        if text != text or abs(text) == float("inf"):
            return _bad(text)
        return Fraction(repr(text))
    if not isinstance(text, str) or len(text) > 100:
        return _bad(text)
    match = _PATTERN.fullmatch(text)
    if match is None:
        return _bad(text)
    number = Fraction(match.group("number"))
    suffix = match.group("suffix") or ""
    if suffix in _BINARY:
        return number * Fraction(1024) ** _BINARY[suffix]
    if suffix in _DECIMAL:
        return number * Fraction(10) ** _DECIMAL[suffix]
    exponent = int(suffix[1:])
    if abs(exponent) > 1000:
        return _bad(text)
    return number * Fraction(10) ** exponent


def parse_field_quantity(value: object) -> Fraction:
    """A quantity field as the API server decodes it: ``Quantity.UnmarshalJSON`` trims
    surrounding whitespace before parsing (apimachinery's ``TestJSONWhitespace``: ``" 1"``
    is 1). CEL's ``quantity()`` does not trim; it uses :func:`parse_quantity`."""
    return parse_quantity(value.strip() if isinstance(value, str) else value)


def is_quantity(text: object) -> bool:
    """Whether ``text`` parses as a quantity."""
    try:
        parse_quantity(text)
    except QuantityError:
        return False
    return True


def _bad(text: object) -> Fraction:
    raise QuantityError(
        f"quantities must match the regular expression "
        f"'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$': {text!r}"
    )

"""One unit's results as JSON and back, for the result cache (never pickle).

Only the value types of :mod:`klint.findings` are rebuilt; anything else in an entry makes
it unreadable (:class:`CodecError`), so a damaged entry is linted again, never half-used.
"""

from __future__ import annotations

import dataclasses
import enum
from typing import Any

from klint.engine import UnitResult
from klint.findings import (
    Applicability,
    Finding,
    Fix,
    Location,
    Notification,
    ObjectRef,
    RelatedLocation,
    Severity,
    Span,
    Suppression,
    TextEdit,
)

_CLASSES: dict[str, type[Any]] = {
    cls.__name__: cls
    for cls in (
        Finding,
        Fix,
        Location,
        Notification,
        ObjectRef,
        RelatedLocation,
        Span,
        Suppression,
        TextEdit,
    )
}
_ENUMS: dict[str, type[enum.Enum]] = {"Severity": Severity, "Applicability": Applicability}


class CodecError(Exception):
    """An entry that does not decode to unit results."""


def encode_result(result: UnitResult) -> dict[str, Any]:
    """A JSON-ready mapping of one unit's results."""
    return {
        "findings": [_encode(f) for f in result.findings],
        "notifications": [_encode(n) for n in result.notifications],
        "skipped": [_encode(n) for n in result.skipped],
        "files": result.files,
        "objects": result.objects,
    }


def decode_result(data: Any) -> UnitResult:
    """The unit results :func:`encode_result` wrote; :class:`CodecError` when malformed."""
    try:
        result = UnitResult(
            findings=[_decode(f) for f in data["findings"]],
            notifications=[_decode(n) for n in data["notifications"]],
            skipped=[_decode(n) for n in data["skipped"]],
            files=int(data["files"]),
            objects=int(data["objects"]),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise CodecError(str(error)) from None
    for value, cls in [(f, Finding) for f in result.findings] + [
        (n, Notification) for n in [*result.notifications, *result.skipped]
    ]:
        if not isinstance(value, cls):
            raise CodecError(f"expected {cls.__name__}")
    return result


def _encode(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return {"@e": type(value).__name__, "v": value.value}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        name = type(value).__name__
        if _CLASSES.get(name) is not type(value):
            raise CodecError(f"cannot cache a {name}")
        fields = {f.name: _encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return {"@c": name, "f": fields}
    if isinstance(value, tuple):
        return {"@t": [_encode(item) for item in value]}
    if isinstance(value, list):
        return [_encode(item) for item in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise CodecError(f"cannot cache a {type(value).__name__}")


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if "@t" in value:
            return tuple(_decode(item) for item in value["@t"])
        if "@e" in value:
            return _ENUMS[value["@e"]](value["v"])
        cls = _CLASSES[value["@c"]]
        return cls(**{str(k): _decode(v) for k, v in value["f"].items()})
    if isinstance(value, list):
        return [_decode(item) for item in value]
    return value

"""Values schemas that cannot reach out: references are checked in the chart's copy before Helm.

Helm validates values against each chart's ``values.schema.json`` with a JSON Schema
library that loads ``$ref`` and ``$schema`` targets: ``http://…`` is fetched, ``file:///…``,
absolute and ``../`` paths are read, and what they hold can come back in the error. So
before Helm runs, every schema of the chart and of its subcharts (directories and packed
``charts/*.tgz``, nested ones too: copy_rewrite.py) in klint's copy is checked:

- a ``$ref``, ``$dynamicRef`` or ``$recursiveRef`` that is not ``#…`` (within the file)
  leaves the schema out of the copy (an empty schema: values are not validated, as Helm's
  ``--skip-schema-validation``); the target is never read, and the chart's unit reports it
  (:func:`remote_reference`, a warning on that line);
- a ``$schema`` that is not a JSON Schema metaschema, and an ``$id`` that is not ``#…``,
  are removed from the copy (they only name the draft and the base of references; the
  library bundles the metaschemas).

This holds whether or not the render child has a network namespace.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from klint.sources.helm.copy_rewrite import FileRewrite
from klint.sources.helm.output import HelmRenderError

SCHEMA_FILE = "values.schema.json"
_REFERENCES = ("$ref", "$dynamicRef", "$recursiveRef")
_METASCHEMA = re.compile(
    r"https?://json-schema\.org/(?:draft-0[3467]/schema|draft/20(?:19-09|20-12)/schema)#?"
)
_SHOWN = 80


class _Refused(Exception):
    def __init__(self, key: str, pointer: str, value: str) -> None:
        super().__init__(key)
        self.key, self.pointer, self.value = key, pointer, value


@dataclass(frozen=True)
class RemoteReference:
    """The first reference of a schema that leads out of its file."""

    key: str
    pointer: str
    value: str

    def describe(self) -> str:
        """The reference as shown in messages (a long target shortened)."""
        value = self.value if len(self.value) <= _SHOWN else self.value[:_SHOWN] + "…"
        return f"{json.dumps(self.key)} at {self.pointer or '/'} refers to {value!r}"


def remote_reference(data: bytes) -> RemoteReference | None:
    """The first reference out of the schema ``data`` (None: none, or not JSON klint reads:
    the render then refuses it)."""
    try:
        _clean(_parse(data, ""), "")
    except _Refused as refused:
        return RemoteReference(refused.key, refused.pointer, refused.value)
    except (HelmRenderError, RecursionError):
        return None
    return None


def _parse(data: bytes, shown: str) -> Any:
    try:  # Go reads invalid UTF-8 as U+FFFD: so does this, or a stray byte would hide a $ref
        document = json.loads(data.decode("utf-8", "replace"), object_pairs_hook=_Pairs)
    except (ValueError, RecursionError) as error:
        detail = error.msg if isinstance(error, json.JSONDecodeError) else "nested too deeply"
        raise HelmRenderError(f"{shown}: not JSON klint can check ({detail})") from None
    return document


def _rewrite(data: bytes, shown: str) -> bytes | None:
    """The schema without ``$schema``/``$id`` that lead elsewhere (None: unchanged); an
    empty schema when a reference leads out of the file (never fetched nor read)."""
    document = _parse(data, shown)
    try:
        changed, cleaned = _clean(document, "")
    except _Refused:
        return b"{}"
    except RecursionError:
        raise HelmRenderError(f"{shown}: the values schema is nested too deeply") from None
    return json.dumps(cleaned).encode() if changed else None


class _Pairs(list[tuple[str, Any]]):
    """A JSON object as all of its pairs: a duplicated key is checked in every copy."""


def _clean(node: Any, pointer: str) -> tuple[bool, Any]:
    if isinstance(node, list) and not isinstance(node, _Pairs):
        changed = False
        items = []
        for index, item in enumerate(node):
            item_changed, item = _clean(item, f"{pointer}/{index}")
            changed |= item_changed
            items.append(item)
        return changed, items
    if not isinstance(node, _Pairs):
        return False, node  # a scalar
    changed = False
    cleaned: dict[str, Any] = {}
    for key, value in node:
        here = f"{pointer}/{key.replace('~', '~0').replace('/', '~1')}"
        if key in _REFERENCES and isinstance(value, str) and not value.startswith("#"):
            raise _Refused(key, pointer, value)
        if key == "$schema" and isinstance(value, str) and not _METASCHEMA.fullmatch(value):
            changed = True
            continue
        if key == "$id" and isinstance(value, str) and not value.startswith("#"):
            changed = True
            continue
        value_changed, cleaned[key] = _clean(value, here)
        changed |= value_changed
    return changed or len(cleaned) != len(node), cleaned


# the values schema of each chart of the copy (rewritten by copy_rewrite.py)
SCHEMAS = FileRewrite(lambda parts: parts == (SCHEMA_FILE,), _rewrite)

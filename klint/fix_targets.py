"""Where a fix lands when the finding is not in a plain manifest.

Kustomize findings point at the base or patch file that set the field: their plans (made on
the built object) are written into that file as text edits, list items matched by their
merge key (a container's name). Helm charts are never rewritten: their plans become advice
that names the values.yaml line where the template reads the field from values.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from klint.catalog import Rule
from klint.documents import Document, decode, parse_stream
from klint.edits import NoEdit, fix_from_plan
from klint.findings import Finding, Fix
from klint.fixes import Edit, FixPlan, dotted, plan_for
from klint.model.resource import Resource
from klint.sources.confine import OutsideRoot, confine, repository_root

_MERGE_KEYS = {
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "volumes": "name",
    "env": "name",
    "ports": "containerPort",
}


@dataclass
class Collected:
    """An unsuppressed finding with its fix, the object it was reported on and its source."""

    finding: Finding
    obj: Mapping[str, Any]
    source: str  # "manifest", "kustomize", "helm" or "stdin"
    fix: Fix | None = None
    resource: Resource | None = None
    locator: Any = None


# --- Kustomize: write the plan into the base or patch file ---------------------------


def kustomize_fix(item: Collected, rule: Rule, cwd: Path) -> tuple[Fix | None, str, bool]:
    """The plan of a built object's finding as edits of the file its location names.

    Returns the fix, else the advice to print, and whether the plan spans files: after the
    other fixes are written and the overlay rebuilt, its plan is simpler (the next round).
    """
    plan = plan_for(rule, item.obj, item.finding.field_path)
    if plan is None:
        return None, "", False
    later = False
    try:
        files = {_edit_file(item, edit) for edit in plan.edits}
        if files != {item.finding.location.path}:
            later = True
            raise NoEdit("its changes belong in different files (fix the others first)")
        document, base, obj = _target_object(item, cwd)
        edits = tuple(
            Edit(edit.op, _translate(edit.path, item.obj, obj), edit.value) for edit in plan.edits
        )
        return fix_from_plan(rule, FixPlan(edits, plan.overrides), document, base), "", False
    except NoEdit as reason:
        change = "; ".join(_named(edit, item.obj) for edit in plan.edits)
        advice = (
            f"{where(item.finding)}: {item.finding.rule_id}: {change} — not fixed "
            f"automatically: {reason}"
        )
        return None, advice, later


def _edit_file(item: Collected, edit: Edit) -> str:
    """The file the overlay's locator names for ``edit``'s field (or its nearest parent)."""
    if item.resource is None or item.locator is None:
        return item.finding.location.path
    location, _ = item.locator.locate(item.resource, edit.path)
    return str(location.path)


def _target_object(item: Collected, cwd: Path) -> tuple[Document, tuple[str | int, ...], Any]:
    """The document of the finding's file holding its line, the object's base and data."""
    path = cwd / item.finding.location.path
    try:
        text, _ = decode(confine(path, repository_root(path)).read_bytes(), str(path))
    except (OSError, OutsideRoot) as error:
        raise NoEdit(f"cannot read {item.finding.location.path}: {error}") from None
    if text is None:
        raise NoEdit("the file is not text")
    line = item.finding.location.span.start_line - 1
    documents = parse_stream(text, item.finding.location.path).documents
    chosen = [d for d in documents if d.root.start_mark.line + d.line_offset <= line]
    if not chosen or not isinstance(chosen[-1].data, dict):
        raise NoEdit("the document is not a mapping (a JSON patch?): edit it by hand")
    document = chosen[-1]
    data = document.data
    items = data.get("items")
    if str(data.get("kind", "")).endswith("List") and isinstance(items, list):
        nodes = document.root.value
        seq = next((v for k, v in nodes if getattr(k, "value", None) == "items"), None)
        starts = [n.start_mark.line for n in getattr(seq, "value", [])]
        index = max((i for i, s in enumerate(starts) if s <= line), default=None)
        if index is None or not isinstance(items[index], dict):
            raise NoEdit("no List item at the finding's line")
        return document, ("items", index), items[index]
    ref = item.finding.object_ref
    if ref is not None and ref.kind and data.get("kind") not in (None, ref.kind):
        raise NoEdit(f"the document at this line is a {data.get('kind')}, not a {ref.kind}")
    return document, (), data


def _translate(path: Sequence[str | int], built: Any, obj: Any) -> tuple[str | int, ...]:
    """A built object's path in the file's object: list items matched by merge key."""
    result: list[str | int] = []
    for depth, step in enumerate(path):
        if isinstance(step, int):
            key = _MERGE_KEYS.get(str(path[depth - 1])) if depth else None
            built_items = _dig(built, path[:depth])
            file_items = _dig(obj, result)
            if key is None or not isinstance(built_items, list) or step >= len(built_items):
                raise NoEdit(f"cannot match {dotted(path[: depth + 1])} to an item of this file")
            wanted = built_items[step].get(key) if isinstance(built_items[step], dict) else None
            matches = [
                i
                for i, entry in enumerate(file_items if isinstance(file_items, list) else [])
                if isinstance(entry, dict) and wanted is not None and entry.get(key) == wanted
            ]
            if not matches:
                raise NoEdit(f"{dotted(path[:depth])} item {key}={wanted} is not in this file")
            result.append(matches[0])
        else:
            result.append(step)
    return tuple(result)


def _dig(value: Any, path: Sequence[str | int]) -> Any:
    for step in path:
        if isinstance(step, str) and isinstance(value, Mapping):
            value = value.get(step)
        elif isinstance(step, int) and isinstance(value, list) and 0 <= step < len(value):
            value = value[step]
        else:
            return None
    return value


# --- advice ---------------------------------------------------------------------------


def advice(item: Collected, plan: FixPlan, cwd: Path) -> str:
    """The change to make by hand for a Helm chart's (or stdin's) finding."""
    head = f"{where(item.finding)}: {item.finding.rule_id}"
    if item.source == "stdin":
        return f"{head}: {plan.describe()}"
    return f"{head}: {_helm_advice(item, plan, cwd)}"


def where(finding: Finding) -> str:
    """``path:line:column`` of a finding."""
    span = finding.location.span
    return f"{finding.location.path}:{span.start_line}:{span.start_column}"


def _helm_advice(item: Collected, plan: FixPlan, cwd: Path) -> str:
    """The change to make in a chart: in values.yaml where the template reads it from there."""
    changes = []
    for edit in plan.edits:
        hint = None
        parent = item.finding.field_path[:-1]
        if edit.path[: len(parent)] == parent:  # the field or one next to it
            hint = next(
                (h for r in item.finding.related if (h := _values_hint(edit, r.location, cwd))),
                None,
            )
        changes.append(hint or f"{_named(edit, item.obj)} (in this template)")
    return "; ".join(changes) + " — klint does not rewrite Helm charts"


def _values_hint(edit: Edit, where: Any, cwd: Path) -> str | None:
    """``in values.yaml:8 under securityContext: set allowPrivilegeEscalation: false``."""
    path = cwd / where.path
    try:
        text, _ = decode(confine(path, repository_root(path)).read_bytes(), where.path)
    except (OSError, OutsideRoot):
        return None
    if text is None:
        return None
    keys: dict[int, tuple[str | int, ...]] = {}
    for document in parse_stream(text, where.path).documents:
        _keys_by_line(document.root, (), document.line_offset, keys)
    key_path = keys.get(where.span.start_line - 1)
    if not key_path or key_path[-1] not in edit.path:
        return None
    at = len(edit.path) - 1 - edit.path[::-1].index(key_path[-1])
    rest = Edit(edit.op, edit.path[at + 1 :], edit.value) if at + 1 < len(edit.path) else None
    if rest is None:
        change = Edit(edit.op, key_path, edit.value).describe()
        return f"in {where.path}:{where.span.start_line}: {change}"
    return f"in {where.path}:{where.span.start_line} under {dotted(key_path)}: {rest.describe()}"


def _keys_by_line(
    node: yaml.Node, path: tuple[str | int, ...], offset: int, found: dict[int, Any]
) -> None:
    """0-based line → key path of every mapping key (the first key on a line wins)."""
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            child = (*path, str(key.value))
            found.setdefault(key.start_mark.line + offset, child)
            _keys_by_line(value, child, offset, found)


def _named(edit: Edit, obj: Mapping[str, Any]) -> str:
    """An edit described with container names instead of indices where there are names."""
    text = ""
    for depth, step in enumerate(edit.path):
        if isinstance(step, int):
            item = _dig(obj, edit.path[: depth + 1])
            name = item.get("name") if isinstance(item, Mapping) else None
            text += f"[name={name}]" if isinstance(name, str) else f"[{step}]"
        else:
            text += f".{step}" if text else step
    described = edit.describe()
    return described.replace(dotted(edit.path), text, 1)

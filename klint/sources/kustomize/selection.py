"""Which patches of the replay select an object (kustomize's target and name matching)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from klint.sources.kustomize.edits import Edit, JsonEdit, SmpEdit
from klint.sources.kustomize.files import (
    as_mapping,
    join_entry,
)
from klint.sources.kustomize.replay import (
    Patch,
)


def patch_kustomizations(transformations: Any, build_dir: Path) -> set[str] | None:
    """Kustomization files whose patch transformers ran over an object (None: not recorded)."""
    if not isinstance(transformations, list):
        return None
    found: set[str] = set()
    for item in transformations:
        if isinstance(item, dict) and isinstance(item.get("configuredIn"), str):
            configured_by = item.get("configuredBy")
            kind = configured_by.get("kind") if isinstance(configured_by, dict) else None
            if isinstance(kind, str) and "Patch" in kind:
                found.add(join_entry(str(build_dir), item["configuredIn"]))
    return found


def select_edits(
    event: Patch,
    kind: str,
    api_version: str,
    names: list[str],
    namespaces: set[str],
    data: Mapping[str, Any],
) -> list[Edit]:
    """The parts of a patch that apply to an object."""
    source = event.source
    if event.target is not None and not _target_selects(
        event.target, kind, api_version, names, namespaces, data
    ):
        return []
    edits: list[Edit] = []
    if source.is_json:
        if event.target is None:
            return []
        document = source.documents[0]
        for index, operation in enumerate(document.data):
            if isinstance(operation, dict) and isinstance(operation.get("path"), str):
                edits.append(
                    JsonEdit(
                        source,
                        document,
                        index,
                        str(operation.get("op")),
                        json_pointer(operation["path"]),
                        operation.get("value"),
                    )
                )
        return edits
    for document in source.documents:
        patch = document.data
        if not isinstance(patch, dict):
            continue
        if event.target is None:
            metadata = as_mapping(patch.get("metadata"))
            if patch.get("kind") != kind or metadata.get("name") not in names:
                continue
            if metadata.get("namespace") and metadata.get("namespace") not in namespaces:
                continue
        edits.append(SmpEdit(source, document))
    return edits


def _target_selects(
    target: Mapping[str, Any],
    kind: str,
    api_version: str,
    names: list[str],
    namespaces: set[str],
    data: Mapping[str, Any],
) -> bool:
    """kustomize's patch ``target`` selector (kind, name, namespace are anchored regexes)."""
    group, _, version = api_version.rpartition("/")
    if target.get("group") not in (None, group) or target.get("version") not in (None, version):
        return False
    if not _regex_any(target.get("kind"), [kind]) or not _regex_any(target.get("name"), names):
        return False
    if not _regex_any(target.get("namespace"), sorted(namespaces)):
        return False
    metadata = as_mapping(data.get("metadata"))
    for selector, values in (("labelSelector", "labels"), ("annotationSelector", "annotations")):
        wanted = target.get(selector)
        present = as_mapping(metadata.get(values))
        if isinstance(wanted, str) and not _selector_matches(wanted, present):
            return False
    return True


def _regex_any(pattern: Any, values: Sequence[str]) -> bool:
    if pattern is None or pattern == "":
        return True
    text = str(pattern)
    try:
        compiled = re.compile(text)
    except re.error:
        return text in values
    return any(compiled.fullmatch(value) for value in values)


def _selector_matches(selector: str, labels: Mapping[str, Any]) -> bool:
    """A Kubernetes label selector (equality- and set-based) against ``labels``."""
    for requirement in re.split(r",(?![^(]*\))", selector):
        requirement = requirement.strip()
        if not requirement:
            continue
        match = re.fullmatch(r"(\S+)\s+(in|notin)\s+\((.*)\)", requirement)
        if match is not None:
            key, operator, values = match.groups()
            options = {value.strip() for value in values.split(",")}
            inside = key in labels and str(labels[key]) in options
            if inside != (operator == "in"):
                return False
            continue
        match = re.fullmatch(r"([^!=\s]+)\s*(==|=|!=)\s*(\S*)", requirement)
        if match is not None:
            key, operator, value = match.groups()
            equal = key in labels and str(labels[key]) == value
            if equal != (operator != "!="):
                return False
            continue
        if requirement.startswith("!"):
            if requirement[1:].strip() in labels:
                return False
        elif requirement not in labels:
            return False
    return True


def json_pointer(path: str) -> tuple[str, ...]:
    """JSON pointer → tokens."""
    if not path.startswith("/"):
        return ()
    return tuple(token.replace("~1", "/").replace("~0", "~") for token in path[1:].split("/"))

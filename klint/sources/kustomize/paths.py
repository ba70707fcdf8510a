"""Walking built object data and YAML nodes by field path, matching list items by merge key."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import yaml

MERGE_KEYS = {
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "volumes": "name",
    "env": "name",
    "imagePullSecrets": "name",
    "resourceClaims": "name",
    "volumeMounts": "mountPath",
    "volumeDevices": "devicePath",
    "hostAliases": "ip",
    "topologySpreadConstraints": "topologyKey",
}


def node_at(root: yaml.Node, path: Sequence[str | int]) -> yaml.Node | None:
    pair = pair_at(root, path)
    return pair[1] if pair is not None else (root if not path else None)


def pair_at(root: yaml.Node, path: Sequence[str | int]) -> tuple[yaml.Node, yaml.Node] | None:
    """(key or item node, value node) at ``path``; None when a step is missing."""
    node = root
    key: yaml.Node = root
    for step in path:
        if isinstance(node, yaml.MappingNode) and isinstance(step, str):
            for key_node, value in reversed(node.value):
                if isinstance(key_node, yaml.ScalarNode) and key_node.value == step:
                    key, node = key_node, value
                    break
            else:
                return None
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int):
            if not 0 <= step < len(node.value):
                return None
            node = node.value[step]
            key = node
        else:
            return None
    return (key, node) if path else None


def child_of(node: Any, step: str | int) -> Any:
    if isinstance(step, int):
        return list_item(node, step)
    return node.get(step) if isinstance(node, dict) else None


def list_item(node: Any, index: int) -> Any:
    if isinstance(node, list) and 0 <= index < len(node):
        return node[index]
    return None


def value_at(data: Any, path: Sequence[str | int]) -> Any:
    node = data
    for step in path:
        node = child_of(node, step)
        if node is None:
            return None
    return node


def existing_depth(data: Any, path: Sequence[str | int]) -> int:
    node = data
    for depth, step in enumerate(path):
        if isinstance(step, int):
            if not (isinstance(node, list) and 0 <= step < len(node)):
                return depth
            node = node[step]
        else:
            if not (isinstance(node, dict) and step in node):
                return depth
            node = node[step]
    return len(path)


def merge_key(element: Any) -> str | None:
    if not isinstance(element, dict):
        return None
    for key in ("name", "mountPath", "devicePath", "containerPort", "ip", "topologyKey"):
        if key in element:
            return key
    return None


def translate_path(
    built: Any, target: Any, path: Sequence[str | int]
) -> tuple[list[str | int], bool]:
    """Follow ``path`` (a path in ``built``) through ``target``, matching list items by key.

    Returns the path in ``target`` as far as it goes and whether it went all the way.
    """
    out: list[str | int] = []
    parent_key: str | int | None = None
    for step in path:
        if isinstance(step, str):
            if not isinstance(target, dict) or step not in target:
                return out, False
            target = target[step]
            built = built.get(step) if isinstance(built, dict) else None
        else:
            if not isinstance(target, list):
                return out, False
            element = list_item(built, step)
            key = MERGE_KEYS.get(parent_key) if isinstance(parent_key, str) else None
            if key is None or not isinstance(element, dict) or key not in element:
                key = merge_key(element)
            if key is not None:
                matches = [
                    index
                    for index, item in enumerate(target)
                    if isinstance(item, dict) and item.get(key) == element[key]
                ]
                if not matches:
                    return out, False
                step_out = matches[0]
            elif 0 <= step < len(target) and target[step] == element:
                step_out = step
            elif element is not None and element in target:
                step_out = target.index(element)  # shifted by an insertion
            elif 0 <= step < len(target):
                step_out = step
            else:
                return out, False
            target = target[step_out]
            built = element
            out.append(step_out)
            parent_key = step
            continue
        out.append(step)
        parent_key = step
    return out, True

"""What a builtin plugin config (``generators:``/``transformers:``/``validators:``) reads.

A kustomization may name plugin config files (or hold them inline); kustomize's builtin
plugins then load the files those configs name, relative to the kustomization, and fetch
``http(s)://`` ones: ``SecretGenerator``/``ConfigMapGenerator`` ``files``/``envs``,
``PatchTransformer`` and ``PatchJson6902Transformer`` ``path``,
``PatchStrategicMergeTransformer`` ``paths``, ``ReplacementTransformer``
``replacements[].path``, ``HelmChartInflationGenerator`` ``valuesFile``, … Every string
under such a key, at any depth, is a reference the tree scan confines like a kustomization
field.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import yaml

try:
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

PATH_KEYS = frozenset(
    {
        "path",
        "paths",
        "files",
        "envs",
        "env",
        "valuesFile",
        "valuesFiles",
        "additionalValuesFiles",
        "chartHome",
        "repo",
    }
)
_MAX_DOCUMENTS = 1000


def config_references(text: str) -> Iterator[str]:
    """The path or URL strings a plugin config (YAML, possibly several documents) names;
    ``key=path`` entries of ``files`` give their path. Unparsable text names nothing (the
    tool refuses it itself)."""
    try:
        documents = list(yaml.load_all(text, Loader=_Loader))[:_MAX_DOCUMENTS]
    except (yaml.YAMLError, RecursionError):
        return
    for document in documents:
        if isinstance(document, dict):
            yield from _under_path_keys(document, inside=False, depth=0)


def _under_path_keys(node: Any, inside: bool, depth: int) -> Iterator[str]:
    if depth > 64:
        return
    if isinstance(node, str):
        if inside:
            yield node.split("=", 1)[1] if "=" in node and "://" not in node else node
    elif isinstance(node, list):
        for item in node:
            yield from _under_path_keys(item, inside, depth + 1)
    elif isinstance(node, dict):
        for key, value in node.items():
            if key in ("metadata", "apiVersion", "kind"):
                continue
            yield from _under_path_keys(value, inside or key in PATH_KEYS, depth + 1)

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
_MAX_NODES = 100_000


class UnreadableConfig(ValueError):
    """A plugin config klint cannot scan: the build is refused rather than run unscanned."""


def config_references(text: str) -> list[str]:
    """The path or URL strings a plugin config (YAML, possibly several documents) names;
    ``key=path`` entries of ``files`` give their path. Text that does not parse, or that
    holds more than 100,000 values (aliases counted as expanded), raises
    :class:`UnreadableConfig`: kustomize's parser might still read it."""
    found: list[str] = []
    budget = [_MAX_NODES]
    try:
        for document in yaml.load_all(text, Loader=_Loader):
            if isinstance(document, dict):
                _under_path_keys(document, False, 0, found, budget)
    except (yaml.YAMLError, RecursionError) as error:
        raise UnreadableConfig("is not YAML klint can read") from error
    return found


def _under_path_keys(
    node: Any, inside: bool, depth: int, found: list[str], budget: list[int]
) -> None:
    budget[0] -= 1
    if budget[0] < 0 or depth > 64:
        raise UnreadableConfig("holds more values or levels than klint scans")
    if isinstance(node, str):
        if inside:
            found.append(node.split("=", 1)[1] if "=" in node and "://" not in node else node)
    elif isinstance(node, list):
        for item in node:
            _under_path_keys(item, inside, depth + 1, found, budget)
    elif isinstance(node, dict):
        for key, value in node.items():
            if key not in ("metadata", "apiVersion", "kind"):
                _under_path_keys(value, inside or key in PATH_KEYS, depth + 1, found, budget)

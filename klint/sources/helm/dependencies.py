"""Chart dependencies that are not vendored: disabled ones are left out, enabled ones reported.

Offline there is nothing to download. Helm's own render checks every declared dependency
against ``charts/`` whatever its ``condition``, so a chart whose missing dependencies are all
disabled by default (``redis-ha.enabled: false``) would not render at all. klint evaluates
each dependency's ``condition`` and ``tags`` against the merged values, as Helm does, and
renders a copy whose ``Chart.yaml`` no longer declares the missing ones (the user's files are
never edited). An enabled dependency that is missing is reported on its entry in
``Chart.yaml``; the parent's own templates are still rendered and linted.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from klint.sources.helm.backends import merge_values
from klint.sources.helm.chart_files import read_text, read_yaml_mapping


@dataclass(frozen=True)
class MissingDependency:
    """A declared dependency with no chart under ``charts/``.

    ``name`` is as :func:`~klint.sources.helm.chart_files.missing_dependencies` spells it
    (``dep``, ``sub/dep`` for a subchart's), ``line`` its entry in ``file`` (1-based), and
    ``enabled`` whether the values turn it on (its templates are then not linted), and
    ``alias`` the entry's alias, if any (two entries may name the same chart).
    """

    name: str
    file: Path
    line: int
    enabled: bool
    reason: str
    alias: str | None = None

    @property
    def shown(self) -> str:
        """The dependency as a user finds it in ``Chart.yaml``: name, and alias when set."""
        return f"{self.name} (alias {self.alias})" if self.alias else self.name


def plan_missing(
    chart_dir: Path, missing: Sequence[str], values: Mapping[str, Any]
) -> list[MissingDependency]:
    """Describe each missing dependency of ``chart_dir`` under the merged ``values``."""
    result: list[MissingDependency] = []
    seen: dict[str, int] = {}
    for name in missing:
        occurrence = seen[name] = seen.get(name, -1) + 1
        *parents, own = name.split("/")
        directory, scope = chart_dir, dict(values)
        for parent in parents:
            directory = directory / "charts" / parent
            scope = merge_values(
                read_yaml_mapping(directory / "values.yaml"), _mapping(scope, parent)
            )
        file, line, entry = _entry(directory, own, occurrence)
        enabled, reason = dependency_enabled(entry, scope)
        alias = entry.get("alias")
        shown_alias = str(alias) if isinstance(alias, str) and alias else None
        result.append(MissingDependency(name, file, line, enabled, reason, shown_alias))
    return result


def dependency_enabled(entry: Mapping[str, Any], values: Mapping[str, Any]) -> tuple[bool, str]:
    """Whether Helm would render a dependency, and why (Helm's ``ProcessDependencies``).

    ``condition`` is a comma-separated list of values paths: the first that holds a boolean
    decides. Without one, ``tags``: any tag true in ``values.tags`` enables it, else any tag
    false disables it. Otherwise it is enabled.
    """
    condition = entry.get("condition")
    if isinstance(condition, str):
        for path in (p.strip() for p in condition.split(",")):
            found = _lookup(values, path)
            if isinstance(found, bool):
                return found, f"condition {path} is {str(found).lower()}"
    tags = entry.get("tags")
    if isinstance(tags, list) and tags:
        settings = _mapping(values, "tags")
        states = [settings.get(str(tag)) for tag in tags]
        if any(state is True for state in states):
            return True, "a tag is true"
        if any(state is False for state in states):
            return False, "its tags are false"
    return True, "enabled by default"


def drop_dependencies(chart_dir: Path, names: Iterable[str]) -> None:
    """Remove dependencies (``dep``, ``sub/dep``) from a chart copy's metadata, in place."""
    for name in names:
        *parents, own = name.split("/")
        directory = chart_dir.joinpath(*(part for p in parents for part in ("charts", p)))
        for file in (directory / "Chart.yaml", directory / "requirements.yaml"):
            data = read_yaml_mapping(file)
            entries = data.get("dependencies")
            if not isinstance(entries, list):
                continue
            kept = [e for e in entries if not (isinstance(e, dict) and str(e.get("name")) == own)]
            if len(kept) != len(entries):
                data["dependencies"] = kept
                file.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


def merged_values(
    chart_dir: Path, values_files: Sequence[Path], set_values: Sequence[str]
) -> dict[str, Any]:
    """The chart's values.yaml, then each ``-f`` file, then ``--set`` (booleans and strings)."""
    merged = read_yaml_mapping(chart_dir / "values.yaml")
    for values_file in values_files:
        text = read_text(values_file)
        try:
            data = yaml.safe_load(text) if text else None
        except yaml.YAMLError:
            data = None
        if isinstance(data, dict):
            merged = merge_values(merged, data)
    for expression in set_values:
        merged = merge_values(merged, _parse_set(expression))
    return merged


def _entry(directory: Path, name: str, occurrence: int) -> tuple[Path, int, Mapping[str, Any]]:
    """The ``occurrence``-th (0-based) dependency entry named ``name`` (several entries may
    name one chart under different aliases): its file, 1-based line and mapping."""
    for file in (directory / "Chart.yaml", directory / "requirements.yaml"):
        text = read_text(file)
        if not text:
            continue
        try:
            root = yaml.compose(text)
        except yaml.YAMLError:
            continue
        if not isinstance(root, yaml.MappingNode):
            continue
        for key, value in root.value:
            if key.value != "dependencies" or not isinstance(value, yaml.SequenceNode):
                continue
            items = [item for item in value.value if _node_name(item) == name]
            if len(items) <= occurrence:
                continue
            entries = read_yaml_mapping(file).get("dependencies") or []
            named = [e for e in entries if isinstance(e, dict) and str(e.get("name")) == name]
            found = named[occurrence] if len(named) > occurrence else {}
            return file, items[occurrence].start_mark.line + 1, found
    return directory / "Chart.yaml", 1, {}


def _node_name(item: yaml.Node) -> str | None:
    if not isinstance(item, yaml.MappingNode):
        return None
    for key, value in item.value:
        if key.value == "name" and isinstance(value, yaml.ScalarNode):
            return str(value.value)
    return None


def _lookup(values: Mapping[str, Any], path: str) -> Any:
    node: Any = values
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def _mapping(values: Mapping[str, Any], key: str) -> dict[str, Any]:
    found = values.get(key)
    return dict(found) if isinstance(found, Mapping) else {}


def _parse_set(expression: str) -> dict[str, Any]:
    """``a.b=true,c=x`` → nested mapping (enough to read the booleans conditions use)."""
    result: dict[str, Any] = {}
    for assignment in expression.split(","):
        key, equals, raw = assignment.partition("=")
        if not equals or not key.strip():
            continue
        value: Any = {"true": True, "false": False}.get(raw.strip(), raw)
        node = result
        parts = key.strip().split(".")
        for part in parts[:-1]:
            child = node.get(part)
            node = node.setdefault(part, {}) if isinstance(child, dict) or child is None else {}
        node[parts[-1]] = value
    return result

"""``.klint.yaml``: find it, validate it against ``schemas/config.schema.json``, type it.

Raw config mappings stop here: the rest of klint sees a frozen :class:`Config`. Every
error names the file and the line of the offending key, found through the same position
index the linter uses for manifests.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from klint.data import data_path
from klint.documents import Document, decode, parse_stream
from klint.errors import KlintError
from klint.findings import FieldPath, Location, Severity, Span
from klint.sources.confine import OutsideRoot, confine, repository_root

CONFIG_NAMES = (".klint.yaml", ".klint.yml")


class ConfigError(KlintError):
    """An invalid configuration file; the message starts with ``file:line:column``."""


@dataclass(frozen=True)
class RuleOverride:
    """A configured severity and/or params for one rule (keyed by id or name)."""

    key: str
    severity: Severity | None
    params: Mapping[str, Any]


@dataclass(frozen=True)
class Exemption:
    """Findings accepted by configuration; every given condition must match."""

    reason: str
    rules: tuple[str, ...] = ()
    namespace: str | None = None
    name: str | None = None
    kind: str | None = None
    container: str | None = None
    paths: tuple[str, ...] = ()
    expires: datetime.date | None = None
    location: Location | None = None

    def expired(self, today: datetime.date) -> bool:
        """Whether the last day it applies (``expires``) is before ``today``."""
        return self.expires is not None and self.expires < today


@dataclass(frozen=True)
class ChartOptions:
    """How one chart is rendered; value file paths are absolute."""

    values: tuple[str, ...] = ()
    set: tuple[str, ...] = ()
    set_string: tuple[str, ...] = ()
    release_name: str | None = None
    namespace: str | None = None


@dataclass(frozen=True)
class Config:
    """A validated configuration; ``path`` is None when no file was found."""

    path: Path | None = None
    extends: tuple[str, ...] = ()
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    rules: tuple[RuleOverride, ...] = ()
    exclude: tuple[str, ...] = ()
    exemptions: tuple[Exemption, ...] = ()
    charts: Mapping[Path, ChartOptions] = field(default_factory=dict)
    overlays: Mapping[Path, Mapping[str, Any]] = field(default_factory=dict)
    fail_on: Severity | None = None
    kube_version: str | None = None
    rules_dirs: tuple[Path, ...] = ()
    document: Document | None = field(default=None, compare=False, repr=False)

    def where(self, path: FieldPath, *, key: bool = False) -> str:
        """``file:line:column`` of a value (or with ``key``, its key) in this config."""
        if self.path is None:
            return "config"
        if self.document is None:
            return str(self.path)
        if key:
            line, column = _key_position(self.document, path)
        else:
            span = self.document.span_of(path)
            line, column = span.start_line, span.start_column
        return f"{self.path}:{line}:{column}"

    def location(self, path: FieldPath) -> Location | None:
        """Location of a key of this config (for notifications)."""
        if self.path is None or self.document is None:
            return None
        return Location(self.document.path, self.document.span_of(path))


def _key_position(document: Document, path: FieldPath) -> tuple[int, int]:
    """Line and column of the key that holds ``path`` (the value's span for list items)."""
    from klint.documents import _resolve

    if path and document.resolves(path):
        _, key_node, _ = _resolve(document.root, path)
        if key_node is not None:
            mark = key_node.start_mark
            return mark.line + 1 + document.line_offset, mark.column + 1
    span = document.span_of(path)
    return span.start_line, span.start_column


def find_config(cwd: Path) -> Path | None:
    """The nearest ``.klint.yaml`` in ``cwd`` or above, not looking past the git root."""
    for directory in [cwd, *cwd.parents]:
        for name in CONFIG_NAMES:
            candidate = directory / name
            if candidate.is_file():
                return candidate
        if (directory / ".git").exists():
            return None
    return None


def config_schema() -> dict[str, Any]:
    """The JSON Schema of ``.klint.yaml``."""
    with data_path("schemas", "config.schema.json").open(encoding="utf-8") as handle:
        schema: dict[str, Any] = json.load(handle)
    return schema


def load_config(path: Path, display: str | None = None) -> Config:
    """Read, validate and type one config file; raises :class:`ConfigError`."""
    display = display or str(path)
    root = repository_root(path.parent)
    try:
        path = confine(path, root)
    except OutsideRoot as error:
        raise ConfigError(f"{display}: {error.reason}") from None
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ConfigError(f"{display}: cannot read config: {error.strerror}") from None
    text, problem = decode(data, display)
    if text is None:
        raise ConfigError(f"{display}: {problem.message if problem else 'unreadable'}")
    parsed = parse_stream(text, display)
    if parsed.problems:
        first = parsed.problems[0]
        span = first.location.span if first.location else Span.line(1)
        message, wrapper = first.message, "not a Kubernetes manifest ("
        if message.startswith(wrapper) and message.endswith(")"):  # a config is no manifest
            message = message[len(wrapper) : -1]
        raise ConfigError(
            f"{display}:{span.start_line}:{span.start_column}: invalid configuration: {message}"
        )
    if len(parsed.documents) > 1:
        raise ConfigError(f"{display}: a config file holds one YAML document")
    document = parsed.documents[0] if parsed.documents else None
    raw = document.data if document is not None and document.data is not None else {}
    shell = Config(path=Path(display), document=document)
    _validate(raw, shell)
    return _build(raw, Paths(path.parent, root, shell), shell)


def _validate(raw: Any, shell: Config) -> None:
    import jsonschema

    validator = jsonschema.Draft202012Validator(config_schema())
    errors = sorted(
        validator.iter_errors(raw), key=lambda e: (list(map(str, e.absolute_path)), e.message)
    )
    if not errors:
        return
    error = jsonschema.exceptions.best_match(errors) or errors[0]
    path = tuple(error.absolute_path)
    key = ".".join(str(part) for part in path) or "(top level)"
    message = error.message
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = error.schema.get("properties", {}) if isinstance(error.schema, dict) else {}
        unknown = sorted(k for k in error.instance if k not in allowed)
        if unknown:
            path = (*path, unknown[0])
            message = f"unknown key {unknown[0]!r}"
            if allowed:
                message += f" (expected one of: {', '.join(allowed)})"
    elif error.validator == "type" and error.validator_value == "string":
        message += " (quote it)"
    unknown_key = error.validator == "additionalProperties"
    raise ConfigError(f"{shell.where(path, key=unknown_key)}: {key}: {message}")


def _check_override_params(raw: dict[str, Any], shell: Config) -> None:
    """Message templates and schemas in rule overrides follow the custom-rule limits."""
    from klint.untrusted.params import params_problems

    for key, value in (raw.get("rules") or {}).items():
        params = value.get("params") if isinstance(value, dict) else None
        problems = params_problems(params) if isinstance(params, dict) else []
        if problems:
            where, why = problems[0]
            path = ("rules", key, "params", *where)
            shown = ".".join(str(part) for part in path)
            raise ConfigError(f"{shell.where(path)}: {shown}: {why}")


@dataclass(frozen=True)
class Paths:
    """Resolves path values of a config: relative to its folder, confined to its repository."""

    base: Path
    root: Path
    shell: Config

    def inside(self, value: str, where: FieldPath) -> Path:
        """``value`` resolved from the config's folder; outside the repository is an error."""
        try:
            return confine(self.base / value, self.root)
        except OutsideRoot as error:
            shown = ".".join(str(part) for part in where)
            raise ConfigError(
                f"{self.shell.where(where)}: {shown}: {value!r} {error.reason}"
            ) from None


def _build(raw: dict[str, Any], paths: Paths, shell: Config) -> Config:
    _check_override_params(raw, shell)
    extends = raw.get("extends", ())
    overrides = tuple(
        RuleOverride(
            key=str(key),
            severity=Severity.parse(value["severity"]) if value.get("severity") else None,
            params=dict(value.get("params") or {}),
        )
        for key, value in (raw.get("rules") or {}).items()
    )
    return Config(
        path=shell.path,
        extends=(extends,) if isinstance(extends, str) else tuple(extends),
        select=tuple(raw.get("select") or ()),
        ignore=tuple(raw.get("ignore") or ()),
        rules=overrides,
        exclude=tuple(raw.get("exclude") or ()),
        exemptions=tuple(
            _exemption(item, index, shell) for index, item in enumerate(raw.get("exemptions") or ())
        ),
        charts={
            paths.inside(key, ("helm", "charts", key)): _chart(value, key, paths)
            for key, value in ((raw.get("helm") or {}).get("charts") or {}).items()
        },
        overlays={
            paths.inside(key, ("kustomize", "overlays", key)): dict(value)
            for key, value in ((raw.get("kustomize") or {}).get("overlays") or {}).items()
        },
        fail_on=Severity.parse(raw["fail-on"]) if raw.get("fail-on") else None,
        kube_version=raw.get("kube-version"),
        rules_dirs=tuple(
            paths.inside(entry, ("rules-dirs", index))
            for index, entry in enumerate(raw.get("rules-dirs") or ())
        ),
        document=shell.document,
    )


def _exemption(item: dict[str, Any], index: int, shell: Config) -> Exemption:
    expires = None
    if item.get("expires"):
        try:
            expires = datetime.date.fromisoformat(item["expires"])
        except ValueError:
            where = shell.where(("exemptions", index, "expires"))
            raise ConfigError(
                f"{where}: exemptions.{index}.expires: {item['expires']!r} is not a valid date"
            ) from None
    return Exemption(
        reason=str(item["reason"]).strip(),
        rules=tuple(item.get("rules") or ()),
        namespace=item.get("namespace"),
        name=item.get("name"),
        kind=item.get("kind"),
        container=item.get("container"),
        paths=tuple(item.get("paths") or ()),
        expires=expires,
        location=shell.location(("exemptions", index)),
    )


def _chart(value: dict[str, Any], key: str, paths: Paths) -> ChartOptions:
    return ChartOptions(
        values=tuple(
            str(paths.inside(entry, ("helm", "charts", key, "values", index)))
            for index, entry in enumerate(value.get("values") or ())
        ),
        set=tuple(value.get("set") or ()),
        set_string=tuple(value.get("set-string") or ()),
        release_name=value.get("release-name"),
        namespace=value.get("namespace"),
    )


def resolve_config(explicit: Path | None, cwd: Path, *, disabled: bool = False) -> Config:
    """The config named by ``--config``, else the one found from ``cwd``, else defaults."""
    if disabled:
        return Config()
    if explicit is not None:
        absolute = explicit if explicit.is_absolute() else cwd / explicit
        if not absolute.is_file():
            raise ConfigError(f"{explicit}: config file not found")
        return load_config(absolute, str(explicit))
    found = find_config(cwd)
    if found is None:
        return Config()
    return load_config(found, _display(found, cwd))


def _display(path: Path, cwd: Path) -> str:
    """How messages name a found config: relative to ``cwd`` (``../.klint.yaml`` above it)."""
    import os

    return Path(os.path.relpath(path, cwd)).as_posix()


def rule_keys(config: Config) -> Sequence[tuple[str, FieldPath]]:
    """Every rule reference in the config with the key path it sits at (for validation)."""
    found: list[tuple[str, FieldPath]] = []
    for name in ("select", "ignore"):
        values = getattr(config, name)
        found.extend((value, (name, index)) for index, value in enumerate(values))
    found.extend((override.key, ("rules", override.key)) for override in config.rules)
    for index, exemption in enumerate(config.exemptions):
        found.extend(
            (rule, ("exemptions", index, "rules", position))
            for position, rule in enumerate(exemption.rules)
        )
    return found

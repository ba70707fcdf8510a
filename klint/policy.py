"""Policy for one run: config file + command-line flags → rules, settings and suppressions.

Command-line flags override the config: ``--profile`` replaces ``extends``, ``--select``
and ``--ignore`` win over the config's ``ignore`` and ``select`` for the rules they name,
``--fail-on`` and ``--kube-version`` replace theirs, ``--rules-dir`` adds folders.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from klint.catalog import Rule, load_catalog
from klint.config import ChartOptions, Config, ConfigError, rule_keys
from klint.engine import ActiveRule, EngineError, bind_rules
from klint.findings import Report, Severity
from klint.selection import SelectionError, rule_index, select_rules, split_references
from klint.sources.base import LintUnit, LoadedUnit, LoadSettings
from klint.suppress import Suppressor

DEFAULT_FAIL_ON = Severity.WARNING


@dataclass(frozen=True)
class PolicyInput:
    """What the command line said (None or empty: not given)."""

    profiles: tuple[str, ...] = ()
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    fail_on: Severity | None = None
    kube_version: str | None = None
    rules_dirs: tuple[Path, ...] = ()
    policy_files: tuple[str, ...] = ()  # --policy: ValidatingAdmissionPolicy files/folders


@dataclass
class Policy:
    """The rules to run and how, plus the suppressor that runs as the engine's unit hook."""

    config: Config
    catalog: list[Rule]
    rules: list[Rule]
    active: list[ActiveRule]
    fail_on: Severity
    kube_version: str | None
    suppressor: Suppressor

    def units(self, units: Sequence[LintUnit], cwd: Path) -> list[LintUnit]:
        """Units with their per-chart render options from the config applied."""
        if not self.config.charts:
            return list(units)
        result: list[LintUnit] = []
        for unit in units:
            options = self.config.charts.get((cwd / unit.display).resolve())
            result.append(unit if options is None else ChartUnit(unit, options))
        return result

    def exclude(self, cwd: Path) -> tuple[str, ...]:
        """The config's ``exclude`` globs (relative to the config file) relative to ``cwd``."""
        if self.config.path is None or not self.config.exclude:
            return self.config.exclude
        base = (cwd / self.config.path).resolve().parent
        try:
            prefix = base.relative_to(cwd.resolve()).as_posix()
        except ValueError:
            prefix = base.as_posix()
        if prefix in ("", "."):
            return self.config.exclude
        return tuple(f"{prefix}/{pattern}" for pattern in self.config.exclude)

    def settle(self, report: Report) -> None:
        """Add the notes only the whole run can give (expired and unused exemptions)."""
        report.notifications.extend(self.suppressor.finish(report.findings))


@dataclass(frozen=True)
class ChartUnit:
    """A chart unit rendered with the options its config entry gives."""

    unit: LintUnit
    options: ChartOptions

    @property
    def display(self) -> str:
        return self.unit.display

    def load(self, settings: LoadSettings) -> LoadedUnit:
        changes: dict[str, Any] = {
            "helm_values": (*self.options.values, *settings.helm_values),
            "helm_set": (*self.options.set, *settings.helm_set),
            "helm_set_string": (*self.options.set_string, *settings.helm_set_string),
        }
        if self.options.release_name:
            changes["release_name"] = self.options.release_name
        if self.options.namespace:
            changes["namespace"] = self.options.namespace
        return self.unit.load(replace(settings, **changes))


def load_rules(config: Config, extra_dirs: Sequence[Path] = ()) -> list[Rule]:
    """The catalogue with the custom rules of the config and the command line."""
    return load_catalog([*config.rules_dirs, *extra_dirs])


def build_policy(config: Config, given: PolicyInput, *, cwd: Path) -> Policy:
    """Resolve selection, overrides and suppressions; config errors name file and line."""
    catalog = load_rules(config, given.rules_dirs)
    index = rule_index(catalog)
    for reference, path in rule_keys(config):
        if reference not in index:
            raise ConfigError(f"{config.where(path)}: {index.unknown(reference)}")
    given_select, given_ignore = split_references(given.select), split_references(given.ignore)
    cli_select = {index[r].id for r in given_select if r in index}
    cli_ignore = {index[r].id for r in given_ignore if r in index}
    select = [r for r in config.select if index[r].id not in cli_ignore] + list(given_select)
    ignore = [r for r in config.ignore if index[r].id not in cli_select] + list(given_ignore)
    profiles = given.profiles or config.extends or ("default",)
    try:
        rules = select_rules(catalog, profiles, select, ignore)
    except SelectionError as error:
        if given.profiles or not config.extends:
            raise
        raise ConfigError(f"{config.where(('extends',))}: {error}") from None
    severities = {index[o.key].id: o.severity for o in config.rules if o.severity is not None}
    params = {index[o.key].id: dict(o.params) for o in config.rules if o.params}
    if given.policy_files:
        from klint.checks.cel_checks import POLICY_CHECKS

        for rule in rules:
            if rule.check in POLICY_CHECKS:
                params.setdefault(rule.id, {})["policy_files"] = list(given.policy_files)
    from klint.plugins import ensure_checks

    ensure_checks({rule.check for rule in rules})
    for override in config.rules:
        if override.params:
            rule = index[override.key]
            try:
                bind_rules([rule], param_overrides={rule.id: dict(override.params)})
            except EngineError as error:
                detail = str(error).split(": ", 2)[-1]
                where = config.where(("rules", override.key, "params"))
                raise ConfigError(f"{where}: {detail}") from None
    active = bind_rules(rules, severities, params)
    suppressor = Suppressor(catalog=catalog, active=rules, exemptions=config.exemptions, cwd=cwd)
    return Policy(
        config=config,
        catalog=catalog,
        rules=rules,
        active=active,
        fail_on=given.fail_on or config.fail_on or DEFAULT_FAIL_ON,
        kube_version=given.kube_version or config.kube_version,
        suppressor=suppressor,
    )

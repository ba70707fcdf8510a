"""Which rules run: a profile, plus rules selected or ignored by id or name."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from klint.catalog import PROFILES, Rule
from klint.errors import KlintError


class SelectionError(KlintError):
    """An unknown profile or rule reference."""


def rule_index(rules: Iterable[Rule]) -> dict[str, Rule]:
    """Rules by id and by name."""
    index: dict[str, Rule] = {}
    for rule in rules:
        index[rule.id] = rule
        index[rule.name] = rule
    return index


def resolve(references: Iterable[str], rules: Sequence[Rule]) -> list[Rule]:
    """Rules named by id or name; unknown references are an error."""
    index = rule_index(rules)
    resolved = []
    for reference in references:
        rule = index.get(reference)
        if rule is None:
            raise SelectionError(f"unknown rule {reference!r} (see `klint rules`)")
        resolved.append(rule)
    return resolved


def select_rules(
    rules: Sequence[Rule],
    profiles: Sequence[str] = ("default",),
    select: Iterable[str] = (),
    ignore: Iterable[str] = (),
) -> list[Rule]:
    """The rules to run, sorted by id.

    A rule runs when it belongs to one of ``profiles`` (``all`` is every rule) or is named in
    ``select``, and is not named in ``ignore``. When a rule and a rule it ``overrides`` are
    both selected, only the overriding rule runs (as a restricted PSS check replaces its
    baseline counterpart).
    """
    custom_profiles = {p for rule in rules for p in rule.profiles}
    for profile in profiles:
        if profile not in PROFILES and profile not in custom_profiles:
            raise SelectionError(f"unknown profile {profile!r}: use one of {', '.join(PROFILES)}")
    chosen = {
        rule.id: rule
        for rule in rules
        if "all" in profiles or any(profile in rule.profiles for profile in profiles)
    }
    for rule in resolve(select, rules):
        chosen[rule.id] = rule
    for rule in resolve(ignore, rules):
        chosen.pop(rule.id, None)
    for rule in list(chosen.values()):
        for replaced in rule.overrides:
            chosen.pop(replaced, None)
    return sorted(chosen.values(), key=lambda rule: rule.id)

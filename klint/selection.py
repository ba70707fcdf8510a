"""Which rules run: a profile, plus rules selected or ignored by id or name.

Rule references are case-insensitive (``kl101``, ``Privileged-Container``); an unknown one
is an error that suggests the nearest known id or name.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from klint.catalog import PROFILES, Rule, rule_order
from klint.errors import KlintError


class SelectionError(KlintError):
    """An unknown profile or rule reference."""


class RuleIndex:
    """Rules by id and by name, looked up case-insensitively."""

    def __init__(self, rules: Iterable[Rule]) -> None:
        self._rules: dict[str, Rule] = {}
        for rule in rules:
            self._rules[rule.id.lower()] = rule
            self._rules[rule.name.lower()] = rule

    def get(self, reference: str) -> Rule | None:
        """The rule ``reference`` names, or None."""
        return self._rules.get(reference.strip().lower())

    def __contains__(self, reference: object) -> bool:
        return isinstance(reference, str) and self.get(reference) is not None

    def __getitem__(self, reference: str) -> Rule:
        rule = self.get(reference)
        if rule is None:
            raise KeyError(reference)
        return rule

    def unknown(self, reference: str) -> str:
        """The message for an unknown reference, with a suggestion when one is close."""
        import difflib  # only for a reference that names no rule

        lookalike = _digits_for_lookalikes(reference.strip().lower())
        close = (
            [lookalike]
            if lookalike in self._rules
            else difflib.get_close_matches(reference.lower(), list(self._rules), n=1, cutoff=0.6)
        )
        hint = (
            f"; did you mean {self._rules[close[0]].id} ({self._rules[close[0]].name})?"
            if (close)
            else " (see `klint rules`)"
        )
        return f"unknown rule {reference!r}{hint}"


_LOOKALIKES = str.maketrans({"o": "0", "i": "1", "l": "1", "s": "5", "b": "8", "z": "2"})


def _digits_for_lookalikes(reference: str) -> str:
    """``kl1o1`` → ``kl101``: an id typed with letters that look like its digits."""
    if len(reference) < 3 or not reference.startswith("kl"):
        return reference
    return "kl" + reference[2:].translate(_LOOKALIKES)


def rule_index(rules: Iterable[Rule]) -> RuleIndex:
    """Rules by id and by name (case-insensitive)."""
    return RuleIndex(rules)


def split_references(values: Iterable[str]) -> tuple[str, ...]:
    """``--select KL101,KL102 --select KL103`` → the three references."""
    return tuple(item.strip() for value in values for item in value.split(",") if item.strip())


def resolve(references: Iterable[str], rules: Sequence[Rule]) -> list[Rule]:
    """Rules named by id or name; unknown references are an error."""
    index = rule_index(rules)
    resolved = []
    for reference in references:
        rule = index.get(reference)
        if rule is None:
            raise SelectionError(index.unknown(reference))
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
    ``select``, and is not named in ``ignore``. A rule and a rule it ``overrides`` both
    run; the engine reports a violation both find once, under the replaced (baseline) rule.
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
    for rule in resolve(split_references(select), rules):
        chosen[rule.id] = rule
    for rule in resolve(split_references(ignore), rules):
        chosen.pop(rule.id, None)
    return sorted(chosen.values(), key=rule_order)

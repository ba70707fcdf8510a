"""The built-in catalogue loads from a plain-value index that follows the rule files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from klint import catalog


@pytest.fixture
def rules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the built-in rules and a private cache folder."""
    copy = tmp_path / "rules"
    shutil.copytree(catalog.builtin_rules_dir(), copy)
    monkeypatch.setattr(catalog, "builtin_rules_dir", lambda: copy)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return copy


def test_the_index_gives_the_parsed_rules(rules: Path, tmp_path: Path) -> None:
    parsed = catalog.load_rule_files(rules, builtin=True, validate=False)
    assert catalog._cached_builtin_rules() == parsed  # written
    (index,) = (tmp_path / "cache" / "klint").glob("catalog-*.marshal")
    assert catalog._cached_builtin_rules() == parsed  # read back
    assert not list((tmp_path / "cache" / "klint").glob("*.pickle"))
    assert index.stat().st_size > 0


def test_an_edited_rule_file_is_read_again(rules: Path) -> None:
    catalog._cached_builtin_rules()
    first = next(iter(sorted(rules.rglob("*.yaml"))))
    text = first.read_text()
    old = next(line for line in text.splitlines() if line.startswith("summary:"))
    first.write_text(text.replace(old, "summary: Edited since the index was written."))
    summaries = {rule.summary for rule in catalog._cached_builtin_rules()}
    assert "Edited since the index was written." in summaries


def test_a_damaged_index_is_ignored(rules: Path, tmp_path: Path) -> None:
    parsed = catalog._cached_builtin_rules()
    (index,) = (tmp_path / "cache" / "klint").glob("catalog-*.marshal")
    for damage in (b"", b"\x00garbage", index.read_bytes()[:100]):
        index.write_bytes(damage)
        assert catalog._cached_builtin_rules() == parsed

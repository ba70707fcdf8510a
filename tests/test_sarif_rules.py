"""SARIF rule descriptors kept between runs: the log is byte for byte what writing every
descriptor afresh gives, and a kept text is used only for the unchanged built-in rule."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from klint import catalog
from klint.findings import Report
from klint.reporters import sarif_rules
from klint.reporters.base import ReportContext
from klint.reporters.indented_json import dump_indented
from klint.reporters.sarif import SarifReporter


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private cache folder; the built-in rules read through the catalogue index."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    catalog.load_catalog()
    return tmp_path / "cache" / "klint"


def _log(rules: list[catalog.Rule], tmp_path: Path) -> str:
    context = ReportContext(rules=rules, cwd=tmp_path, root=tmp_path)
    return SarifReporter().render(Report(), context)


def _fresh(rules: list[catalog.Rule], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The log with every descriptor written afresh (nothing kept is used)."""
    with monkeypatch.context() as patch:
        patch.setattr(sarif_rules, "_kept_texts", dict)
        return _log(rules, tmp_path)


def test_kept_descriptors_give_the_same_log(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rules = catalog.load_catalog()
    fresh = _fresh(rules, tmp_path, monkeypatch)
    assert _log(rules, tmp_path) == fresh  # written to the cache
    (kept,) = cache.glob("sarif-rules-*.marshal")
    assert _log(rules, tmp_path) == fresh  # read back
    descriptors = json.loads(fresh)["runs"][0]["tool"]["driver"]["rules"]
    assert len(descriptors) == len(rules) + 1  # KL000 first
    assert descriptors[1] == sarif_rules.descriptor(rules[0])
    assert kept.stat().st_size > 100_000


def test_a_kept_text_is_not_used_for_a_changed_rule(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rules = catalog.load_catalog()
    _log(rules, tmp_path)  # keeps the built-in texts
    changed = dataclasses.replace(rules[0], summary="Changed after the index was read.")
    log = json.loads(_log([changed, *rules[1:]], tmp_path))
    assert log["runs"][0]["tool"]["driver"]["rules"][1]["shortDescription"] == {
        "text": "Changed after the index was read."
    }


def test_a_damaged_or_forged_file_is_written_again(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rules = catalog.load_catalog()
    fresh = _fresh(rules, tmp_path, monkeypatch)
    _log(rules, tmp_path)
    (kept,) = cache.glob("sarif-rules-*.marshal")
    for damage in (b"", b"\x00garbage", kept.read_bytes()[:100], b"\xe9\x00\x00\x00\x00"):
        kept.write_bytes(damage)
        assert _log(rules, tmp_path) == fresh
    kept.chmod(0o644)  # not a private file of the user's: never read
    kept.write_bytes(b"")
    assert _log(rules, tmp_path) == fresh


def test_edited_reporter_code_keys_new_texts(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rules = catalog.load_catalog()
    _log(rules, tmp_path)
    monkeypatch.setattr(sarif_rules, "_code_stamp", lambda: "docs.py edited")
    _log(rules, tmp_path)
    assert len(list(cache.glob("sarif-rules-*.marshal"))) == 2


def test_rules_read_without_the_index_are_written_afresh(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    rules = catalog.load_catalog(validate_builtin=True)
    assert catalog.indexed_rule(rules[0].id) is None
    monkeypatch.setattr(sarif_rules, "_text", lambda rule: dump_indented({"id": rule.id}, ""))
    log = json.loads(_log(rules, tmp_path))
    assert log["runs"][0]["tool"]["driver"]["rules"][1] == {"id": rules[0].id}
    assert not list((tmp_path / "cache" / "klint").glob("sarif-rules-*"))

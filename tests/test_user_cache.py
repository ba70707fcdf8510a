"""The per-user cache folder: only files klint wrote for this user are trusted."""

from __future__ import annotations

import marshal
import os
from pathlib import Path

import pytest

from klint.user_cache import read_private, user_cache_folder, write_private
from tests.conftest import run_cli


def test_a_written_file_is_read_back_and_private(tmp_path: Path) -> None:
    path = str(tmp_path / "klint" / "x.marshal")
    write_private(path, lambda: b"data")
    assert read_private(path) == b"data"
    assert os.stat(path).st_mode & 0o777 == 0o600


def test_a_file_others_can_read_or_a_link_is_not_trusted(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.write_bytes(b"forged")
    plain.chmod(0o644)  # as git checks a file out
    assert read_private(str(plain)) is None
    private = tmp_path / "private"
    write_private(str(private), lambda: b"ok")
    link = tmp_path / "link"
    link.symlink_to(private)
    assert read_private(str(link)) is None


def test_writing_a_keyed_file_keeps_the_newest_of_its_family(tmp_path: Path) -> None:
    folder = tmp_path / "klint"
    names = [f"catalog-{n:024x}.marshal" for n in range(5)]
    for age, name in enumerate(names):
        write_private(str(folder / name), lambda: b"x")
        os.utime(folder / name, ns=(age * 10**9, age * 10**9))  # oldest first
    others = ["schema-v1_31-" + "a" * 24 + ".marshal", "tool-versions.json", "notes-x.marshal"]
    for name in others:
        write_private(str(folder / name), lambda: b"y")
    link = folder / ("catalog-" + "f" * 24 + ".marshal")
    link.symlink_to(tmp_path)  # never followed, never counted
    newest = folder / ("catalog-" + "e" * 24 + ".marshal")
    write_private(str(newest), lambda: b"new")
    kept = sorted(p.name for p in folder.iterdir())
    # the new file and the two newest before it; other families and names untouched
    assert kept == sorted([newest.name, names[4], names[3], link.name, *others])
    assert read_private(str(newest)) == b"new"


def test_a_value_that_cannot_be_encoded_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "x"
    write_private(str(path), lambda: marshal.dumps(object()))
    assert not path.exists() and not list(tmp_path.iterdir())


def test_a_relative_cache_folder_is_no_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/cache")
    assert user_cache_folder() is None
    monkeypatch.setenv("XDG_CACHE_HOME", "/abs/cache")
    assert user_cache_folder() == "/abs/cache/klint"


def test_a_planted_catalogue_index_does_not_change_the_rules(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    env = {"XDG_CACHE_HOME": str(cache)}
    before = run_cli("rules", "--format", "json", env=env).stdout
    indexes = list((cache / "klint").glob("catalog-*.marshal"))
    assert indexes and all(p.stat().st_mode & 0o777 == 0o600 for p in indexes)
    for index in indexes:  # replaced by a readable copy holding other rules, as a checkout
        index.unlink()
        index.write_bytes(marshal.dumps([]))
        index.chmod(0o644)
    assert run_cli("rules", "--format", "json", env=env).stdout == before


def test_a_fifo_in_place_of_a_cache_file_is_not_waited_on(tmp_path: Path) -> None:
    fifo = tmp_path / "catalog.marshal"
    os.mkfifo(fifo, 0o600)
    assert read_private(str(fifo)) is None  # returns at once: no writer is waited for

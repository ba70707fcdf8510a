"""A tool's version is asked once per binary and kept in the user cache, never trusted from
a file klint did not write for this user."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from klint.sources.kustomize.tool_versions import CACHE_NAME, remembered_version


@pytest.fixture
def binary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    tool = tmp_path / "bin" / "kubectl"
    tool.parent.mkdir()
    tool.write_bytes(b"#!/bin/sh\n")
    return tool


def _counting(
    answer: tuple[int, int, int] | None,
) -> tuple[list[str], Callable[[str], tuple[int, int, int] | None]]:
    asked: list[str] = []

    def ask(executable: str) -> tuple[int, int, int] | None:
        asked.append(executable)
        return answer

    return asked, ask


def test_the_same_binary_is_asked_once(binary: Path, tmp_path: Path) -> None:
    asked, ask = _counting((5, 5, 0))
    for _ in range(3):
        assert remembered_version(str(binary), "kubectl", ask) == (5, 5, 0)
    assert asked == [str(binary)]
    kept = tmp_path / "cache" / "klint" / CACHE_NAME
    assert kept.stat().st_mode & 0o777 == 0o600


def test_a_binary_replaced_in_place_is_asked_again(binary: Path) -> None:
    asked, ask = _counting((5, 5, 0))
    remembered_version(str(binary), "kubectl", ask)
    binary.write_bytes(b"#!/bin/sh\n# upgraded\n")
    os.utime(binary, ns=(1, 1))
    remembered_version(str(binary), "kubectl", ask)
    assert len(asked) == 2


def test_an_unknown_version_is_not_kept(binary: Path) -> None:
    asked, ask = _counting(None)
    for _ in range(2):
        assert remembered_version(str(binary), "kubectl", ask) is None
    assert len(asked) == 2


@pytest.mark.parametrize("text", ['{"x": 1', "[1, 2]", "{}"])
def test_a_cache_file_not_written_by_klint_for_this_user_is_not_trusted(
    binary: Path, tmp_path: Path, text: str
) -> None:
    asked, ask = _counting((5, 5, 0))
    remembered_version(str(binary), "kubectl", ask)
    kept = tmp_path / "cache" / "klint" / CACHE_NAME
    forged = kept.read_text().replace("[5, 5, 0]", "[9, 9, 9]")
    kept.write_text(forged)
    kept.chmod(0o644)  # a copied or checked-out file, not klint's own
    assert remembered_version(str(binary), "kubectl", ask) == (5, 5, 0)
    kept.unlink(missing_ok=True)
    kept.write_text(text)
    kept.chmod(0o600)
    assert remembered_version(str(binary), "kubectl", ask) == (5, 5, 0)
    assert len(asked) == 3

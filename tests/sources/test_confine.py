"""Confinement refuses paths and links that leave the root, and passes those that stay."""

from __future__ import annotations

from pathlib import Path

import pytest

from klint.sources.confine import OutsideRoot, confine, is_inside, repository_root, walk_confined


def test_inside_paths_resolve(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "f.yaml").write_text("x: 1\n")
    assert confine(Path("a/f.yaml"), tmp_path) == (tmp_path / "a" / "f.yaml").resolve()


@pytest.mark.parametrize("raw", ["../outside.yaml", "/etc/hostname", "a/../../x"])
def test_paths_that_leave_are_refused(tmp_path: Path, raw: str) -> None:
    (tmp_path / "a").mkdir()
    with pytest.raises(OutsideRoot, match="outside"):
        confine(Path(raw), tmp_path)


def test_symlink_leaving_is_refused_and_named(tmp_path: Path) -> None:
    (tmp_path / "e").symlink_to("/proc/self/environ")
    with pytest.raises(OutsideRoot, match="symbolic link") as raised:
        confine(Path("e"), tmp_path)
    assert "PATH=" not in str(raised.value)


def test_symlink_staying_inside_is_allowed(tmp_path: Path) -> None:
    (tmp_path / "real.yaml").write_text("x: 1\n")
    (tmp_path / "link.yaml").symlink_to(tmp_path / "real.yaml")
    assert is_inside(tmp_path / "link.yaml", tmp_path)


def test_walk_reports_escaping_links(tmp_path: Path) -> None:
    (tmp_path / "ok.yaml").write_text("x: 1\n")
    (tmp_path / "bad.yaml").symlink_to("/etc/hostname")
    (tmp_path / "dir").symlink_to("/etc")
    seen = {path.name: problem for path, problem in walk_confined(tmp_path)}
    assert seen["ok.yaml"] is None
    assert isinstance(seen["bad.yaml"], OutsideRoot)
    assert isinstance(seen["dir"], OutsideRoot)


def test_repository_root_is_the_git_root(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "x" / "y").mkdir(parents=True)
    assert repository_root(tmp_path / "x" / "y") == tmp_path.resolve()

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


def test_copy_confined_copies_links_inside_and_refuses_links_out(tmp_path: Path) -> None:
    from klint.sources.confine import copy_confined

    root = tmp_path / "repo"
    (root / "shared").mkdir(parents=True)
    (root / "shared" / "data.txt").write_text("inside\n")
    chart = root / "chart"
    (chart / "files").mkdir(parents=True)
    (chart / "files" / "in.txt").symlink_to("../../shared/data.txt")
    (chart / "files" / "out").symlink_to("/etc/hostname")
    (chart / "files" / "loop").symlink_to("..")
    (chart / ".git").mkdir()
    (chart / ".git" / "config").write_text("x")
    refused = copy_confined(chart, tmp_path / "copy", root)
    assert [Path(r.path).name for r in refused] == ["out"]
    assert (tmp_path / "copy" / "files" / "in.txt").read_text() == "inside\n"
    assert not (tmp_path / "copy" / "files" / "in.txt").is_symlink()
    assert not (tmp_path / "copy" / "files" / "out").exists()
    assert not (tmp_path / "copy" / ".git").exists()
    assert not (tmp_path / "copy" / "files" / "loop").exists()  # a link to an ancestor: no loop


def test_copy_confined_is_bounded(tmp_path: Path) -> None:
    from klint.sources.confine import CopyLimits, TreeTooLarge, copy_confined

    for index in range(5):
        (tmp_path / "src" / f"f{index}").parent.mkdir(exist_ok=True)
        (tmp_path / "src" / f"f{index}").write_text("x" * 100)
    with pytest.raises(TreeTooLarge):
        copy_confined(tmp_path / "src", tmp_path / "a", tmp_path, CopyLimits(1000, 1000, 3))
    with pytest.raises(TreeTooLarge):
        copy_confined(tmp_path / "src", tmp_path / "b", tmp_path, CopyLimits(1000, 300, 100))
    copy_confined(tmp_path / "src", tmp_path / "c", tmp_path, CopyLimits(1000, 1000, 100))
    assert len(list((tmp_path / "c").iterdir())) == 5


def test_read_inside_reads_only_small_regular_files_inside(tmp_path: Path) -> None:
    import os

    from klint.sources.confine import read_inside

    (tmp_path / "f").write_text("ok")
    (tmp_path / "zero").symlink_to("/dev/zero")
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "out").symlink_to("/etc/hostname")
    assert read_inside(tmp_path / "f", tmp_path) == b"ok"
    assert read_inside(tmp_path / "f", tmp_path, max_bytes=1) is None
    assert read_inside(tmp_path / "zero", None) is None
    assert read_inside(tmp_path / "out", tmp_path) is None
    assert read_inside(tmp_path / "fifo", tmp_path) is None


def test_unit_root_is_the_checkout_else_the_working_directory(tmp_path: Path) -> None:
    from klint.sources.confine import unit_root

    (tmp_path / "repo" / ".git").mkdir(parents=True)
    (tmp_path / "repo" / "a" / "b").mkdir(parents=True)
    assert unit_root(tmp_path / "repo" / "a" / "b", Path("/")) == (tmp_path / "repo").resolve()
    (tmp_path / "plain" / "x").mkdir(parents=True)
    assert unit_root(tmp_path / "plain" / "x", tmp_path / "plain") == (tmp_path / "plain").resolve()
    assert unit_root(tmp_path / "plain" / "x", Path("/")) == (tmp_path / "plain" / "x").resolve()
    assert unit_root(tmp_path / "plain" / "x") == (tmp_path / "plain" / "x").resolve()


def test_repository_root_of_a_link_is_the_checkout_holding_the_link(tmp_path: Path) -> None:
    (tmp_path / "repo" / ".git").mkdir(parents=True)
    (tmp_path / "other" / ".git").mkdir(parents=True)
    (tmp_path / "other" / "target.yaml").write_text("x: 1\n")
    (tmp_path / "repo" / "link.yaml").symlink_to(tmp_path / "other" / "target.yaml")
    assert repository_root(tmp_path / "repo" / "link.yaml") == (tmp_path / "repo").resolve()


def test_a_file_under_a_linked_folder_belongs_to_the_checkout_holding_the_link(
    tmp_path: Path,
) -> None:
    (tmp_path / "repo" / ".git").mkdir(parents=True)
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "pod.yaml").write_text("x: 1\n")
    (tmp_path / "repo" / "linked").symlink_to(tmp_path / "elsewhere")
    path = tmp_path / "repo" / "linked" / "pod.yaml"
    assert repository_root(path) == (tmp_path / "repo").resolve()
    with pytest.raises(OutsideRoot):
        confine(path, repository_root(path))

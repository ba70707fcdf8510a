"""A cached re-run costs little and stays exact: the shortcuts it takes (real paths and
kustomization folders looked at once per run, reads sized to the file) give what the long way
gives, and a rendered file is keyed by its chart however its lines are spelled."""

from __future__ import annotations

import io
import os
import random
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from klint.sources.confine import is_inside, read_limited, real_path, real_paths_remembered
from klint.sources.kustomize.build import lexical_root
from klint.sources.kustomize.tree import Tree
from klint.sources.names import kustomization_file
from klint.sources.scans import scans_shared
from tests.conftest import CORPUS, REPO
from tests.test_result_cache import lint, repo


@pytest.fixture(autouse=True)
def own_secret(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test gets its own per-user key (never the developer's)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user-cache"))
    monkeypatch.delenv("KLINT_CACHE_DIR", raising=False)


def _cr(text: str) -> bytes:
    return text.replace("\n", "\r").encode()


def _utf16(text: str) -> bytes:
    return text.encode("utf-16")


def _line_separator(text: str) -> bytes:
    return text.replace("\n# Source", "\u2028# Source").encode()


def _next_line(text: str) -> bytes:
    return text.replace("\n# Source", "\x85# Source").encode()


@pytest.mark.parametrize("spell", [_cr, _utf16, _line_separator, _next_line])
def test_rendered_output_is_keyed_by_its_chart_however_its_lines_are_spelled(
    spell: Callable[[str], bytes], tmp_path: Path
) -> None:
    """The loader reads ``# Source:`` lines after any line break ``str.splitlines`` knows and
    in UTF-16: the key must name the same chart, or a moved template replays old lines."""
    root = repo(tmp_path)
    shutil.copytree(REPO / "fixtures" / "helm" / "web", root / "charts" / "web")
    (root / "rendered").mkdir()
    text = (REPO / "fixtures" / "helm" / "web-rendered.yaml").read_text()
    (root / "rendered" / "out.yaml").write_bytes(spell(text))
    first = lint(("rendered",), root, "sarif")
    assert "charts/web/templates/" in first  # the loader maps it into the chart
    template = root / "charts" / "web" / "templates" / "deployment.yaml"
    template.write_text("\n\n" + template.read_text())  # every template line moves down
    moved = lint(("rendered",), root, "sarif")
    assert moved == lint(("rendered",), root, "sarif", no_cache=True) != first


class _Sized(io.BytesIO):
    """A file whose size was measured before it changed."""


@pytest.mark.parametrize(
    ("content", "size", "limit"),
    [
        (b"", 0, 10),
        (b"abc", 3, 10),
        (b"a" * 10, 10, 10),  # exactly at the limit
        (b"a" * 11, 11, 10),  # one over
        (b"a" * 50, 50, 10),
        (b"a" * 8, 3, 10),  # grew after it was measured, still within
        (b"a" * 50, 3, 10),  # grew past the limit
        (b"abc", 40, 10),  # shrank
    ],
)
def test_a_read_sized_to_the_file_gives_what_a_read_to_the_limit_gives(
    content: bytes, size: int, limit: int
) -> None:
    assert read_limited(_Sized(content), size, limit) == _Sized(content).read(limit + 1)


def hostile_tree(tmp_path: Path) -> tuple[Path, list[str]]:
    """Links of every kind (in, out, dangling, loops, chains, to a parent, through a file)
    and the paths to resolve through them."""
    root = tmp_path / "repo"
    outside = tmp_path / "outside"
    (outside / "sub").mkdir(parents=True)
    (outside / "sub" / "secret").write_text("s")
    (root / "a" / "b").mkdir(parents=True)
    (root / "a" / "f").write_text("f")
    (root / "a" / "b" / "g").write_text("g")
    links = {
        "in": "a",
        "in-abs": str(root / "a" / "b"),
        "out": str(outside),
        "out-rel": "../outside/sub",
        "dangling": "nowhere",
        "loop1": "loop2",
        "loop2": "loop1",
        "self": "self",
        "up": "..",
        "chain1": "chain2",
        "chain2": "in",
        "dots": "./a/../a/b",
        "to-file": "a/f",
    }
    for name, target in links.items():
        (root / name).symlink_to(target)
    (root / "a" / "b" / "back").symlink_to("../../out")
    names = ["a", "a/b", "a/b/back", *links, "missing"]
    paths = [str(root)]
    for name in names:
        base = os.path.join(root, name)
        paths += [base, base + "/f", base + "/b/g", base + "/g", base + "/x/y", base + "/secret"]
        paths += [base + "/sub/secret", base + "/..", base + "/./f", base + "//g"]
    return root, paths


def test_real_paths_remembered_are_the_real_paths(tmp_path: Path) -> None:
    root, paths = hostile_tree(tmp_path)
    expected = {p: os.path.realpath(p) for p in paths}
    top = Path(os.path.realpath(root))
    inside = {p: Path(os.path.realpath(Path(p))).is_relative_to(top) for p in paths}
    for seed in range(4):  # the memo is filled in another order each time
        order = list(paths)
        random.Random(seed).shuffle(order)
        with real_paths_remembered():
            for _ in range(2):  # computed, then remembered
                assert {p: real_path(p) for p in order} == {p: expected[p] for p in order}
                assert {p: is_inside(Path(p), root) for p in order} == {p: inside[p] for p in order}
    assert any(not v for v in inside.values()) and any(inside.values())


def overlay_folders(*trees: Path) -> list[Path]:
    return sorted(
        Path(folder)
        for tree in trees
        for folder, _, _ in os.walk(tree)
        if kustomization_file(Path(folder)) is not None
    )


def scanned(folders: list[Path], root: Path) -> list[tuple[object, ...]]:
    found = []
    for folder in folders:
        tree = Tree.scan(folder, lexical_root(folder, root))
        found.append(
            (str(folder), list(tree.kustomizations), sorted(tree.files), tree.remote, tree.refused)
        )
    return found


def test_trees_scanned_once_per_folder_are_the_trees_scanned_alone(tmp_path: Path) -> None:
    """Each kustomization folder is looked at once per run however many overlays reach it:
    every overlay's tree (kustomizations in order, files, remote and refused references in
    order) is what its own scan finds."""
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    for name in ("kustomize", "kustomize-shared", "kustomize-reach", "kustomize-reach-sibling"):
        shutil.copytree(REPO / "fixtures" / name, root / name, symlinks=True)
    if (CORPUS / "kustomize").is_dir():  # 195 overlays of real repositories
        shutil.copytree(CORPUS / "kustomize", root / "corpus", symlinks=True)
    folders = overlay_folders(root)
    assert len(folders) > 20
    alone = scanned(folders, root)
    for order in (folders, folders[::-1]):
        with scans_shared():
            shared = scanned(order, root)
        assert sorted(shared, key=str) == sorted(alone, key=str)

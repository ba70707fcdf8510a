"""A ``.tgz`` met while walking a tree is a chart only when it holds one (issue 23 §1)."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

from tests.conftest import HELM_FIXTURES, needs_helm_sdk, run_cli


def _pack(archive: Path, files: dict[str, bytes], dot_entry: bool = False) -> None:
    archive.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive, "w:gz") as tar:
        if dot_entry:  # what `tar -czf x.tgz -C dir .` writes first
            info = tarfile.TarInfo("./")
            info.type = tarfile.DIRTYPE
            tar.addfile(info)
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def _chart_files(prefix: str) -> dict[str, bytes]:
    web = HELM_FIXTURES / "web"
    return {
        f"{prefix}{p.relative_to(web).as_posix()}": p.read_bytes()
        for p in sorted(web.rglob("*"))
        if p.is_file()
    }


@needs_helm_sdk
def test_tarballs_that_hold_no_chart_are_skipped_with_why_and_charts_still_render(
    tmp_path: Path,
) -> None:
    (tmp_path / ".git").mkdir()
    _pack(tmp_path / "restic/testdata/repo.tar.gz", {"repo/config": b"restic\n"})
    (tmp_path / "pkg/embed").mkdir(parents=True)
    (tmp_path / "pkg/embed/gitkeep.tgz").write_bytes(b"")  # an empty placeholder
    _pack(tmp_path / "releases/web-0.1.0.tgz", _chart_files("web/"))
    _pack(tmp_path / "dot/web-0.1.0.tgz", _chart_files("./web/"), dot_entry=True)
    result = run_cli("check", "-v", "--no-cache", "--format", "json", ".", cwd=tmp_path)
    data = json.loads(result.stdout)
    assert data["notifications"] == []
    assert result.returncode == 0  # release archives: notes only; not "could not lint" (2)
    skipped = [line for line in result.stderr.splitlines() if line.startswith("klint: skipped")]
    assert sorted(skipped) == [
        "klint: skipped pkg/embed/gitkeep.tgz:1: not a Helm chart archive (no Chart.yaml in it)",
        "klint: skipped restic/testdata/repo.tar.gz:1: "
        "not a Helm chart archive (no Chart.yaml in it)",
    ]
    paths = {f["path"].split("!")[0] for f in data["findings"]}
    assert paths == {"dot/web-0.1.0.tgz", "releases/web-0.1.0.tgz"}


def test_an_archive_named_on_the_command_line_is_rendered_and_says_why_it_fails(
    tmp_path: Path,
) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "gitkeep.tgz").write_bytes(b"")
    result = run_cli("check", "--no-cache", "--format", "json", "gitkeep.tgz", cwd=tmp_path)
    assert result.returncode == 2
    (problem,) = json.loads(result.stdout)["notifications"]
    assert problem["path"] == "gitkeep.tgz"
    assert "not a readable chart archive" in problem["message"]

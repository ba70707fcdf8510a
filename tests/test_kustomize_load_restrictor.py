"""A kustomization that reads a file outside its folder: kustomize refuses it by default, and
repositories build it with ``--load-restrictor LoadRestrictionsNone``. klint builds it so
(with a note) when every path the tree names stays inside the repository, and never when
one could leave it: the copy klint builds sits elsewhere, so such a path could read there."""

from __future__ import annotations

import json
import secrets
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest

from klint.sources.kustomize.build import build
from klint.sources.kustomize.sandbox import KustomizeBuildError
from tests.conftest import run_cli

pytestmark = pytest.mark.skipif(
    shutil.which("kustomize") is None and shutil.which("kubectl") is None,
    reason="needs kustomize or kubectl",
)

POD = """\
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers:
    - name: c
      image: nginx:1.25
      securityContext: {privileged: true}
"""


def repository(tmp_path: Path, kustomization: str) -> Path:
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "shared").mkdir()
    (repo / "shared" / "pod.yaml").write_text(POD)
    (repo / "app").mkdir()
    (repo / "app" / "kustomization.yaml").write_text(kustomization)
    return repo


def check(repo: Path) -> tuple[dict[str, Any], int, str]:
    result = run_cli("check", "--format", "json", "--no-cache", "app", cwd=repo)
    return json.loads(result.stdout), result.returncode, result.stdout + result.stderr


def test_a_file_outside_the_folder_is_built_unrestricted_with_a_note(tmp_path: Path) -> None:
    repo = repository(tmp_path, "resources:\n  - ../shared/pod.yaml\n")
    data, code, _ = check(repo)
    assert code == 1
    [note] = data["notifications"]
    assert (note["path"], note["level"], note["fatal"]) == ("app/kustomization.yaml", "note", False)
    assert "LoadRestrictionsNone" in note["message"]
    # traced to the file the person edits, as the overlay's other objects are
    privileged = [(f["path"], f["line"]) for f in data["findings"] if f["rule_id"] == "KL101"]
    assert privileged == [("shared/pod.yaml", 8)]
    assert build(repo / "app", root=repo).unrestricted


def test_a_folder_that_needs_no_loosening_is_built_as_before(tmp_path: Path) -> None:
    repo = repository(tmp_path, "resources:\n  - pod.yaml\n")
    (repo / "app" / "pod.yaml").write_text(POD)
    assert not build(repo / "app", root=repo).unrestricted


def _climb_from_copy() -> str:
    """``..`` enough to climb from the build folder of klint's copy
    (``<tmp>/klint-kustomize-*/tree/app``) to ``/``, but not from the repository's own
    (deeper) one: the path names nothing there, so only the copy could read it."""
    return "../" * (len(Path(tempfile.gettempdir()).resolve().parts) + 2)


@pytest.mark.parametrize("form", ["generator", "resource", "absolute"])
def test_a_path_that_could_leave_the_copy_keeps_the_restrictor(tmp_path: Path, form: str) -> None:
    secret = tmp_path / "outside.txt"
    token = secrets.token_hex(16)
    secret.write_text(f"token: {token}\n")
    relative = _climb_from_copy() + str(secret.resolve()).lstrip("/")
    entry = {
        "generator": f"configMapGenerator:\n  - name: leak\n    files:\n      - s={relative}\n",
        "resource": f"  - {relative}\n",
        "absolute": f"configMapGenerator:\n  - name: leak\n    files:\n      - {secret}\n",
    }[form]
    text = "resources:\n  - ../shared/pod.yaml\n"
    repo = repository(tmp_path, text + entry)
    assert not (repo / "app" / relative).exists()  # nothing there in the repository's tree
    data, code, everything = check(repo)
    assert code == 2
    assert token not in everything
    assert [n["code"] for n in data["notifications"]] == ["kustomize-build"]
    assert data["notifications"][0]["fatal"] is True
    with pytest.raises(KustomizeBuildError):
        build(repo / "app", root=repo)


def test_plugins_keep_the_restrictor(tmp_path: Path) -> None:
    repo = repository(tmp_path, "resources:\n  - ../shared/pod.yaml\ngenerators:\n  - gen.yaml\n")
    (repo / "app" / "gen.yaml").write_text(
        "apiVersion: builtin\nkind: ConfigMapGenerator\nmetadata: {name: g}\n"
    )
    with pytest.raises(KustomizeBuildError, match="is not in or below"):
        build(repo / "app", root=repo)

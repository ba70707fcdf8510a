"""A dependency fetched from a chart repository or registry that the same tree publishes
(``charts/<name>`` beside the chart, with a version the entry allows) renders from that
folder offline, as ``helm dependency build`` would from its release; and Helm's version
constraints, which decide whether the folder is a release the entry accepts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from klint.sources.helm.chart_files import missing_dependencies, published_here
from klint.sources.helm.versions import satisfies
from tests.conftest import needs_helm_sdk, run_cli
from tests.sources.test_helm_local_deps import APP_TEMPLATE, LIB

REGISTRY = "oci://ghcr.io/example/helm-charts"


def _write(folder: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)


def _repo(tmp_path: Path, constraint: str, lib_version: str = "0.3.2") -> Path:
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    lib = dict(LIB, **{"Chart.yaml": LIB["Chart.yaml"].replace("0.1.0", lib_version)})
    _write(repo / "charts" / "lib", lib)
    chart = (
        "apiVersion: v2\nname: app\nversion: 0.1.0\ndependencies:\n"
        f"  - name: lib\n    version: {constraint!r}\n    repository: {REGISTRY}\n"
    )
    app = {"Chart.yaml": chart, "values.yaml": "{}\n", "templates/deployment.yaml": APP_TEMPLATE}
    _write(repo / "charts" / "app", app)
    return repo


def _check(repo: Path) -> tuple[dict[str, Any], int]:
    result = run_cli("check", "--format", "json", "--no-cache", "charts/app", cwd=repo)
    return json.loads(result.stdout), result.returncode


@needs_helm_sdk
def test_a_published_library_renders_from_its_folder_in_the_tree(tmp_path: Path) -> None:
    repo = _repo(tmp_path, "0.3.*")
    data, code = _check(repo)
    assert code == 1 and not data["notifications"]
    privileged = [(f["path"], f["line"]) for f in data["findings"] if f["rule_id"] == "KL101"]
    assert privileged == [("charts/lib/templates/_pod.tpl", 2)]  # the line a person edits
    assert not (repo / "charts" / "app" / "charts").exists()  # the user's chart untouched


@needs_helm_sdk
def test_a_folder_whose_version_the_entry_refuses_stays_missing(tmp_path: Path) -> None:
    repo = _repo(tmp_path, "^1.0.0")
    data, code = _check(repo)
    assert code == 2
    codes = [n["code"] for n in data["notifications"]]
    assert codes == ["helm-dependency", "helm-render"]
    assert "left out" not in data["notifications"][1]["message"]  # a missing helper
    assert not [f for f in data["findings"] if f["rule_id"] == "KL101"]


def test_only_a_chart_of_that_name_beside_the_chart_and_inside_the_root(tmp_path: Path) -> None:
    repo = _repo(tmp_path, "0.3.*")
    app = repo / "charts" / "app"
    assert published_here(app, {"name": "lib", "version": "0.3.*"}, repo) == repo / "charts" / "lib"
    assert missing_dependencies(app, repo) == []
    assert missing_dependencies(app) == ["lib"]  # without a root nothing is resolved
    for entry in (
        {"name": "../charts/lib", "version": "*"},
        {"name": "lib/..", "version": "*"},
        {"name": "other", "version": "*"},
        {"name": "lib", "version": "0.4.x"},
        {"name": "lib", "version": "not a constraint"},
    ):
        assert published_here(app, entry, repo) is None, entry
    (repo / "charts" / "lib" / "Chart.yaml").write_text(
        "apiVersion: v2\nname: renamed\nversion: 0.3.2\n"
    )
    assert published_here(app, {"name": "lib"}, repo) is None  # the folder is another chart
    assert published_here(app, {"name": "lib"}, repo / "charts" / "app") is None  # outside


@pytest.mark.parametrize(
    ("version", "constraint", "expected"),
    [
        ("0.3.5", "0.3.*", True),
        ("0.4.0", "0.3.*", False),
        ("1.2.3", "~1.2", True),
        ("1.3.0", "~1.2", False),
        ("2.1.0", "~2", True),
        ("1.9.0", "^1.2.3", True),
        ("2.0.0", "^1.2.3", False),
        ("0.2.9", "^0.2.3", True),
        ("0.3.0", "^0.2.3", False),
        ("0.0.4", "^0.0.3", False),
        ("1.0.0", ">=1.0.0 <2", True),
        ("2.0.0", ">=1.0.0, <2", False),
        ("3.0.0", "1.x || >=3", True),
        ("1.4.5", "1.2 - 1.4.5", True),
        ("1.5.0", "1.2 - 1.4.5", False),
        ("1.0.0-rc1", "^1.0.0", False),  # a pre-release only for a constraint that names one
        ("5.1.0", "5.1.0", True),
        ("5.1.1", "5.1.0", False),
        ("1.2.4", "!=1.2.3", True),
        ("1.2.3", "!=1.2.3", False),
        ("1.2.2", ">1.2.2", False),
        ("1.2.9", "<=1.2", True),
        ("1.3.0", "<=1.2", False),
        ("1.2.3", "<1.2.3", False),
        ("9.9.9", "*", True),
        ("1.2.3", "1.2.3 !", None),
        ("1.2.3", "garbage!", None),
        ("not.a.version", "*", None),
    ],
)
def test_helm_version_constraints(version: str, constraint: str, expected: bool | None) -> None:
    assert satisfies(version, constraint) is expected

"""Chart dependencies kept in the repository (``repository: file://../lib``) are vendored
into klint's copy as ``helm dependency build`` would, offline and inside the repository."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from klint.sources.helm.local_deps import local_dependencies
from tests.conftest import needs_helm_sdk, run_cli

LIB = {
    "Chart.yaml": "apiVersion: v2\nname: lib\ntype: library\nversion: 0.1.0\n",
    "templates/_pod.tpl": '{{- define "lib.sc" -}}\nprivileged: true\n{{- end }}\n',
}
APP_TEMPLATE = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
spec:
  selector:
    matchLabels: {app: app}
  template:
    metadata:
      labels: {app: app}
    spec:
      containers:
        - name: app
          image: example.com/app:1.0
          securityContext:
            {{- include "lib.sc" . | nindent 12 }}
"""


def _write(folder: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)


def _app(repository: str) -> dict[str, str]:
    chart = (
        "apiVersion: v2\nname: app\nversion: 0.1.0\ndependencies:\n"
        f"  - name: lib\n    version: 0.1.0\n    repository: {repository}\n"
    )
    return {"Chart.yaml": chart, "values.yaml": "{}\n", "templates/deployment.yaml": APP_TEMPLATE}


def _repo(tmp_path: Path, repository: str = "file://../lib") -> Path:
    repo = tmp_path / "repo"
    _write(repo / "charts" / "lib", LIB)
    _write(repo / "charts" / "app", _app(repository))
    return repo


def _check(repo: Path, *args: str) -> tuple[dict[str, Any], int]:
    result = run_cli("check", "--format", "json", "--no-cache", *args, cwd=repo)
    return json.loads(result.stdout), result.returncode


@needs_helm_sdk
def test_a_library_chart_by_path_is_vendored_and_its_helper_located(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    data, code = _check(repo, "charts/app")
    assert code == 1 and not data["notifications"]
    privileged = [(f["path"], f["line"]) for f in data["findings"] if f["rule_id"] == "KL101"]
    assert privileged == [("charts/lib/templates/_pod.tpl", 2)]  # the line a person edits
    assert not (repo / "charts" / "app" / "charts").exists()  # the user's chart untouched


@needs_helm_sdk
def test_a_subchart_folder_resolves_its_own_relative_path(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    sub = repo / "charts" / "app" / "charts" / "sub"
    _write(sub, _app("file://../../../lib"))
    for name in ("Chart.yaml", "templates/deployment.yaml"):  # names only: not apps/v1
        (sub / name).write_text((sub / name).read_text().replace("name: app", "name: sub"))
    app = repo / "charts" / "app" / "Chart.yaml"
    app.write_text(app.read_text() + "  - name: sub\n    version: 0.1.0\n")
    data, code = _check(repo, "charts/app")
    assert code == 1 and not data["notifications"]
    objects = {f["object"]["name"] for f in data["findings"] if f["rule_id"] == "KL101"}
    assert objects == {"app", "sub"}


@needs_helm_sdk
def test_a_path_out_of_the_repository_stays_missing_and_is_never_read(tmp_path: Path) -> None:
    outside = tmp_path / "outside-lib"
    _write(outside, LIB)
    repo = _repo(tmp_path, "file://../../../outside-lib")
    data, code = _check(repo, "charts/app")
    assert code == 2
    codes = [n["code"] for n in data["notifications"]]
    assert codes == ["helm-dependency", "helm-render"]
    # the app's template includes the missing dependency's helper: nothing is left out
    assert "nor were the chart's own" in data["notifications"][0]["message"]
    assert "left out" not in data["notifications"][1]["message"]
    assert str(tmp_path) not in json.dumps(data)


@needs_helm_sdk
def test_a_link_out_of_the_repository_inside_the_dependency_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "secret.tpl"
    secret.write_text('{{- define "lib.sc" -}}\nprivileged: false\n{{- end }}\n')
    repo = _repo(tmp_path)
    (repo / "charts" / "lib" / "templates" / "_pod.tpl").unlink()
    (repo / "charts" / "lib" / "templates" / "_pod.tpl").symlink_to(secret)
    data, code = _check(repo, "charts/app")
    assert code == 2
    assert not data["findings"]
    assert "privileged: false" not in json.dumps(data)


def test_another_chart_of_the_name_or_a_non_chart_is_not_a_dependency(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    app = repo / "charts" / "app"
    assert [d.target for d in local_dependencies(app, repo)] == [repo / "charts" / "lib"]
    (repo / "charts" / "lib" / "Chart.yaml").write_text("apiVersion: v2\nname: other\n")
    assert local_dependencies(app, repo) == []
    (repo / "charts" / "lib" / "Chart.yaml").unlink()
    assert local_dependencies(app, repo) == []


def test_a_dependency_cycle_ends(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    for name, other in (("a", "b"), ("b", "a")):
        chart = (
            f"apiVersion: v2\nname: {name}\nversion: 1.0.0\ndependencies:\n"
            f"  - name: {other}\n    version: 1.0.0\n    repository: file://../{other}\n"
        )
        _write(repo / name, {"Chart.yaml": chart})
    found = local_dependencies(repo / "a", repo)
    assert [(d.declared_in.name, d.target.name) for d in found] == [("a", "b"), ("b", "a")]


@needs_helm_sdk
def test_an_edit_of_the_dependency_is_seen_by_the_result_cache(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    cache = ("--cache-dir", str(tmp_path / "cache"))
    first = run_cli("check", "--format", "json", *cache, "charts/app", cwd=repo)
    helper = repo / "charts" / "lib" / "templates" / "_pod.tpl"
    helper.write_text(helper.read_text().replace("true", "false"))
    second = run_cli("check", "--format", "json", *cache, "charts/app", cwd=repo)
    before = {f["rule_id"] for f in json.loads(first.stdout)["findings"]}
    after = {f["rule_id"] for f in json.loads(second.stdout)["findings"]}
    assert "KL101" in before and "KL101" not in after

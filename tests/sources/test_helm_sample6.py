"""Charts of fresh repositories (sample 6): no machine path in any message, schemas with
remote references, and the release archives of a Helm repository."""

from __future__ import annotations

import json
from pathlib import Path

from klint.sources.helm.chart_files import helm_repository_release
from tests.conftest import needs_helm_sdk, run_cli

pytestmark = needs_helm_sdk


def test_a_link_out_of_the_root_names_no_absolute_path_and_no_values_hint(
    tmp_path: Path,
) -> None:
    repo = tmp_path / "repo"
    chart = repo / "chart"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: chart\nversion: 0.1.0\n")
    (chart / "templates" / "cm.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n"
    )
    (chart / "crds").symlink_to("/etc")
    runs = [run_cli("check", ".", "--format", form, cwd=repo) for form in ("json", "sarif")]
    assert [run.returncode for run in runs] == [2, 2]
    every = "\n".join(run.stdout + run.stderr for run in runs)
    assert "crds: is a symbolic link that leads outside the root" in every
    assert str(tmp_path) not in every and "pytest-of-" not in every
    assert "If it needs values" not in every  # no values file would render it
    problems = json.loads(runs[0].stdout)["notifications"]
    assert [p["path"] for p in problems] == ["chart/Chart.yaml"]


SCHEMA = """\
{
  "type": "object",
  "properties": {
    "replicas": {"type": "string"},
    "affinity": {
      "$ref": "https://example.invalid/k8s/_definitions.json#/definitions/Affinity"
    }
  }
}
"""


def test_a_schema_with_remote_references_is_left_out_and_the_chart_linted(
    tmp_path: Path,
) -> None:
    chart = tmp_path / "chart"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: chart\nversion: 0.1.0\n")
    (chart / "values.yaml").write_text("replicas: 3\n")  # the schema would refuse it
    (chart / "values.schema.json").write_text(SCHEMA)
    (chart / "templates" / "cm.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n"
        "data: {replicas: {{ .Values.replicas | quote }}}\n"
    )
    run = run_cli("check", ".", "--format", "json", cwd=tmp_path)
    report = json.loads(run.stdout)
    assert report["summary"]["objects"] == 1
    [warning] = report["notifications"]
    assert (warning["code"], warning["level"], warning["fatal"]) == (
        "helm-schema",
        "warning",
        False,
    )
    assert (warning["path"], warning["line"]) == ("chart/values.schema.json", 6)
    assert "https://example.invalid/k8s/" in warning["message"]
    assert run.returncode == 0  # a warning about the input fails nothing by itself
    # with the privileged pod beside it, the chart's findings are there as before
    (chart / "templates" / "pod.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n"
        "    - {name: c, image: nginx:1.25, securityContext: {privileged: true}}\n"
    )
    run = run_cli("check", ".", "--format", "json", cwd=tmp_path)
    found = {f["rule_id"] for f in json.loads(run.stdout)["findings"]}
    assert "KL101" in found and run.returncode == 1


PRIVILEGED = (
    "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n"
    "    - {name: c, image: nginx:1.25, securityContext: {privileged: true}}\n"
)


def _pack(archive: Path, name: str, template: str = PRIVILEGED) -> None:
    """A packaged chart ``name`` whose one template is ``template`` (a privileged pod)."""
    import io
    import tarfile

    with tarfile.open(archive, "w:gz") as tar:
        for member, text in (
            (f"{name}/Chart.yaml", f"apiVersion: v2\nname: {name}\nversion: 0.1.0\n"),
            (f"{name}/templates/pod.yaml", template),
        ):
            data = text.encode()
            info = tarfile.TarInfo(member)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def _levels(run_dir: Path) -> dict[str, set[str]]:
    run = run_cli("check", ".", "--format", "json", "--no-cache", cwd=run_dir)
    levels: dict[str, set[str]] = {}
    for finding in json.loads(run.stdout)["findings"]:
        levels.setdefault(finding["path"].split("/")[1], set()).add(finding["severity"])
    return levels


def test_release_archives_of_a_helm_repository_are_published_copies(tmp_path: Path) -> None:
    charts = tmp_path / "charts"
    (charts / "chart" / "templates").mkdir(parents=True)
    (charts / "chart" / "Chart.yaml").write_text("apiVersion: v2\nname: chart\nversion: 0.2.0\n")
    (charts / "chart" / "templates" / "pod.yaml").write_text(PRIVILEGED)
    _pack(charts / "chart-0.1.0.tgz", "chart")
    (charts / "index.yaml").write_text("apiVersion: v1\nentries: {}\n")
    levels = _levels(tmp_path)
    assert levels["chart-0.1.0.tgz!"] == {"note"}  # even KL101: fixed in its sources
    assert "error" in levels["chart"]
    run = run_cli("check", ".", "--format", "json", "--no-cache", cwd=tmp_path)
    findings = json.loads(run.stdout)["findings"]
    failing = {f["rule_id"] for f in findings if f["severity"] != "note"}  # the current chart's
    lowered = [f for f in findings if ".tgz" in f["path"] and f["rule_id"] in failing]
    assert lowered and all(
        "a published chart release in a Helm repository (index.yaml)" in f["message"]
        for f in lowered
    )
    # without index.yaml the archive in charts/ is linted as before (not a published copy)
    (charts / "index.yaml").unlink()
    assert "error" in _levels(tmp_path)["chart-0.1.0.tgz!"]


def test_a_release_is_an_archive_beside_an_index_not_a_charts_dependency(
    tmp_path: Path,
) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    _pack(repo / "web-0.1.0.tgz", "web")
    assert not helm_repository_release(repo / "web-0.1.0.tgz")  # no index.yaml
    (repo / "index.yaml").write_text("apiVersion: v1\nentries: {}\n")
    assert helm_repository_release(repo / "web-0.1.0.tgz")
    dependencies = tmp_path / "web" / "charts"  # a chart's own charts/ folder
    dependencies.mkdir(parents=True)
    (tmp_path / "web" / "Chart.yaml").write_text("apiVersion: v2\nname: web\nversion: 0.1.0\n")
    _pack(dependencies / "db-0.1.0.tgz", "db")
    (dependencies / "index.yaml").write_text("apiVersion: v1\nentries: {}\n")
    assert not helm_repository_release(dependencies / "db-0.1.0.tgz")
    assert not helm_repository_release(repo / "index.yaml")  # not an archive


def test_a_published_release_that_does_not_render_is_a_note_not_a_failure(
    tmp_path: Path,
) -> None:
    """ory/k8s keeps 21 old releases beside its index.yaml whose templates ``fail`` without
    secrets: the releases are copies, so the run does not fail on them."""
    charts = tmp_path / "charts"
    charts.mkdir()
    _pack(charts / "chart-0.1.0.tgz", "chart", '{{ fail "set a secret" }}\n')
    (charts / "index.yaml").write_text("apiVersion: v1\nentries: {}\n")
    archive = "charts/chart-0.1.0.tgz"
    run = run_cli("check", archive, "--format", "json", "--no-cache", cwd=tmp_path)
    [note] = json.loads(run.stdout)["notifications"]
    assert (note["code"], note["level"], note["fatal"]) == ("helm-render", "note", False)
    assert "published chart release" in note["message"]
    assert run.returncode == 0
    (charts / "index.yaml").unlink()  # not a release: a chart that fails is a failure
    again = run_cli(
        "check", "charts/chart-0.1.0.tgz", "--format", "json", "--no-cache", cwd=tmp_path
    )
    assert again.returncode == 2

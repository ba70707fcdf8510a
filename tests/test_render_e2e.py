"""Charts and overlays end to end: real renders, findings on the line a person edits."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from tests.conftest import REPO, run_cli


def findings(*paths: str, cwd: Path = REPO) -> tuple[dict[str, Any], int]:
    result = run_cli("check", "--format", "json", *paths, cwd=cwd)
    return json.loads(result.stdout), result.returncode


def where(data: dict[str, Any], rule: str) -> list[tuple[str, int, int]]:
    return sorted(
        (f["path"], f["line"], f["column"]) for f in data["findings"] if f["rule_id"] == rule
    )


def test_helm_findings_map_to_template_and_values_lines() -> None:
    data, code = findings("fixtures/helm/web")
    assert code == 1
    assert where(data, "KL101") == [("fixtures/helm/web/templates/deployment.yaml", 27, 13)]
    privileged = next(f for f in data["findings"] if f["rule_id"] == "KL101")
    assert [(r["path"], r["line"]) for r in privileged["related"]] == [
        ("fixtures/helm/web/values.yaml", 9)
    ]
    assert where(data, "KL102") == [("fixtures/helm/web/templates/deployment.yaml", 17, 7)]
    # subchart and hook templates keep their own files
    # a hostPath is reported under the baseline rule (KL105), not again as KL204
    assert ("fixtures/helm/web/charts/cache-chart/templates/daemonset.yaml", 22, 11) in where(
        data, "KL105"
    )
    assert ("fixtures/helm/web/charts/cache-chart/templates/daemonset.yaml", 22, 11) not in (
        where(data, "KL204")
    )
    assert where(data, "KL103") == [
        ("fixtures/helm/web/templates/hooks/pre-install-job.yaml", 12, 7)
    ]
    assert all("/tmp" not in f["path"] for f in data["findings"])


def test_a_template_file_stands_for_its_chart_once() -> None:
    # run from fixtures/: a folder named on the command line keeps the levels its own name
    # (fixtures/) would lower, and this test compares the units, not that rule
    here = REPO / "fixtures"
    data, _ = findings(
        "helm/web/templates/deployment.yaml",
        "helm/web/values.yaml",
        "helm/web/charts/db/templates/statefulset.yaml",
        cwd=here,
    )
    whole, _ = findings("helm/web", cwd=here)
    assert data["findings"] == whole["findings"]
    assert any(f["severity"] == "warning" for f in whole["findings"])


def test_render_failures_are_exit_2_with_template_line() -> None:
    data, code = findings("fixtures/helm/broken", "fixtures/helm/missing-dep")
    assert code == 2
    problems = {(n["path"], n["line"], n["code"]) for n in data["notifications"]}
    assert ("fixtures/helm/broken/templates/configmap.yaml", 6, "helm-render") in problems
    # the chart renders without its missing dependency, which is reported on its entry
    assert ("fixtures/helm/missing-dep/Chart.yaml", 6, "helm-dependency") in problems


def test_kustomize_findings_map_to_patches_and_base() -> None:
    overlay = REPO / "fixtures" / "kustomize" / "overlays" / "prod"
    before = {p: p.read_bytes() for p in overlay.rglob("*") if p.is_file()}
    data, code = findings("fixtures/kustomize/overlays/prod")
    assert code == 1
    assert where(data, "KL101") == [("fixtures/kustomize/overlays/prod/privileged.yaml", 12, 25)]
    assert where(data, "KL102") == [("fixtures/kustomize/overlays/prod/privileged.yaml", 8, 20)]
    assert ("fixtures/kustomize/overlays/prod/escalation.json.yaml", 3, 10) in where(data, "KL201")
    assert where(data, "KL103") == [("fixtures/kustomize/overlays/prod/kustomization.yaml", 23, 22)]
    assert where(data, "KL203") == [("fixtures/kustomize/base/deployment.yaml", 21, 24)]
    assert {p: p.read_bytes() for p in overlay.rglob("*") if p.is_file()} == before
    assert not any("config.kubernetes.io" in json.dumps(f) for f in data["findings"])


def test_kustomize_failures_are_exit_2() -> None:
    data, code = findings("fixtures/kustomize/remote", "fixtures/kustomize/broken")
    assert code == 2
    codes = {(n["path"], n["code"]) for n in data["notifications"]}
    assert ("fixtures/kustomize/remote/kustomization.yaml", "kustomize-build") in codes
    assert ("fixtures/kustomize/broken/kustomization.yaml", "kustomize-build") in codes


def test_sarif_for_chart_and_overlay_is_valid() -> None:
    from tests.test_sarif import sarif

    log = sarif("fixtures/helm/web", "fixtures/kustomize/overlays/prod")
    results = log["runs"][0]["results"]
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results}
    assert "fixtures/helm/web/templates/deployment.yaml" in uris
    assert "fixtures/kustomize/overlays/prod/privileged.yaml" in uris
    related = [r for r in results if r.get("relatedLocations")]
    texts = [r["message"]["text"] for r in related]
    assert any("set in fixtures/helm/web/values.yaml" in text for text in texts)
    # the db subchart's own value is set in its own values.yaml
    assert any("set in fixtures/helm/web/charts/db/values.yaml:2" in text for text in texts)


def test_rendered_helm_output_maps_through_source_comments() -> None:
    data, _ = findings("fixtures/helm/web-rendered.yaml")
    assert where(data, "KL101") == [("fixtures/helm/web/templates/deployment.yaml", 27, 13)]
    privileged = next(f for f in data["findings"] if f["rule_id"] == "KL101")
    assert [(r["path"], r["line"]) for r in privileged["related"]] == [
        ("fixtures/helm/web/values.yaml", 9)
    ]


def test_rendered_output_without_its_chart_stays_on_the_rendered_file(tmp_path: Path) -> None:
    text = (REPO / "fixtures/helm/web-rendered.yaml").read_text()
    (tmp_path / "out.yaml").write_text(text)
    result = run_cli("check", "--format", "json", "out.yaml", cwd=tmp_path)
    lines = where(json.loads(result.stdout), "KL101")
    line = next(n for n, t in enumerate(text.splitlines(), 1) if t.strip() == "privileged: true")
    assert lines == [("out.yaml", line, 25)]


def test_packaged_chart_is_rendered_and_reported_in_the_archive(tmp_path: Path) -> None:
    import tarfile

    archive = tmp_path / "web-0.1.0.tgz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(REPO / "fixtures/helm/web", arcname="web")
    result = run_cli("check", "--format", "json", "web-0.1.0.tgz", cwd=tmp_path)
    data = json.loads(result.stdout)
    assert result.returncode == 1
    # on the template line inside the archive, as for a vendored subchart archive
    assert {(f["path"], f["line"]) for f in data["findings"] if f["rule_id"] == "KL101"} == {
        ("web-0.1.0.tgz!/web/templates/deployment.yaml", 27)
    }


def test_a_chart_that_renders_forever_is_stopped_and_the_next_still_linted(
    tmp_path: Path,
) -> None:
    slow = tmp_path / "slow"
    (slow / "templates").mkdir(parents=True)
    (slow / "Chart.yaml").write_text("apiVersion: v2\nname: slow\nversion: 0.1.0\n")
    (slow / "templates" / "cm.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n"
        # CPU-bound, not memory-bound: the render child's memory budget would stop a
        # single `until 2000000000` (16 GB) before the time limit does.
        'data:\n  a: "{{ range until 100000 }}{{ range until 100000 }}{{ end }}{{ end }}"\n'
    )
    import shutil

    shutil.copytree(REPO / "fixtures/helm/web", tmp_path / "web")
    result = run_cli(
        "check", "--format", "json", "--render-timeout", "2", "slow", "web", cwd=tmp_path
    )
    data = json.loads(result.stdout)
    assert result.returncode == 2
    problems = [(n["path"], n["code"]) for n in data["notifications"]]
    assert problems == [("slow/Chart.yaml", "helm-render")]
    assert "longer than 2 s" in data["notifications"][0]["message"]
    assert ("web/templates/deployment.yaml", 27, 13) in where(data, "KL101")


def test_a_chart_with_random_names_gives_the_same_report_every_run(tmp_path: Path) -> None:
    import shutil

    shutil.copytree(REPO / "fixtures/helm/web", tmp_path / "web")
    test_pod = tmp_path / "web/templates/tests/test-connection.yaml"
    text = test_pod.read_text()
    test_pod.write_text(text.replace("name: ", "name: {{ randAlphaNum 8 | lower }}-", 1))

    def report() -> str:
        result = run_cli("check", "--no-cache", "--format", "json", "web", cwd=tmp_path)
        assert '"findings"' in result.stdout
        return result.stdout

    assert report() == report()  # byte for byte: object names, messages, fingerprints


def test_committed_output_in_test_data_stays_on_its_own_lines(tmp_path: Path) -> None:
    # an old release's `helm template` output kept as test data may not match today's chart:
    # it is reported on its own lines (a note there), not mapped onto today's templates
    repo = tmp_path / "repo"
    shutil.copytree(REPO / "fixtures/helm/web", repo / "web")
    for folder in ("deploy", "testdata"):
        (repo / folder).mkdir()
        shutil.copy(REPO / "fixtures/helm/web-rendered.yaml", repo / folder / "out.yaml")
    result = run_cli("check", "--no-cache", "--format", "json", ".", cwd=repo)
    privileged = [f for f in json.loads(result.stdout)["findings"] if f["rule_id"] == "KL101"]
    assert sorted((f["path"], f["severity"]) for f in privileged) == [
        ("testdata/out.yaml", "note"),
        ("web/templates/deployment.yaml", "error"),  # the chart and deploy/out.yaml, once
    ]

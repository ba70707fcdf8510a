"""The ``crds/`` files of a chart's enabled subcharts are documents of its unit: Helm installs
them with the chart (recursively; a disabled dependency's are not installed since Helm 3.8,
helm/helm#9915). Fixture ``fixtures/helm/subchart-crds``: ``operator`` (a folder, enabled by
its own values.yaml) with a nested ``webhooks`` (its own values say false, the parent's say
true; a ``.json`` CRD), ``extras`` (a folder, condition false), ``packed`` (an archive, tag
true) and ``legacy`` (an archive, tag false)."""

from __future__ import annotations

import io
import json
import shutil
import tarfile
from pathlib import Path

from tests.conftest import FIXTURES, needs_helm_sdk, run_cli

pytestmark = needs_helm_sdk

CHART = FIXTURES / "helm" / "subchart-crds"
OPERATOR = "subchart-crds/charts/operator/crds/gadgets.yaml"
WEBHOOKS = "subchart-crds/charts/operator/charts/webhooks/crds/hooks.json"
PACKED = "subchart-crds/charts/packed-0.1.0.tgz!/packed/crds/things.yaml"
EXTRAS = "subchart-crds/charts/extras/crds/extras.yaml"
LEGACY = "subchart-crds/charts/legacy-0.1.0.tgz!/legacy/crds/olds.yaml"


def _check(cwd: Path, *args: str) -> dict[str, object]:
    result = run_cli("check", "subchart-crds", "--format", "json", *args, cwd=cwd)
    assert result.returncode in (0, 1), result.stderr
    data: dict[str, object] = json.loads(result.stdout)
    return data


def _crd_findings(data: dict[str, object]) -> dict[str, int]:
    findings = data["findings"]
    assert isinstance(findings, list)
    return {f["path"]: f["line"] for f in findings if f["rule_id"] == "KL903"}


def _member(archive: Path, name: str) -> list[str]:
    with tarfile.open(archive) as tar:
        handle = tar.extractfile(name)
        assert handle is not None
        return handle.read().decode().splitlines()


def test_the_crds_of_enabled_subcharts_are_linted_on_their_own_lines() -> None:
    data = _check(CHART.parent)
    found = _crd_findings(data)
    # extras (condition false) and legacy (tag false) would not be installed by Helm
    assert set(found) == {OPERATOR, WEBHOOKS, PACKED}
    gadgets = (CHART / "charts/operator/crds/gadgets.yaml").read_text().splitlines()
    assert gadgets[found[OPERATOR] - 1].strip() == "- name: v1"
    hooks = (CHART / "charts/operator/charts/webhooks/crds/hooks.json").read_text().splitlines()
    assert '"name": "v1"' in hooks[found[WEBHOOKS] - 1]
    things = _member(CHART / "charts/packed-0.1.0.tgz", "packed/crds/things.yaml")
    assert things[found[PACKED] - 1].strip() == "- name: v1"
    # the operator's role over acme.io is its job once the subchart's CRD is in the unit
    findings = data["findings"]
    assert isinstance(findings, list)
    roles = [f for f in findings if f["rule_id"] == "KL501"]
    assert roles and all(f["severity"] == "note" for f in roles)
    summary = data["summary"]
    assert isinstance(summary, dict)
    assert summary["files"] == 4  # the template and the three enabled CRD files


def test_values_decide_which_subcharts_crds_are_loaded() -> None:
    enabled = _check(CHART.parent, "--set", "extras.enabled=true", "--set", "tags.old=true")
    assert set(_crd_findings(enabled)) == {OPERATOR, WEBHOOKS, PACKED, EXTRAS, LEGACY}
    # a disabled subchart takes its own dependencies' CRDs with it
    off = _check(CHART.parent, "--set", "operator.enabled=false")
    assert set(_crd_findings(off)) == {PACKED}
    nested_off = _check(CHART.parent, "--set", "operator.webhooks.enabled=false")
    assert set(_crd_findings(nested_off)) == {OPERATOR, PACKED}


def _copy(tmp_path: Path) -> Path:
    chart = tmp_path / "subchart-crds"
    shutil.copytree(CHART, chart, symlinks=True)
    return chart


def test_a_subchart_crd_over_the_size_limit_is_a_problem_not_a_read(tmp_path: Path) -> None:
    # (a file over the limit in a subchart folder already stops the render of the chart; a
    # member of an archive is only as large as the archive says once unpacked)
    chart = _copy(tmp_path)
    big = "# padding\n" * 120_000  # ~1.2 MiB, over --max-file-size 1; a small archive
    archive = chart / "charts/packed-0.1.0.tgz"
    members = {
        name: "\n".join(_member(archive, name)) + "\n"
        for name in ("packed/Chart.yaml", "packed/values.yaml", "packed/crds/things.yaml")
    }
    members["packed/crds/things.yaml"] = big + members["packed/crds/things.yaml"]
    with tarfile.open(archive, "w:gz") as tar:
        for name, text in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(text.encode())
            tar.addfile(info, io.BytesIO(text.encode()))
    data = _check(tmp_path, "--max-file-size", "1")
    assert (chart / "charts/packed-0.1.0.tgz").stat().st_size < 1024 * 1024
    assert set(_crd_findings(data)) == {OPERATOR, WEBHOOKS}
    notifications = data["notifications"]
    assert isinstance(notifications, list)
    too_large = {n["path"] for n in notifications if n["code"] == "file-too-large"}
    assert too_large == {PACKED}


def test_links_in_subcharts_are_not_followed(tmp_path: Path) -> None:
    chart = _copy(tmp_path)
    outside = tmp_path / "outside"
    shutil.copytree(CHART / "charts/extras", outside)
    # a crds/ file and a whole subchart that are links: Helm's copy in klint's sandbox
    # would not have them either, and nothing outside the repository is read
    (chart / "charts/operator/crds/link.yaml").symlink_to(outside / "crds/extras.yaml")
    shutil.rmtree(chart / "charts/extras")
    (chart / "charts/extras").symlink_to(outside)
    data = _check(tmp_path, "--set", "extras.enabled=true")
    assert set(_crd_findings(data)) == {OPERATOR, WEBHOOKS, PACKED}


def test_text_output_names_the_file_inside_the_archive() -> None:
    result = run_cli("check", "subchart-crds", cwd=CHART.parent)
    lines = [line for line in result.stdout.splitlines() if "[KL903" in line]
    # path:line:col as editors and terminals read it, the member after the archive's `!/`
    assert any(line.startswith(f"{PACKED}:11:7: error: ") for line in lines), lines

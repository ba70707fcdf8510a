"""A chart's ``crds/`` files are documents of its unit (issue 23 §3): rules see the chart's
own CustomResourceDefinitions (an operator's roles over them are its job), and a finding in
a crds/ file lands on that file's line. Fixture: ``fixtures/signal/chart-with-crds``."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import FIXTURES, needs_helm_sdk, run_cli

CHART = FIXTURES / "signal" / "chart-with-crds"


def _findings(cwd: Path, *args: str) -> list[dict[str, object]]:
    result = run_cli("check", *args, "--profile", "all", "--format", "json", cwd=cwd)
    findings: list[dict[str, object]] = json.loads(result.stdout)["findings"]
    return findings


@needs_helm_sdk
def test_an_operator_role_over_the_charts_own_crds_is_a_note() -> None:
    wildcards = [f for f in _findings(CHART, ".") if f["rule_id"] == "KL501"]
    assert len(wildcards) == 2
    for finding in wildcards:
        assert finding["severity"] == "note"
        assert "defined by a CustomResourceDefinition of this input" in str(finding["message"])


@needs_helm_sdk
def test_a_finding_in_a_crds_file_lands_on_its_own_line() -> None:
    (storage,) = [f for f in _findings(CHART.parent, "chart-with-crds") if f["rule_id"] == "KL903"]
    assert storage["path"] == "chart-with-crds/crds/extra/gadgets.yaml"
    lines = (CHART / "crds" / "extra" / "gadgets.yaml").read_text(encoding="utf-8").splitlines()
    assert lines[int(str(storage["line"])) - 1].strip() == "- name: v1"


@needs_helm_sdk
def test_crd_files_are_counted_and_a_link_in_crds_is_not_followed(tmp_path: Path) -> None:
    chart = tmp_path / "chart"
    (chart / "templates").mkdir(parents=True)
    (chart / "crds").mkdir()
    for name in ("Chart.yaml", "values.yaml", "templates/clusterrole.yaml", "crds/widgets.yaml"):
        (chart / name).write_bytes((CHART / name).read_bytes())
    (chart / "files").mkdir()
    target = chart / "files" / "gadgets.yaml"
    target.write_bytes((CHART / "crds" / "extra" / "gadgets.yaml").read_bytes())
    (chart / "crds" / "link.yaml").symlink_to(target)  # links are never followed there
    result = run_cli("check", ".", "--profile", "all", "--format", "json", cwd=chart)
    data = json.loads(result.stdout)
    assert not [f for f in data["findings"] if f["rule_id"] == "KL903"]
    assert data["summary"]["files"] == 2  # the template and crds/widgets.yaml

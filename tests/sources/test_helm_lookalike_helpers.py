"""Containers included from look-alike helpers: each finding lands in the helper that
rendered its container (fixtures/helm/lookalike-helpers, modelled on tetragon's chart: a
sidecar helper listed before the agent helper, both naming their container by include)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.conftest import REPO, needs_helm_sdk, run_cli

pytestmark = needs_helm_sdk

CHART = REPO / "fixtures/helm/lookalike-helpers"


def _findings(chart: Path, rule: str) -> list[dict[str, object]]:
    result = run_cli("check", "--format", "json", "--no-cache", str(chart), cwd=chart)
    return [f for f in json.loads(result.stdout)["findings"] if f["rule_id"] == rule]


def _where(finding: dict[str, object]) -> tuple[object, ...]:
    related = finding["related"]
    assert isinstance(related, list)
    return (finding["path"], finding["line"], tuple((r["path"], r["line"]) for r in related))


def test_the_second_helper_gets_its_own_container_findings() -> None:
    [privileged] = _findings(CHART, "KL101")
    # _agent.tpl line 4 ({{- toYaml .Values.agent.securityContext }}), agent.securityContext
    # in values.yaml, never the sidecar's block or sidecar.securityContext
    assert _where(privileged) == ("templates/_agent.tpl", 4, (("values.yaml", 6),))
    [mount] = _findings(CHART, "KL154")
    assert _where(mount) == ("templates/_agent.tpl", 9, ())  # the literal /sys/fs/bpf mount
    limits = {f["message"].split('"')[1]: f["path"] for f in _findings(CHART, "KL401")}  # type: ignore[union-attr]
    assert limits == {"agent": "templates/_agent.tpl", "sidecar": "templates/_sidecar.tpl"}


def _variant(tmp_path: Path, agent_name: str, sidecar_name: str) -> Path:
    chart = tmp_path / "chart"
    shutil.copytree(CHART, chart)
    (chart / "templates/_names.tpl").write_text(
        f'{{{{- define "name.sidecar" -}}}}{sidecar_name}{{{{- end }}}}\n'
        f'{{{{- define "name.agent" -}}}}{agent_name}{{{{- end }}}}\n'
    )
    return chart


def test_names_from_values_are_told_apart_by_position(tmp_path: Path) -> None:
    # the names say nothing ({{ .Values.x }}), but each helper writes one container and the
    # rendered list has one per include: the second container is the second include
    chart = _variant(tmp_path, "{{ .Chart.Name }}", "{{ .Chart.Name }}-sidecar")
    [privileged] = _findings(chart, "KL101")
    assert _where(privileged) == ("templates/_agent.tpl", 4, (("values.yaml", 6),))


def test_undecidable_blocks_fall_back_to_the_lists_key(tmp_path: Path) -> None:
    # names say nothing and an optional values-driven block follows the two includes:
    # neither name nor position decides which block rendered the agent, so the finding
    # stays on the template's containers: key, never inside the wrong helper
    chart = _variant(tmp_path, "{{ .Chart.Name }}", "{{ .Chart.Name }}-sidecar")
    daemonset = chart / "templates/daemonset.yaml"
    text = daemonset.read_text().replace(
        '      {{- include "container.agent" . | nindent 6 }}\n',
        '      {{- include "container.agent" . | nindent 6 }}\n'
        "      {{- with .Values.extraContainers }}\n"
        "      {{- toYaml . | nindent 6 }}\n"
        "      {{- end }}\n",
    )
    daemonset.write_text(text)
    values = chart / "values.yaml"
    values.write_text(values.read_text() + "extraContainers: []\n")
    [privileged] = _findings(chart, "KL101")
    assert _where(privileged) == ("templates/daemonset.yaml", 12, ())


def test_a_literal_item_before_the_includes_does_not_shift_them(tmp_path: Path) -> None:
    # a literal container first, then the agent, then a disabled sidecar: two rendered
    # containers for two includes, but position 1 is the agent, not the second include
    chart = _variant(tmp_path, "{{ .Chart.Name }}", "{{ .Chart.Name }}-sidecar")
    daemonset = chart / "templates/daemonset.yaml"
    text = daemonset.read_text().replace(
        '      {{- include "container.sidecar" . | nindent 6 -}}\n'
        '      {{- include "container.agent" . | nindent 6 }}\n',
        "      - name: main\n"
        '        image: "busybox:1.36"\n'
        '      {{- include "container.agent" . | nindent 6 }}\n'
        "      {{- if .Values.sidecar.enabled }}\n"
        '      {{- include "container.sidecar" . | nindent 6 }}\n'
        "      {{- end }}\n",
    )
    assert text != daemonset.read_text()
    daemonset.write_text(text)
    [privileged] = _findings(chart, "KL101")
    assert privileged["message"].startswith('container "lookalike-helpers" ')  # type: ignore[union-attr]
    assert _where(privileged) == ("templates/_agent.tpl", 4, (("values.yaml", 6),))

"""``.Capabilities.APIVersions.Has "group/version/Kind"``: the built-in kinds the target
Kubernetes version serves, as a cluster's discovery answers (sample6 W-CAPS, consul-k8s)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from klint.sources.helm.backends import RenderOptions, _helm_template_command
from klint.sources.helm.capabilities import served_kinds
from klint.sources.helm.render import render_chart
from tests.conftest import needs_helm_sdk, run_cli

# consul-k8s charts/consul/templates/server-disruptionbudget.yaml, reduced
PDB = """\
{{- if .Capabilities.APIVersions.Has "policy/v1/PodDisruptionBudget" }}
apiVersion: policy/v1
{{- else }}
apiVersion: policy/v1beta1
{{- end }}
kind: PodDisruptionBudget
metadata:
  name: server
spec:
  maxUnavailable: 1
  selector:
    matchLabels:
      app: server
"""

ASKS = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: caps
data:
{{- range list "policy/v1/PodDisruptionBudget" "autoscaling/v2/HorizontalPodAutoscaler"
    "batch/v1/CronJob" "policy/v1beta1/PodDisruptionBudget" "batch/v1beta1/CronJob"
    "v1/Pod" "policy/v1" "v1/Status" "v1/PodList" "resource.k8s.io/v1beta1/ResourceClaim"
    "admissionregistration.k8s.io/v1alpha1/MutatingAdmissionPolicy" }}
  {{ . | replace "/" "_" }}: {{ $.Capabilities.APIVersions.Has . | quote }}
{{- end }}
"""


def chart(tmp_path: Path, templates: dict[str, str]) -> Path:
    root = tmp_path / "caps"
    (root / "templates").mkdir(parents=True)
    (root / "Chart.yaml").write_text("apiVersion: v2\nname: caps\nversion: 0.1.0\n")
    for name, text in templates.items():
        (root / "templates" / name).write_text(text)
    return root


def test_served_kinds_at_a_version() -> None:
    served = set(served_kinds("1.33"))
    assert {
        "policy/v1/PodDisruptionBudget",
        "autoscaling/v2/HorizontalPodAutoscaler",
        "batch/v1/CronJob",
        "apps/v1/Deployment",
        "v1/Pod",
    } <= served
    # removed at 1.25/1.26, an alpha, a beta off by default (KEP-3136), meta and list kinds
    assert not served & {
        "policy/v1beta1/PodDisruptionBudget",
        "batch/v1beta1/CronJob",
        "autoscaling/v2beta2/HorizontalPodAutoscaler",
        "admissionregistration.k8s.io/v1alpha1/MutatingAdmissionPolicy",
        "resource.k8s.io/v1beta1/ResourceClaim",
        "v1/Status",
        "v1/PodList",
        "policy/v1/DeleteOptions",
    }
    assert served_kinds("v1.33.4") == served_kinds("1.33")


def test_legacy_betas_until_their_removal() -> None:
    assert "autoscaling/v2beta2/HorizontalPodAutoscaler" in served_kinds("1.25")
    assert "autoscaling/v2beta2/HorizontalPodAutoscaler" not in served_kinds("1.26")
    assert "flowcontrol.apiserver.k8s.io/v1beta3/FlowSchema" in served_kinds("1.31")
    assert "flowcontrol.apiserver.k8s.io/v1beta3/FlowSchema" not in served_kinds("1.32")


@pytest.mark.parametrize("version", [None, "1.20", "not-a-version"])
def test_no_entries_where_the_bundle_cannot_say(version: str | None) -> None:
    assert served_kinds(version) == ()


def test_binary_gets_them_as_api_versions(tmp_path: Path) -> None:
    options = RenderOptions((), (), (), "r", "default", "1.33", ("policy/v1/PodDisruptionBudget",))
    command = _helm_template_command("helm", tmp_path, options)
    at = command.index("--api-versions")
    assert command[at : at + 2] == ["--api-versions", "policy/v1/PodDisruptionBudget"]
    assert command.index("--") > at


@needs_helm_sdk
def test_render_answers_group_version_kind(tmp_path: Path) -> None:
    [rendered] = render_chart(chart(tmp_path, {"cm.yaml": ASKS}), kube_version="1.33")
    answers = dict(line.strip().split(": ") for line in rendered.text.splitlines() if '"' in line)
    assert answers == {
        "policy_v1_PodDisruptionBudget": '"true"',
        "autoscaling_v2_HorizontalPodAutoscaler": '"true"',
        "batch_v1_CronJob": '"true"',
        "policy_v1beta1_PodDisruptionBudget": '"false"',
        "batch_v1beta1_CronJob": '"false"',
        "v1_Pod": '"true"',
        "policy_v1": '"true"',  # Helm's own group/version entries stay
        "v1_Status": '"false"',
        "v1_PodList": '"false"',
        "resource.k8s.io_v1beta1_ResourceClaim": '"false"',
        "admissionregistration.k8s.io_v1alpha1_MutatingAdmissionPolicy": '"false"',
    }


@needs_helm_sdk
@pytest.mark.parametrize("version", [None, "1.33"])
def test_consul_style_pdb_is_policy_v1_and_not_kl801(tmp_path: Path, version: str | None) -> None:
    root = chart(tmp_path, {"pdb.yaml": PDB})
    extra = [] if version is None else ["--kube-version", version]
    result = run_cli(
        "check", "--format", "json", "--select", "KL801,KL802", *extra, str(root), cwd=tmp_path
    )
    data = json.loads(result.stdout)
    assert data["findings"] == [], data["findings"]
    assert result.returncode == 0
    [rendered] = render_chart(root, kube_version=version or "1.35")
    assert "apiVersion: policy/v1\n" in rendered.text

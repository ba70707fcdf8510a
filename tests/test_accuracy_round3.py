"""Issue 25's real gaps against the peers, each pinned by a case of our own."""

from __future__ import annotations

from pathlib import Path

import pytest

from klint.catalog import load_catalog
from klint.findings import Severity
from tests.conftest import lint_text

POD = """\
apiVersion: v1
kind: Pod
metadata: {{name: web}}
spec:
{spec}
  containers:
    - name: app
      image: nginx:1.27
{container}
"""


def _findings(text: str, rule: str) -> list[str]:
    return [f.message for f in lint_text(text, rules=[rule]).active]


def test_kl202_says_what_is_missing_when_the_uid_is_not_root() -> None:
    text = POD.format(spec="  securityContext: {runAsUser: 1000}", container="")
    (message,) = _findings(text, "KL202")
    assert "runs as user 1000" in message and "runAsNonRoot" in message
    assert "may run as root" not in message
    (plain,) = _findings(POD.format(spec="", container=""), "KL202")
    assert "may run as root" in plain


AZURE_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)


@pytest.mark.parametrize(
    "name", ["AZURE_STORAGE_KEY", "STORAGE_ACCOUNT_KEY", "DB_PASS", "pwd", "passphrase"]
)
def test_credential_names_with_a_random_value_are_found(name: str) -> None:
    assert len(AZURE_KEY) == 88
    env = f"      env: [{{name: {name}, value: '{AZURE_KEY}'}}]"
    assert _findings(POD.format(spec="", container=env), "KL601")
    configmap = (
        f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c}}\ndata: {{{name}: '{AZURE_KEY}'}}\n"
    )
    assert _findings(configmap, "KL602")


CREDENTIAL_NAMES = [
    "AWS_SECRET_ACCESS_KEY",
    "AZURE_BATCH_KEY",
    "DB_PASSWORD",
    "OCI_CLI_KEY_CONTENT",
]


@pytest.mark.parametrize("name", CREDENTIAL_NAMES)
@pytest.mark.parametrize("value", ["*****", "<password>", "${PASSWORD}", "$(PASSWORD)"])
def test_placeholders_are_placeholders_under_every_name(name: str, value: str) -> None:
    env = f"      env: [{{name: {name}, value: '{value}'}}]"
    assert _findings(POD.format(spec="", container=env), "KL601") == []
    configmap = (
        f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c}}\ndata: {{{name}: '{value}'}}\n"
    )
    assert _findings(configmap, "KL602") == []


@pytest.mark.parametrize("name", CREDENTIAL_NAMES)
def test_a_dummy_value_under_a_credential_name_is_reported_for_every_name(name: str) -> None:
    """Polaris's sensitiveConfigmapContent fixtures: `xxxxx` marks where the secret goes."""
    configmap = f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c}}\ndata: {{{name}: xxxxx}}\n"
    assert _findings(configmap, "KL602")
    env = f"      env: [{{name: {name}, value: xxxxx}}]"
    assert _findings(POD.format(spec="", container=env), "KL601")


def test_a_literal_under_a_new_credential_name_is_still_reported() -> None:
    env = "      env: [{name: AZURE_BATCH_KEY, value: hunter2}]"
    assert _findings(POD.format(spec="", container=env), "KL601")


def test_the_shell_pwd_holding_a_path_is_not_a_credential() -> None:
    env = "      env: [{name: PWD, value: /srv/app}]"
    assert _findings(POD.format(spec="", container=env), "KL601") == []


ACCOUNT = """\
---
apiVersion: v1
kind: ServiceAccount
metadata: {{name: app}}
{extra}
"""
WORKLOAD = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      serviceAccountName: app
      containers: [{name: app, image: "nginx:1.27"}]
"""


def test_a_duplicate_object_is_reported_and_file_order_decides_nothing() -> None:
    off = ACCOUNT.format(extra="automountServiceAccountToken: false")
    on = ACCOUNT.format(extra="")
    first = lint_text(WORKLOAD + off + on, rules=["KL530", "KL809"])
    second = lint_text(WORKLOAD + on + off, rules=["KL530", "KL809"])
    for report in (first, second):
        rules = [f.rule_id for f in report.active]
        assert rules.count("KL809") == 2  # each definition, naming the other
        assert rules.count("KL530") == 1  # one definition automounts: the pod gets a token
    duplicate = next(f for f in first.active if f.rule_id == "KL809")
    assert "defined 2 times in this file" in duplicate.message
    assert duplicate.severity is Severity.WARNING


def test_the_same_name_in_two_namespaces_is_not_a_duplicate() -> None:
    text = ACCOUNT.format(extra="") + ACCOUNT.format(extra="").replace(
        "{name: app}", "{name: app, namespace: other}"
    )
    assert _findings(text, "KL809") == []


def test_sub_byte_memory_is_a_warning_and_whitespace_around_a_quantity_is_trimmed() -> None:
    resources = '      resources: {requests: {cpu: " 1", memory: "400m"}, limits: {memory: 1Gi}}'
    findings = lint_text(POD.format(spec="", container=resources), rules=["KL927"]).active
    assert [(f.severity, "400m" in f.message) for f in findings] == [(Severity.WARNING, True)]


@pytest.mark.parametrize(("policy", "expected"), [("", 1), ("  restartPolicy: Never", 0)])
def test_probe_rules_check_bare_pods_that_restart(policy: str, expected: int) -> None:
    text = POD.format(spec=policy, container="")
    assert len(_findings(text, "KL403")) == expected
    assert len(_findings(text, "KL404")) == expected


NAMESPACE = "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n---\n"


def test_a_namespace_without_a_policy_is_reported_once_for_the_namespace() -> None:
    workload = WORKLOAD.replace("{name: web}", "{name: web, namespace: shop}", 1)
    findings = lint_text(NAMESPACE + workload, rules=["KL702"]).active
    assert [f.message.split(" has ")[0] for f in findings] == ['Namespace "shop"']
    policy = (
        "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
        "metadata: {name: deny, namespace: shop}\nspec: {podSelector: {}}\n"
    )
    assert _findings(NAMESPACE + workload + policy, "KL702") == []


def test_ssh_through_a_service_without_a_container_port() -> None:
    service = """\
---
apiVersion: v1
kind: Service
metadata: {name: sftp}
spec:
  selector: {app: web}
  ports: [{name: ssh, port: 22}]
"""
    text = WORKLOAD + service
    assert _findings(text, "KL158") == []  # the pod declares no containerPort
    assert len(_findings(text, "KL714")) == 1


def test_egress_rules_ignored_by_policy_types_are_reported() -> None:
    text = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web}
spec:
  podSelector: {}
  policyTypes: [Ingress]
  egress: [{to: [{podSelector: {}}]}]
"""
    (message,) = _findings(text, "KL713")
    assert "egress rules are ignored" in message
    assert _findings(text.replace("[Ingress]", "[Ingress, Egress]"), "KL713") == []


def test_a_duplicate_across_files_is_a_note(tmp_path: Path) -> None:
    from klint.documents import Limits
    from klint.engine import bind_rules, lint
    from klint.selection import select_rules
    from klint.sources.base import LoadSettings
    from klint.sources.discover import DiscoverOptions, discover

    (tmp_path / ".git").mkdir()
    for name in ("app-dev.yaml", "app-prod.yaml"):
        (tmp_path / name).write_text(ACCOUNT.format(extra=""), encoding="utf-8")
    units = discover(["."], cwd=tmp_path, options=DiscoverOptions(render_units=False)).units
    rules = bind_rules(select_rules(load_catalog(), (), select=["KL809"]))
    report = lint(units, rules, LoadSettings(limits=Limits()), (1, 35))
    found = sorted((f.location.path, f.severity) for f in report.active)
    assert found == [("app-dev.yaml", Severity.NOTE), ("app-prod.yaml", Severity.NOTE)]

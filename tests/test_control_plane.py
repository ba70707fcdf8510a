"""The cluster's own configuration: one model of a component's effective settings (static
Pods, kubeadm, Cluster API, kind, KubeletConfiguration) and the rules that read it."""

from __future__ import annotations

import textwrap

import pytest

from klint.checks.base import UnitContext
from klint.checks.control_plane import component_flag, configs_of
from klint.documents import parse_stream
from klint.model.control_plane import Origin, component_configs
from klint.model.resource import Resource, resources_from_document
from tests.conftest import hits, lint_text


def _resources(text: str) -> list[Resource]:
    documents = parse_stream(textwrap.dedent(text), "test.yaml").documents
    return [r for d in documents for r in resources_from_document(d)]


def _pod(*items: str, args: tuple[str, ...] = ()) -> str:
    lines = [
        "apiVersion: v1",
        "kind: Pod",
        "metadata: {name: api, namespace: kube-system}",
        "spec:",
        "  containers:",
        "    - name: sidecar",
        "      image: busybox:1.36",
        "      command: [sh, -c, 'kube-apiserver --anonymous-auth=true']",
        "    - name: api",
        "      image: registry.k8s.io/kube-apiserver:v1.31.0",
        "      command:",
        *(f"        - {item}" for item in items),
    ]
    if args:
        lines += ["      args:", *(f"        - {item}" for item in args)]
    return "\n".join(lines) + "\n"


def test_flags_in_every_form_with_the_path_of_the_item_that_sets_them() -> None:
    text = _pod(
        "/usr/local/bin/kube-apiserver",
        "--profiling",
        '"true"',
        "--secure-port=6443",
        "--tls-cert-file",
        "--anonymous-auth=true",
        args=("--anonymous-auth=false", "--enable-admission-plugins=A,B"),
    )
    [config] = component_configs(_resources(text)[0])
    assert config.component == "kube-apiserver"
    assert config.origin is Origin.FLAGS
    assert config.anchor == ("spec", "containers", 1, "command")
    profiling = config.get("profiling")
    assert profiling is not None and profiling.value == "true"
    assert profiling.path == ("spec", "containers", 1, "command", 1)
    bare = config.get("tls-cert-file")
    assert bare is not None and bare.value is None
    repeated = config.get("anonymous-auth")  # the last occurrence wins (args after command)
    assert repeated is not None and repeated.value == "false"
    assert repeated.path == ("spec", "containers", 1, "args", 0)
    plugins = config.get("enable-admission-plugins")
    assert plugins is not None and plugins.value == "A,B"


def test_a_shell_wrapper_or_an_ordinary_container_is_no_component() -> None:
    text = """
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: web}
    spec:
      selector: {matchLabels: {app: web}}
      template:
        metadata: {labels: {app: web}}
        spec:
          containers:
            - {name: web, image: "nginx:1.27", args: ["--anonymous-auth=true"]}
            - {name: backup, image: "b:1", command: [/backup, --service, etcd]}
            - {name: operator, image: "o:1", args: [--kubelet-service=kube-system/kubelet]}
    """
    assert component_configs(_resources(text)[0]) == []


def test_a_component_behind_a_wrapper_is_configured_by_the_words_after_the_separator() -> None:
    pod = _pod("/go-runner", "--log-file=/var/log/kube-scheduler.log", "--", "kube-scheduler")
    [config] = component_configs(_resources(pod + "        - --profiling=true\n")[0])
    assert config.component == "kube-scheduler"
    assert config.get("log-file") is None  # the wrapper's flag, not the scheduler's
    setting = config.get("profiling")
    assert setting is not None and setting.value == "true"


def test_kubeadm_v1beta3_map_and_v1beta4_list_report_at_the_entry() -> None:
    text = """
    apiVersion: kubeadm.k8s.io/v1beta3
    kind: ClusterConfiguration
    apiServer:
      extraArgs:
        anonymous-auth: "true"
    ---
    apiVersion: kubeadm.k8s.io/v1beta4
    kind: ClusterConfiguration
    apiServer:
      extraArgs:
        - name: profiling
          value: "false"
        - name: anonymous-auth
          value: "true"
    """
    report = lint_text(textwrap.dedent(text), rules=["KL1001"])
    assert hits(report, "KL1001") == [(6, 21, "KL1001"), (14, 7, "KL1001")]


def test_kubeadm_writes_its_own_flags_so_an_empty_configuration_is_judged_by_them() -> None:
    text = """
    apiVersion: kubeadm.k8s.io/v1beta4
    kind: ClusterConfiguration
    etcd:
      external: {endpoints: ["https://etcd:2379"]}
    """
    [resource] = _resources(text)
    components = [c.component for c in component_configs(resource)]
    assert components == ["kube-apiserver", "kube-controller-manager", "kube-scheduler"]
    report = lint_text(textwrap.dedent(text), profiles=("cis-control-plane",))
    found = {rule for _, _, rule in hits(report)}
    # authorization Node,RBAC and NodeRestriction come from kubeadm; these it never sets:
    assert {"KL1006", "KL1007", "KL1008", "KL1014", "KL1056"}.isdisjoint(found)
    assert {"KL1005", "KL1027", "KL1015", "KL1041", "KL1050"} <= found
    # a missing block is reported on the object (its kind line)
    assert (3, 7, "KL1027") in hits(report, "KL1027")


def test_cluster_api_control_plane_without_cluster_configuration_still_runs_an_api_server() -> None:
    text = """
    apiVersion: controlplane.cluster.x-k8s.io/v1beta1
    kind: KubeadmControlPlane
    metadata: {name: cp}
    spec:
      kubeadmConfigSpec:
        joinConfiguration:
          nodeRegistration:
            kubeletExtraArgs: {read-only-port: "10255"}
    """
    report = lint_text(textwrap.dedent(text), rules=["KL1027", "KL1068"])
    assert hits(report) == [(6, 3, "KL1027"), (9, 44, "KL1068")]


def test_kind_patches_are_reported_at_the_line_and_column_inside_the_string() -> None:
    text = (
        "kind: Cluster\n"
        "apiVersion: kind.x-k8s.io/v1alpha4\n"
        "nodes:\n"
        "  - role: control-plane\n"
        "    kubeadmConfigPatches:\n"
        "      - |\n"
        "        kind: ClusterConfiguration\n"
        "\n"
        "        apiServer:\n"
        "          extraArgs:\n"
        '            authorization-mode: "AlwaysAllow"\n'
    )
    report = lint_text(text, rules=["KL1006", "KL1027"])
    [finding] = report.active
    assert finding.rule_id == "KL1006"
    span = finding.location.span
    assert (span.start_line, span.start_column, span.end_column) == (11, 33, 46)
    assert text.splitlines()[10][span.start_column - 1 :].startswith('"AlwaysAllow"')


def test_a_kind_patch_judges_only_what_it_writes() -> None:
    """kind applies a patch over its own kubeadm defaults: a flag the patch leaves out is
    not the patch's to report (no 'no encryption' on every kind cluster)."""
    text = """
    kind: Cluster
    apiVersion: kind.x-k8s.io/v1alpha4
    kubeadmConfigPatches:
      - |
        kind: ClusterConfiguration
        apiServer:
          extraArgs: {profiling: "false"}
    """
    assert hits(lint_text(textwrap.dedent(text), profiles=("cis-control-plane",))) == []


def test_defaults_depend_on_the_source() -> None:
    """The kubelet's command-line defaults are insecure; a KubeletConfiguration's are not."""
    config_file = "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n"
    assert hits(lint_text(config_file, rules=["KL1065", "KL1066", "KL1068"])) == []
    static = (
        "apiVersion: v1\nkind: Pod\nmetadata: {name: kubelet}\nspec:\n  containers:\n"
        "    - name: kubelet\n      image: example.com/kubelet:1\n      command: [kubelet]\n"
    )
    report = lint_text(static, rules=["KL1065", "KL1066", "KL1068"])
    assert hits(report) == [(8, 7, "KL1065"), (8, 7, "KL1066"), (8, 7, "KL1068")]
    assert 'does not set --read-only-port (default "10255")' in report.active[-1].message


@pytest.mark.parametrize(("version", "reported"), [((1, 23), False), ((1, 24), True)])
def test_removed_flags_follow_the_target_version(version: tuple[int, int], reported: bool) -> None:
    report = lint_text(
        _pod("kube-apiserver", "--insecure-port=0"), rules=["KL1034"], kube_version=version
    )
    assert bool(hits(report, "KL1034")) is reported


def test_defaults_and_applicability_follow_the_target_version() -> None:
    [resource] = _resources(_pod("kube-apiserver"))
    params = {
        "component": "kube-apiserver",
        "flag": "insecure-port",
        "equals": ["0"],
        "default": "0",
        "default_before": {"1.20": "8080"},
        "applies_before": "1.24",
        "problem": "the insecure port is open",
    }

    def messages(version: tuple[int, int]) -> list[str]:
        context = UnitContext([resource], version)
        return [v.message for v in component_flag(resource, context, params)]

    assert messages((1, 19)) == [
        'kube-apiserver (container "api") does not set --insecure-port (default "8080"): '
        "the insecure port is open."
    ]
    assert messages((1, 22)) == []  # default 0 from 1.20
    assert messages((1, 30)) == []  # the rule applies to targets before 1.24 only


def test_config_files_are_not_api_objects_for_the_schema_rules() -> None:
    text = """
    apiVersion: kubeadm.k8s.io/v1beta4
    kind: ClusterConfiguration
    ---
    apiVersion: kubelet.config.k8s.io/v1beta1
    kind: KubeletConfiguration
    ---
    apiVersion: apiserver.config.k8s.io/v1
    kind: EncryptionConfiguration
    resources: [{resources: [secrets], providers: [{secretbox: {keys: []}}]}]
    ---
    apiVersion: audit.k8s.io/v1
    kind: Policy
    rules: [{level: Metadata}]
    ---
    apiVersion: kind.x-k8s.io/v1alpha4
    kind: Cluster
    """
    report = lint_text(textwrap.dedent(text), profiles=("all",))
    assert [rule for _, _, rule in hits(report) if not rule.startswith("KL10")] == []


def test_objects_without_components_cost_one_lookup() -> None:
    [resource] = _resources("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: b}\n")
    context = UnitContext([resource])
    first = configs_of(resource, context)
    assert first == [] and configs_of(resource, context) is first


def test_audit_policy_first_matching_rule_decides() -> None:
    text = """
    apiVersion: audit.k8s.io/v1
    kind: Policy
    rules:
      - level: Metadata
        resources: [{group: "", resources: [secrets, configmaps]}]
      - level: Request
        users: [admin]
        resources: [{group: authentication.k8s.io, resources: [tokenreviews]}]
      - level: RequestResponse
    """
    report = lint_text(textwrap.dedent(text), rules=["KL1085"])
    messages = [f.message for f in report.active]
    assert [line for line, _, _ in hits(report)] == [7, 10]
    assert "tokenreviews at level Request:" in messages[0]
    assert "tokenreviews at level RequestResponse" in messages[1]


def test_encryption_config_judges_the_entries_that_cover_secrets() -> None:
    text = """
    apiVersion: apiserver.config.k8s.io/v1
    kind: EncryptionConfiguration
    resources:
      - resources: [configmaps]
        providers: [{identity: {}}]
      - resources: [secrets]
        providers:
          - kms: {name: vault, endpoint: "unix:///kms.sock"}
    """
    report = lint_text(textwrap.dedent(text), rules=["KL1080", "KL1081", "KL1082"])
    assert [(line, rule) for line, _, rule in hits(report)] == [(9, "KL1082")]
    assert "KMS v1" in report.active[0].message


def test_a_standalone_pod_security_configuration_without_enforce() -> None:
    text = """
    apiVersion: pod-security.admission.config.k8s.io/v1
    kind: PodSecurityConfiguration
    defaults: {warn: restricted}
    """
    report = lint_text(textwrap.dedent(text), rules=["KL1086"])
    assert [(line, rule) for line, _, rule in hits(report)] == [(4, "KL1086")]


def test_fixes_rewrite_the_written_value_in_every_source() -> None:
    text = """
    apiVersion: v1
    kind: Pod
    metadata: {name: etcd}
    spec:
      containers:
        - name: etcd
          image: registry.k8s.io/etcd:3.5.15-0
          command: [etcd, --client-cert-auth=false, --auto-tls, "true"]
    ---
    apiVersion: kubeadm.k8s.io/v1beta4
    kind: ClusterConfiguration
    etcd:
      local:
        extraArgs:
          - {name: client-cert-auth, value: "false"}
    ---
    apiVersion: kubelet.config.k8s.io/v1beta1
    kind: KubeletConfiguration
    readOnlyPort: 10255
    """
    report = lint_text(textwrap.dedent(text), rules=["KL1056", "KL1057", "KL1068"])
    fixes = {
        (f.rule_id, f.location.span.start_line): [e.text for e in f.fix.edits] if f.fix else None
        for f in report.active
    }
    assert fixes == {
        ("KL1056", 9): ['"--client-cert-auth=true"'],
        ("KL1057", 9): None,  # `--auto-tls true`: two items, no safe single edit
        ("KL1056", 16): ['"true"'],
        ("KL1068", 20): ["0"],
    }
    assert all(f.fix.applicability.value == "needs-review" for f in report.active if f.fix)

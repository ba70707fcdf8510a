"""Component context on real-repository noise classes (issue 23 §3): each class is reported
a level lower with the reason in its message, never hidden, and the dangerous settings keep
their level everywhere. Fixtures: ``fixtures/signal/`` (each names its upstream case)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from klint.findings import Finding, Report, Severity
from klint.model.component import path_context
from tests.conftest import FIXTURES, lint_text, needs_helm_sdk, run_cli

SIGNAL = FIXTURES / "signal"


def _by(report: Report, rule: str, name: str) -> list[Finding]:
    return [f for f in report.active if f.rule_id == rule and f.object_ref.name == name]


def _lint(fixture: str, path: str) -> Report:
    return lint_text((SIGNAL / fixture).read_text(encoding="utf-8"), path=path)


def test_wildcards_on_the_components_own_groups_are_a_note_others_stay_warnings() -> None:
    report = _lint("rbac-controllers.yaml", "deploy/rbac.yaml")
    own = _by(report, "KL501", "crossplane:aggregate-to-edit")
    assert own and all(f.severity is Severity.NOTE for f in own)
    assert 'named after the role\'s component "crossplane:aggregate-to-edit"' in own[0].message
    assert ("expected-for", "own-api-groups") in own[0].properties
    other = _by(report, "KL501", "crossplane:aggregate-to-admin")
    assert other and all(f.severity is Severity.WARNING for f in other)


@pytest.mark.parametrize(
    ("role", "why"),
    [
        ("cert-manager-controller-certificates", "a component whose job is secrets or certif"),
        ("ingress-proxy", "an ingress or gateway controller, which serves TLS from Secrets"),
    ],
)
def test_secret_reads_by_secrets_or_tls_controllers_are_a_note_that_says_why(
    role: str, why: str
) -> None:
    (finding,) = _by(_lint("rbac-controllers.yaml", "deploy/rbac.yaml"), "KL502", role)
    assert finding.severity is Severity.NOTE
    assert f"(expected for {why}" in finding.message
    assert ("expected-for", "secrets-read-controller") in finding.properties


def test_secret_reads_by_any_other_cluster_role_stay_a_warning() -> None:
    (finding,) = _by(
        _lint("rbac-controllers.yaml", "deploy/rbac.yaml"), "KL502", "dashboard-reporter"
    )
    assert finding.severity is Severity.WARNING
    assert "expected" not in finding.message


def test_a_helm_hook_job_without_limits_is_a_note_but_privileged_stays_an_error() -> None:
    report = _lint("hooks-and-requests.yaml", "deploy/app.yaml")
    (limits,) = _by(report, "KL401", "longhorn-pre-upgrade")
    assert limits.severity is Severity.NOTE
    assert "a short-lived Helm hook Job (pre-upgrade)" in limits.message
    (privileged,) = _by(report, "KL101", "longhorn-pre-upgrade")
    assert privileged.severity is Severity.ERROR


def test_requests_without_limits_is_a_note_no_requests_stays_a_warning() -> None:
    report = _lint("hooks-and-requests.yaml", "deploy/app.yaml")
    by_container = {f.message.split('"')[1]: f for f in _by(report, "KL401", "controller")}
    assert by_container["controller"].severity is Severity.NOTE
    assert "sets requests for cpu" in by_container["controller"].message
    assert by_container["sidecar"].severity is Severity.WARNING


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("test/e2e/app.yaml", "not-deployed"),
        ("cli/cmd/testdata/inject.golden.yml", "test-data"),
        ("internal/state/testdata/golden/driver.yaml", "test-data"),
        ("pkg/fixtures/pod.yaml", "not-deployed"),
        ("test/e2e/testdata/pod.yaml", "test-data"),  # test data wherever it lives
        ("testing/dev/tenant.yaml", "not-deployed"),
        ("controller/proxy-injector/fake/data/pod.yaml", "not-deployed"),
        ("examples/block/pod.yaml", "not-deployed"),
        ("Docs/guide/pod.yaml", "not-deployed"),
        ("third_party/contour-latest/contour.yaml", "vendored"),
        ("releases/cnpg-1.26.0.yaml", "published"),
        ("deploy/app.yaml", None),
        ("tests.yaml", None),  # the file's own name is not a folder
        ("latest/app.yaml", None),  # only whole words of folder names count
        ("attestation/app.yaml", None),
        ("contest/app.yaml", None),
        ("latest-tests/app.yaml", "not-deployed"),  # a word part: tests
        ("contrib/kafka-testing/kafka-broker-dep.yml", "not-deployed"),
        ("e2e-tests/app.yaml", "not-deployed"),
        ("deploy/test_infra/app.yaml", "not-deployed"),
        ("ci/dra-consumer-pod.yaml", "not-deployed"),  # a root ci/ folder of manifests
        ("deploy/ci/app.yaml", None),  # only at the top of what is linted
        (
            "ci/default-values.yaml",
            None,
        ),  # a chart's ci/ values (chart-testing)  # only at the top of what is linted
        (".local/csi-driver.yaml", "not-deployed"),  # hidden: developer-local
        ("deploy/.dev/app.yaml", "not-deployed"),
        (".github/workflows/kind-config.yaml", None),  # CI, which runs
        (".tekton/pipeline-run.yaml", None),
        ("../repo/deploy/app.yaml", None),  # a path above the working directory
        ("./deploy/app.yaml", None),
        (".hidden.yaml", None),  # a hidden file, not folder
        # a packaged chart release (a Helm repository kept in git), not a chart dependency
        ("helm-releases/operator-4.0.7.tgz!/operator/templates/x.yaml", "published"),
        ("charts/v4.1.0/nfs-v4.1.0.tgz", "published"),
        # a folder named as a release version (major.minor.patch at least): a release copy
        ("deploy/v4.2.0/csi-nfs-node.yaml", "published"),
        ("charts/v4.0.0/csi-driver-nfs/templates/csi-nfs-node.yaml", "published"),
        ("manifests/1.2.3/app.yaml", "published"),
        ("deploy/v1.2.3-rc.1/app.yaml", "published"),
        ("charts/latest/nfs-v0.0.0.tgz!/nfs/templates/x.yaml", "published"),
        ("api/v1/app.yaml", None),  # API versions are no releases
        ("config/v1beta1/app.yaml", None),
        ("deploy/v1.2/app.yaml", None),
        ("deploy/v1.2.3.yaml", None),  # the file's own name is not a folder
        ("vendor/k8s.io/kubernetes/test/e2e/gpu/pod.yaml", "vendored"),
        ("web/charts/redis-1.2.3.tgz!/redis/templates/x.yaml", None),
    ],
)
def test_path_context_from_folder_names(path: str, kind: str | None) -> None:
    found = path_context(path)
    assert (found.kind if found else None) == kind


def test_findings_in_test_folders_are_notes_that_say_so_never_hidden() -> None:
    text = (SIGNAL / "hooks-and-requests.yaml").read_text(encoding="utf-8")
    deployed = lint_text(text, path="deploy/app.yaml", profiles=("default",))
    tested = lint_text(text, path="test/e2e/app.yaml", profiles=("default",))
    before = {(f.rule_id, f.location.span.start_line): f.severity for f in deployed.active}
    after = {(f.rule_id, f.location.span.start_line): f for f in tested.active}
    assert before.keys() == after.keys()  # nothing hidden
    lowered = 0
    for key, severity in before.items():
        finding = after[key]
        if key[0] == "KL101" or severity is Severity.NOTE:
            assert finding.severity is severity
        else:
            lowered += 1
            assert finding.severity is Severity.NOTE, key
            assert "(in test/: a test, example or docs input, not deployed" in finding.message
            assert ("expected-for", "not-deployed") in finding.properties
    assert lowered >= 3
    assert after[("KL101", 18)].severity is Severity.ERROR  # privileged: never lowered


RUNTIME_SOCKET_ADMIN = """\
apiVersion: v1
kind: Pod
metadata: {name: builder}
spec:
  containers:
    - name: docker
      image: docker:27.0.3
      volumeMounts: [{name: sock, mountPath: /var/run/docker.sock}]
  volumes:
    - {name: sock, hostPath: {path: /var/run/docker.sock}}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: tests-admin}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects:
  - {kind: ServiceAccount, name: builder, namespace: ci}
"""


@pytest.mark.parametrize(
    "path",
    [
        "test/perf/builder.yaml",  # applied to test clusters
        "e2e/builder.yaml",
        "examples/builder.yaml",  # users copy it
        "docs/builder.yaml",
        "hack/builder.yaml",
        ".local/builder.yaml",
        "testing/builder.yaml",
    ],
)
def test_runtime_socket_and_cluster_admin_keep_their_level_where_users_copy_or_run_them(
    path: str,
) -> None:
    here = {f.rule_id: f for f in lint_text(RUNTIME_SOCKET_ADMIN, path=path).active}
    there = {f.rule_id: f for f in lint_text(RUNTIME_SOCKET_ADMIN, path="deploy/b.yaml").active}
    for rule in ("KL154", "KL515"):
        assert here[rule].severity is there[rule].severity is Severity.ERROR
        assert here[rule].message == there[rule].message


@pytest.mark.parametrize(
    ("path", "kind", "reason"),
    [
        ("third_party/x/builder.yaml", "vendored", "in third_party/: a vendored copy"),
        ("vendor/k8s.io/kubernetes/test/e2e/b.yaml", "vendored", "in vendor/: a vendored copy"),
        ("internal/state/testdata/golden/b.yaml", "test-data", "in testdata/: a unit test's"),
        ("pkg/golden/b.yaml", "test-data", "in golden/: a unit test's input"),
        ("deploy/v4.2.0/b.yaml", "published", "in v4.2.0/: a release copy, fixed in its sources"),
        ("releases/b.yaml", "published", "in releases/: a published release bundle"),
    ],
)
def test_runtime_socket_and_cluster_admin_in_a_copy_fixed_elsewhere_are_notes_that_say_so(
    path: str, kind: str, reason: str
) -> None:
    here = {f.rule_id: f for f in lint_text(RUNTIME_SOCKET_ADMIN, path=path).active}
    there = {f.rule_id: f for f in lint_text(RUNTIME_SOCKET_ADMIN, path="deploy/b.yaml").active}
    assert here.keys() == there.keys()  # nothing hidden
    for rule in ("KL154", "KL515"):
        assert there[rule].severity is Severity.ERROR
        assert here[rule].severity is Severity.NOTE
        assert f"({reason}" in here[rule].message
        assert here[rule].message.startswith(there[rule].message.rstrip("."))
        assert ("expected-for", kind) in here[rule].properties


@needs_helm_sdk
def test_a_chart_that_leaves_resources_to_the_installer_gets_a_note() -> None:
    chart = SIGNAL / "chart-leaves-resources"
    result = run_cli("check", ".", "--format", "json", cwd=chart)
    findings = json.loads(result.stdout)["findings"]
    by_container = {f["message"].split('"')[1]: f for f in findings if f["rule_id"] == "KL401"}
    app = by_container["app"]
    assert app["severity"] == "note"
    assert "a chart that leaves resources to the installer (set from values.yaml)" in app["message"]
    assert app["related"][0]["path"] == "values.yaml"
    # a container whose template writes no resources at all has no values knob: a warning
    assert by_container["fixed"]["severity"] == "warning"


KO_IMAGE = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: controller}
spec:
  selector: {matchLabels: {app: controller}}
  template:
    metadata: {labels: {app: controller}}
    spec:
      containers:
        - name: controller
          image: ko://knative.dev/serving/cmd/controller
          imagePullPolicy: IfNotPresent
"""


def test_a_ko_build_reference_is_a_note_not_implicitly_latest() -> None:
    # Upstream: knative/serving config/core/deployments/controller.yaml
    report = lint_text(KO_IMAGE, path="config/core/controller.yaml", rules=["KL301", "KL303"])
    (finding,) = report.active
    assert finding.rule_id == "KL301" and finding.severity is Severity.NOTE
    assert "ko build reference" in finding.message and "latest" not in finding.message


def test_an_operator_writing_role_bindings_without_bind_is_a_note() -> None:
    report = _lint("rbac-controllers.yaml", "deploy/rbac.yaml")
    (note,) = _by(report, "KL510", "strimzi-cluster-operator-namespaced")
    assert note.severity is Severity.NOTE
    assert "the controller of its own resources (kafka.strimzi.io)" in note.message
    assert ("expected-for", "manage-bindings-controller") in note.properties
    (kept,) = _by(report, "KL510", "strimzi-cluster-operator-binder")
    assert kept.severity is Severity.WARNING


def test_a_controller_patching_webhook_configurations_is_a_note_creating_them_is_not() -> None:
    report = _lint("rbac-controllers.yaml", "deploy/rbac.yaml")
    (note,) = _by(report, "KL511", "keda-operator-minimal-cluster-ns")
    assert note.severity is Severity.NOTE
    assert "never creates or deletes them" in note.message
    assert ("expected-for", "manage-webhooks-controller") in note.properties
    (kept,) = _by(report, "KL511", "crossplane")
    assert kept.severity is Severity.WARNING


def test_an_operator_role_is_recognised_by_the_units_crds_named_after_it() -> None:
    report = _lint("operator-split-roles.yaml", "install/cluster-operator/roles.yaml")
    (note,) = _by(report, "KL510", "strimzi-cluster-operator-namespaced")
    assert note.severity is Severity.NOTE
    assert "(kafka.strimzi.io)" in note.message
    (kept,) = _by(report, "KL510", "backup-agent")
    assert kept.severity is Severity.WARNING


def test_openshift_manifests_get_notes_for_what_the_scc_sets_only() -> None:
    path = "install/drain-cleaner/openshift/060-Deployment.yaml"
    report = _lint("openshift-and-templates.yaml", path)
    levels = {f.rule_id: f for f in report.active}
    for rule in ("KL205", "KL206", "KL202", "KL201"):
        assert levels[rule].severity is Severity.NOTE, rule
        assert "a manifest in openshift/ for OpenShift" in levels[rule].message
    assert levels["KL150"].severity is Severity.WARNING  # the SCC leaves the root fs writable
    elsewhere = _lint("openshift-and-templates.yaml", "install/drain-cleaner/kubernetes/d.yaml")
    assert {f.rule_id: f.severity for f in elsewhere.active}["KL205"] is Severity.WARNING


def test_a_go_template_source_is_read_but_its_findings_are_notes() -> None:
    report = _lint("go-template-source.yaml", "cmd/create/templates/metrics-config.yaml")
    assert report.active  # still linted
    for finding in report.active:
        assert finding.severity is Severity.NOTE
        assert "a Go template source (unquoted {{ }})" in finding.message
    quoted = (SIGNAL / "go-template-source.yaml").read_text(encoding="utf-8")
    quoted = quoted.replace("{{ .Namespace }}", '"{{ .Namespace }}"')
    assert not any("Go template" in f.message for f in lint_text(quoted).active)


HOOK_JOB_AND_POLICY = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web, namespace: shop}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress: [{from: [{podSelector: {}}]}]
---
apiVersion: batch/v1
kind: Job
metadata:
  name: post-upgrade
  namespace: shop
  annotations: {helm.sh/hook: post-upgrade}
spec:
  template:
    metadata: {labels: {app: post-upgrade}}
    spec:
      restartPolicy: Never
      containers: [{name: job, image: busybox:1.36}]
"""


def test_a_helm_hook_job_outside_every_network_policy_is_a_note() -> None:
    # Upstream: longhorn/longhorn chart/templates/postupgrade-job.yaml
    report = lint_text(HOOK_JOB_AND_POLICY, rules=["KL701"])
    (finding,) = report.active
    assert finding.severity is Severity.NOTE
    assert "a short-lived Helm hook Job (post-upgrade)" in finding.message
    plain = lint_text(HOOK_JOB_AND_POLICY.replace("helm.sh/hook", "team/owner"), rules=["KL701"])
    assert [f.severity for f in plain.active] == [Severity.WARNING]


AGGREGATED = """\
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: crossplane-browse}
aggregationRule:
  clusterRoleSelectors:
    - matchLabels: {rbac.crossplane.io/aggregate-to-browse: "true"}
rules: []
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: crossplane:aggregate-to-browse
  labels: {rbac.crossplane.io/aggregate-to-browse: "true"}
rules:
  - apiGroups: [apiextensions.crossplane.io]
    resources: ["*"]
    verbs: [get, list, watch]
"""


def test_an_aggregated_wildcard_on_the_components_own_groups_is_not_dangerous() -> None:
    # Upstream: crossplane/crossplane rbac-manager-managed-clusterroles.yaml (aggregate-to-browse)
    assert not lint_text(AGGREGATED, rules=["KL521"]).active
    other = AGGREGATED.replace("[apiextensions.crossplane.io]", "[apps]")
    (finding,) = lint_text(other, rules=["KL521"]).active
    assert "wildcard permissions" in finding.message


EVERYTHING = """\
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: cert-manager-everything}
rules:
  - apiGroups: [cert-manager.io]
    resources: [certificates]
    verbs: [get, list, watch]
  - apiGroups: ["*"]
    resources: ["*"]
    verbs: ["*"]
"""


def test_a_wildcard_grant_keeps_its_level_even_for_a_secrets_controller() -> None:
    report = lint_text(EVERYTHING, rules=["KL502", "KL510", "KL511"])
    assert {f.rule_id for f in report.active} == {"KL502", "KL510", "KL511"}
    assert all(f.severity is Severity.WARNING for f in report.active)


def test_a_folder_named_on_the_command_line_is_linted_as_deployed(tmp_path: Path) -> None:
    """`klint check examples/` means "lint these": the folder's own name lowers nothing,
    while a test folder below it, and `klint check .` over the same tree, still say so."""
    text = (SIGNAL / "hooks-and-requests.yaml").read_text(encoding="utf-8")
    (tmp_path / "examples" / "tests").mkdir(parents=True)
    (tmp_path / "examples" / "app.yaml").write_text(text, encoding="utf-8")
    (tmp_path / "examples" / "tests" / "app.yaml").write_text(text, encoding="utf-8")

    def levels(*args: str) -> dict[str, set[str]]:
        run = run_cli("check", "--no-config", "--format", "json", *args, cwd=tmp_path)
        found: dict[str, set[str]] = {}
        for finding in json.loads(run.stdout)["findings"]:
            if finding["rule_id"] != "KL101":
                found.setdefault(finding["path"], set()).add(finding["severity"])
        return found

    named = levels("examples")
    assert named["examples/app.yaml"] - {"note"}  # errors and warnings kept
    assert named["examples/tests/app.yaml"] == {"note"}  # tests/ below the named folder
    whole = levels(".")
    assert whole["examples/app.yaml"] == {"note"}  # examples/ below the named `.`


HIDDEN_POD = """\
apiVersion: v1
kind: Pod
metadata: {name: driver}
spec:
  containers:
    - name: driver
      image: registry.example.com/driver:v1.0.0
      securityContext: {privileged: true}
    - name: sidecar
      image: registry.example.com/sidecar:v1.0.0
      securityContext: {allowPrivilegeEscalation: true}
"""


def test_findings_under_a_hidden_folder_are_notes_unless_it_is_named(tmp_path: Path) -> None:
    # Upstream: secrets-store-csi-driver's .local/ developer manifests
    (tmp_path / ".local").mkdir()
    (tmp_path / ".local" / "driver.yaml").write_text(HIDDEN_POD, encoding="utf-8")

    def findings(target: str) -> dict[tuple[str, str], dict[str, Any]]:
        result = run_cli("check", target, "--format", "json", "--no-cache", cwd=tmp_path)
        data = json.loads(result.stdout)
        return {(f["rule_id"], f["message"].split('"')[1]): f for f in data["findings"]}

    walked = findings(".")
    assert walked[("KL101", "driver")]["severity"] == "error"  # privileged: never lowered
    escalation = walked[("KL201", "sidecar")]
    assert escalation["severity"] == "note"
    assert "(in .local/: a hidden, developer-local folder, not deployed" in escalation["message"]
    assert escalation["properties"]["expected-for"] == "not-deployed"
    # the folder named on the command line is what the user means to lint
    named = findings(".local")
    assert named[("KL201", "sidecar")]["severity"] == "error"
    assert named.keys() == walked.keys()  # nothing hidden either way


def test_capabilities_not_dropped_on_a_privileged_container_is_a_note_privileged_an_error() -> None:
    # Upstream: longhorn's privileged engine-image containers (sample item 2)
    report = lint_text(HIDDEN_POD, path="deploy/driver.yaml")
    capabilities = {f.message.split('"')[1]: f for f in report.active if f.rule_id == "KL206"}
    lowered = capabilities["driver"]
    assert lowered.severity is Severity.NOTE
    assert "it is privileged, which grants every capability" in lowered.message
    assert "KL101" in lowered.message and "until privileged is removed" in lowered.message
    assert ("expected-for", "privileged-container") in lowered.properties
    assert capabilities["sidecar"].severity is Severity.WARNING  # not privileged: unchanged
    (privileged,) = [f for f in report.active if f.rule_id == "KL101"]
    assert privileged.severity is Severity.ERROR


RELEASED_TEMPLATE = """\
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: {{ .Release.Name }}-node}
spec:
  selector: {matchLabels: {app: node}}
  template:
    metadata: {labels: {app: node}}
    spec:
      containers:
        - name: nfs
          image: "registry.k8s.io/sig-storage/nfsplugin:{{ .Values.tag }}"
          securityContext: {privileged: true}
"""


@needs_helm_sdk
def test_a_chart_copy_under_a_release_version_folder_reports_notes_that_say_so(
    tmp_path: Path,
) -> None:
    # Upstream: csi-driver-nfs keeps charts/v4.0.0/csi-driver-nfs/ beside charts/latest/
    for version in ("v4.0.0", "latest"):
        chart = tmp_path / "charts" / version / "csi-driver-nfs"
        (chart / "templates").mkdir(parents=True)
        (chart / "Chart.yaml").write_text(
            "apiVersion: v2\nname: csi-driver-nfs\nversion: 4.0.0\n", encoding="utf-8"
        )
        (chart / "values.yaml").write_text("tag: v4.0.0\n", encoding="utf-8")
        (chart / "templates" / "node.yaml").write_text(RELEASED_TEMPLATE, encoding="utf-8")
    result = run_cli("check", ".", "--format", "json", "--no-cache", cwd=tmp_path)
    found = {
        (f["rule_id"], f["path"].split("/")[1]): f for f in json.loads(result.stdout)["findings"]
    }
    latest = found[("KL101", "latest")]
    copy = found[("KL101", "v4.0.0")]
    assert latest["severity"] == "error"
    assert copy["severity"] == "note"
    assert "(in v4.0.0/: a release copy, fixed in its sources; kept as a note)" in copy["message"]
    assert copy["properties"]["expected-for"] == "published"
    assert {rule for rule, _ in found if _ == "latest"} == {r for r, v in found if v == "v4.0.0"}


WILDCARD_ROLE = """\
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: velero, namespace: velero}
rules:
  - apiGroups: ["*"]
    resources: ["*"]
    verbs: ["*"]
  - apiGroups: [""]
    resources: ["pods/portforward"]
    verbs: ["create"]
  - apiGroups: ["*"]
    resources: ["pods/portforward", "serviceaccounts/token"]
    verbs: ["create"]
"""


def test_permissions_implied_by_an_all_wildcard_rule_are_notes_pointing_to_it() -> None:
    # Upstream: velero's namespace Role, one `*`/`*`/`*` rule yielding 13 findings
    found: dict[tuple[str, int], list[Finding]] = {}
    for f in lint_text(WILDCARD_ROLE, path="charts/velero/templates/role.yaml").active:
        found.setdefault((f.rule_id, int(f.field_path[1])), []).append(f)
    wildcard = found[("KL501", 0)]
    assert {f.severity for f in wildcard} == {Severity.WARNING}  # the wildcard itself stays
    for rule in ("KL505", "KL514"):  # warnings, as severe as the wildcard: notes
        (implied,) = found[(rule, 0)]
        assert implied.severity is Severity.NOTE
        assert implied.message.endswith(
            "(implied by the wildcard rule reported as KL501; kept as a note)."
        )
        assert ("expected-for", "wildcard-rule") in implied.properties
    # errors, more severe than the wildcard: the first keeps its level, once, so the rule's
    # severity shows (hnc's manager rule gave six errors for one `*`/`*`/`*`)
    assert [f.severity for f in found[("KL504", 0)]] == [Severity.ERROR]
    (bind,) = found[("KL508", 0)]
    assert bind.severity is Severity.NOTE
    assert bind.message.endswith(
        "(implied by the wildcard rule reported as KL501 and KL504; kept as a note)."
    )
    errors = [f for (rule, at), fs in found.items() for f in fs if at == 0 and rule != "KL501"]
    assert [f.rule_id for f in errors if f.severity is Severity.ERROR] == ["KL504"]
    # a grant that names the permission, or a rule that is not all-wildcard: kept
    assert [f.severity for f in found[("KL505", 1)]] == [Severity.WARNING]
    assert [f.severity for f in found[("KL505", 2)]] == [Severity.WARNING]
    assert [f.severity for f in found[("KL514", 2)]] == [Severity.WARNING]


_DEX_ROLE = """\
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: {name}
  namespace: dex
  labels: {{app.kubernetes.io/name: {app}}}
rules:
  - apiGroups: ["{group}"]
    resources: ["*"]
    verbs: ["*"]
"""


def test_a_short_component_name_owns_the_group_it_is_the_first_label_of() -> None:
    # Upstream: dexidp/helm-charts charts/dex rbac.yaml: dex creates the dex.coreos.com
    # CRDs (its storage) itself at runtime, so no CRD of the input defines the group.
    text = _DEX_ROLE.format(name="release-dex", app="dex", group="dex.coreos.com")
    found = [f for f in lint_text(text, rules=["KL501"]).active]
    assert len(found) == 2
    for finding in found:
        assert finding.severity is Severity.NOTE
        assert "limited to its own API groups" in finding.message
        assert ("expected-for", "own-api-groups") in finding.properties


@pytest.mark.parametrize(
    ("name", "app", "group"),
    [
        ("release-dex", "dex", "coreos.dex.com"),  # a short name only as the first label
        ("release-dex", "dex", "dexter.example.com"),  # and only exactly
        ("release-dex", "dex", "*"),  # never the wildcard group
        ("release-dex", "dex", "rbac.authorization.k8s.io"),  # never a built-in group
        ("release-web", "web", "dex.coreos.com"),  # another component's group
    ],
)
def test_a_short_component_name_owns_no_other_group(name: str, app: str, group: str) -> None:
    text = _DEX_ROLE.format(name=name, app=app, group=group)
    found = [f for f in lint_text(text, rules=["KL501"]).active]
    assert found
    assert {f.severity for f in found} == {Severity.WARNING}

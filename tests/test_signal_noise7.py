"""Default-profile noise on unseen repositories (issue 23 §3, sample 6): demo applications
and tutorials by their folder's name, test workloads by their file's name, and images from a
local registry (a developer build). Each is a note that says why; a privileged container
keeps its level."""

from __future__ import annotations

import pytest

from klint.findings import Severity
from klint.model.component import path_context
from tests.conftest import lint_text


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        # demo applications (consul-k8s charts/demo/, chart consul-demo)
        ("charts/demo/templates/frontend.yaml", "not-deployed"),
        ("deploy/demos/app.yaml", "not-deployed"),
        ("consul-demo/templates/app.yaml", "not-deployed"),
        ("demo-app/app.yaml", "not-deployed"),
        ("demo_apps/web.yaml", "not-deployed"),
        ("deploy/demoapp/web.yaml", "not-deployed"),
        ("deploy/demon/app.yaml", None),  # a daemon is no demo
        ("democratic/app.yaml", None),
        ("deploy/demonstrator-x/app.yaml", None),
        ("deploy/demo.yaml", None),  # the file's own name is not a folder
        # tutorials and walkthroughs
        ("docs-site/tutorials/app.yaml", "not-deployed"),
        ("tutorial/step1/app.yaml", "not-deployed"),
        ("k8s-walkthrough/app.yaml", "not-deployed"),
        ("deploy/quickstart/app.yaml", None),  # a quickstart is what users install
        ("solutions/deploy-manifests/manifests/nginx.yaml", None),
        # a local development install (kuberay apiserver/deploy/local/secure)
        ("apiserver/deploy/local/secure/kustomization.yaml", "not-deployed"),
        ("config/local/manager.yaml", "not-deployed"),
        ("manifests/local/app.yaml", "not-deployed"),
        ("source/local/app.yaml", None),  # a package named local
        ("deploy/overlays/local/app.yaml", None),
        ("local/app.yaml", None),
        # test workloads by file name (scheduler-plugins test-po.yaml, test-deployment.yaml)
        ("pkg/trimaran/peaks/deployment/test-po.yaml", "not-deployed"),
        ("manifests/noderesourcetopology/test-deployment.yaml", "not-deployed"),
        ("deploy/test_pod.yml", "not-deployed"),
        ("deploy/smoke-test.yaml", "not-deployed"),
        ("deploy/pod_test.json", "not-deployed"),
        ("deploy/latest.yaml", None),
        ("deploy/contest.yaml", None),
        ("deploy/attestation-test-runner.yaml", None),
        ("deploy/testing.yaml", None),
        ("deploy/test-po.txt", None),
    ],
)
def test_demo_tutorial_and_test_file_contexts(path: str, kind: str | None) -> None:
    found = path_context(path)
    assert (found.kind if found else None) == kind


def test_the_reason_names_the_demo_folder_and_the_test_file() -> None:
    demo = path_context("charts/demo/templates/frontend.yaml")
    test = path_context("pkg/peaks/deployment/test-po.yaml")
    assert (
        demo is not None and demo.reason == "in demo/: a demo application or tutorial, not deployed"
    )
    assert (
        test is not None
        and test.reason == "test-po.yaml is a test input by its file name, not deployed"
    )


def test_a_vendored_or_test_folder_wins_over_the_file_name() -> None:
    vendored = path_context("vendor/x/test-po.yaml")
    assert vendored is not None and vendored.kind == "vendored"
    tests = path_context("tests/test-po.yaml")
    assert tests is not None and tests.reason.startswith("in tests/")


PRIVILEGED = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
        - name: web
          image: %s
          securityContext: {privileged: true}
"""


@pytest.mark.parametrize(
    "path", ["charts/demo/templates/web.yaml", "deploy/test-po.yaml", "tutorials/web.yaml"]
)
def test_a_privileged_demo_or_test_workload_stays_an_error_others_are_notes(path: str) -> None:
    report = lint_text(PRIVILEGED % "nginx:1.27.0", path=path, profiles=("default",))
    by_rule = {f.rule_id: f for f in report.active}
    assert by_rule["KL101"].severity is Severity.ERROR
    assert by_rule["KL202"].severity is Severity.NOTE
    assert "not deployed; kept as a note" in by_rule["KL202"].message


IMAGE = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
        - name: web
          image: %s
          imagePullPolicy: IfNotPresent
"""


@pytest.mark.parametrize(
    ("image", "local"),
    [
        ("localhost:5000/networktopology-controller/controller:latest", True),
        ("127.0.0.1:5000/app", True),
        ("kind-registry:5000/app:latest", True),
        ("registry.local/app:latest", True),
        ("k3d-registry.localhost:5000/app:latest", True),
        ("localhost/app:latest", True),
        ("kind-registry/app:latest", False),  # a Docker Hub user named kind-registry
        ("registry.example.com/app:latest", False),
        ("localhost.example.com/app:latest", False),
        ("nginx", False),
    ],
)
def test_a_mutable_image_from_a_local_registry_is_a_note(image: str, local: bool) -> None:
    report = lint_text(IMAGE % image, path="deploy/web.yaml", profiles=("default",))
    by_rule = {f.rule_id: f for f in report.active}
    expected = Severity.NOTE if local else Severity.WARNING
    for rule in ("KL301", "KL303"):
        assert by_rule[rule].severity is expected, rule
        assert ("from the local registry" in by_rule[rule].message) is local


def test_a_pinned_local_image_has_no_mutable_tag_finding() -> None:
    report = lint_text(IMAGE % "localhost:5000/app:v1.2.3", path="deploy/web.yaml")
    assert not {"KL301", "KL303"} & {f.rule_id for f in report.active}

"""Real Kustomize builds (kubectl kustomize / kustomize, no mocks): origins, exact locations,
untouched user files, stripped annotations and offline safety."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import stat
import subprocess
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from klint.sources import names
from klint.sources.kustomize import annotations as kz_annotations
from klint.sources.kustomize import tool
from klint.sources.kustomize.build import KustomizeBuild, build
from klint.sources.kustomize.files import find_kustomization_root, is_kustomization_dir
from klint.sources.kustomize.locate import locate, locate_span
from klint.sources.kustomize.sandbox import KustomizeBuildError
from klint.sources.kustomize.tool import find_tool
from klint.sources.kustomize.trace import BuiltObject
from tests.conftest import CORPUS as SHARED_CORPUS

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "kustomize"
BASE = FIXTURES / "base"
PROD = FIXTURES / "overlays" / "prod"
CORPUS = SHARED_CORPUS / "kustomize"
POD = ("spec", "template", "spec")

pytestmark = pytest.mark.skipif(
    shutil.which("kustomize") is None and shutil.which("kubectl") is None,
    reason="needs kustomize or kubectl",
)


def where(path: Path, needle: str, token: str | None = None) -> tuple[Path, int, int]:
    """(file, line, column) of ``token`` on the only line of ``path`` that contains ``needle``."""
    lines = path.read_text(encoding="utf-8").splitlines()
    hits = [number for number, line in enumerate(lines) if needle in line]
    assert len(hits) == 1, f"{needle!r} occurs {len(hits)} times in {path}"
    line = lines[hits[0]]
    return path, hits[0] + 1, line.index(token if token is not None else needle) + 1


def write_tree(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")


def checksums(root: Path) -> dict[str, str]:
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def plain_build(directory: Path) -> str:
    """What the tool prints for the user's own kustomization (no klint annotations)."""
    tool = find_tool()
    result = subprocess.run(
        [*tool.argv, str(directory)], capture_output=True, text=True, check=True, timeout=120
    )
    return result.stdout


def only(result: KustomizeBuild, kind: str) -> BuiltObject:
    found = [obj for obj in result.objects if obj.kind == kind]
    assert len(found) == 1
    return found[0]


@pytest.fixture(scope="module")
def prod() -> KustomizeBuild:
    return build(PROD)


# --------------------------------------------------------------------------- discovery


def test_discovery() -> None:
    assert is_kustomization_dir(BASE)
    assert not is_kustomization_dir(FIXTURES)
    assert not is_kustomization_dir(BASE / "deployment.yaml")
    assert find_kustomization_root(BASE / "deployment.yaml") == BASE
    assert find_kustomization_root(PROD) == PROD
    assert find_kustomization_root(FIXTURES) is None
    assert names.KUSTOMIZATION_FILES == ("kustomization.yaml", "kustomization.yml", "Kustomization")


def test_capitalised_kustomization_file(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "Kustomization": "resources:\n  - cm.yaml\n",
            "cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  a: b\n",
        },
    )
    assert is_kustomization_dir(tmp_path)
    result = build(tmp_path)
    assert [obj.origin_file for obj in result.objects] == [tmp_path / "cm.yaml"]
    assert (tmp_path / "Kustomization").read_text() == "resources:\n  - cm.yaml\n"


# --------------------------------------------------------------------------- objects


def test_objects_and_origins(prod: KustomizeBuild) -> None:
    summary = [(o.kind, o.name, o.namespace, o.origin_file, o.generated) for o in prod.objects]
    kustomization = PROD / "kustomization.yaml"
    assert summary == [
        ("ConfigMap", "prod-app-config-47668c6k28", "prod", kustomization, True),
        ("Secret", "prod-app-secret-cf85kd65mm", "prod", kustomization, True),
        ("Service", "prod-web", "prod", BASE / "service.yaml", False),
        ("Deployment", "prod-web", "prod", BASE / "deployment.yaml", False),
    ]
    assert only(prod, "Deployment").patch_files == (
        PROD / "escalation.json.yaml",
        PROD / "privileged.yaml",
    )
    assert only(prod, "Service").patch_files == ()
    assert prod.directory == PROD
    assert prod.kustomization == kustomization
    assert prod.seconds > 0 and "kustomize" in prod.tool


def test_text_is_the_plain_build_without_annotations(prod: KustomizeBuild) -> None:
    assert kz_annotations.ORIGIN_ANNOTATION not in prod.text
    assert kz_annotations.TRANSFORMATIONS_ANNOTATION not in prod.text
    assert prod.text == plain_build(PROD)
    # The user's own annotation stays; an annotations map left empty is removed.
    assert "example.com/owner: web-team" in prod.text
    assert prod.text.count("annotations:") == 1
    assert len(prod.objects) == prod.text.count("\nkind: ")


def test_unusual_annotation_layout_is_still_stripped() -> None:
    text = (
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {annotations: "
        '{config.kubernetes.io/origin: "path: a.yaml\\n", keep: "1"}, name: x}\n'
    )
    stripped, documents, annotations = kz_annotations.strip_annotations(text)
    assert kz_annotations.ORIGIN_ANNOTATION not in stripped and "keep" in stripped
    assert documents == [
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"annotations": {"keep": "1"}, "name": "x"},
        }
    ]
    assert annotations == [({"path": "a.yaml"}, None)]


def test_user_files_unchanged(tmp_path: Path) -> None:
    before = checksums(FIXTURES)
    build(PROD)
    build(BASE)
    for broken in (FIXTURES / "broken", FIXTURES / "remote"):
        with pytest.raises(KustomizeBuildError):
            build(broken)
    assert checksums(FIXTURES) == before
    assert not any(name.endswith(".orig") for name in before)


def test_read_only_tree(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    shutil.copytree(FIXTURES, tree)
    paths = sorted(tree.rglob("*"), reverse=True)
    for path in paths:
        path.chmod(stat.S_IRUSR | (stat.S_IXUSR if path.is_dir() else 0))
    tree.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        result = build(tree / "overlays" / "prod", root=tmp_path)
        assert only(result, "Deployment").origin_file == tree / "base" / "deployment.yaml"
    finally:
        for path in [tree, *paths]:
            path.chmod(stat.S_IRWXU)


# --------------------------------------------------------------------------- locate


CONTAINERS = (*POD, "containers")


@pytest.mark.parametrize(
    ("field_path", "expected"),
    [
        # Strategic-merge patch file: kustomize lists "sidecar" (the patched container) first.
        (
            (*CONTAINERS, 0, "securityContext", "privileged"),
            where(PROD / "privileged.yaml", "privileged: true", "true"),
        ),
        ((*POD, "hostNetwork"), where(PROD / "privileged.yaml", "hostNetwork: true", "true")),
        # JSON6902 file: "containers/0" meant "app", which the output lists second.
        (
            (*CONTAINERS, 1, "securityContext", "allowPrivilegeEscalation"),
            where(PROD / "escalation.json.yaml", "value: true", "true"),
        ),
        # Inline patch in the kustomization.
        ((*POD, "hostPID"), where(PROD / "kustomization.yaml", "hostPID: true", "true")),
        # Base fields, through the reordered list.
        (
            (*CONTAINERS, 1, "securityContext", "runAsUser"),
            where(BASE / "deployment.yaml", "runAsUser: 0", "0"),
        ),
        ((*CONTAINERS, 0, "command", 1), where(BASE / "deployment.yaml", "command:", '"infinity"')),
        ((*CONTAINERS, 0, "image"), where(BASE / "deployment.yaml", "busybox:1.36")),
        # A missing field: its nearest existing ancestor in the base.
        (
            (*CONTAINERS, 1, "resources", "limits"),
            where(BASE / "deployment.yaml", "- name: app", "name"),
        ),
        (
            (*POD, "securityContext", "runAsNonRoot"),
            where(BASE / "deployment.yaml", "    spec:", "spec"),
        ),
        # Kustomization fields that set object fields.
        ((*CONTAINERS, 1, "image"), where(PROD / "kustomization.yaml", "newTag: latest", "latest")),
        (("metadata", "namespace"), where(PROD / "kustomization.yaml", "namespace: prod", "prod")),
        (("metadata", "name"), where(BASE / "deployment.yaml", "name: web", "web")),
    ],
)
def test_locate_deployment(
    prod: KustomizeBuild, field_path: tuple[str | int, ...], expected: tuple[Path, int, int]
) -> None:
    assert locate(only(prod, "Deployment"), field_path) == expected


def test_locate_service(prod: KustomizeBuild) -> None:
    service = only(prod, "Service")
    assert locate(service, ("spec", "type")) == where(BASE / "service.yaml", "NodePort")
    assert locate(service, ("spec", "ports", 0, "targetPort")) == where(
        BASE / "service.yaml", "targetPort", "8080"
    )
    span = locate_span(service, ("spec", "type"))
    assert span is not None and span[1].end_column - span[1].start_column == len("NodePort")


def test_locate_generated(prod: KustomizeBuild) -> None:
    kustomization = PROD / "kustomization.yaml"
    config = only(prod, "ConfigMap")
    secret = only(prod, "Secret")
    assert locate(config, ("data", "LOG_LEVEL")) == where(kustomization, "LOG_LEVEL=debug")
    assert locate(config, ("metadata", "name")) == where(
        kustomization, "- name: app-config", "app-config"
    )
    assert locate(secret, ("data", "password")) == where(kustomization, "password=hunter2")
    assert locate(secret, ("type",)) == where(kustomization, "- name: app-secret", "app-secret")


def test_components_legacy_fields_and_lists(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "base/kustomization.yaml": """
            resources:
              - workloads.yaml
            configMapGenerator:
              - name: settings
                files:
                  - app.conf
                envs:
                  - extra.env
            """,
            "base/app.conf": "debug = true\n",
            "base/extra.env": "# comment\nMODE=fast\n",
            "base/workloads.yaml": """
            apiVersion: apps/v1
            kind: DaemonSet
            metadata:
              name: agent
              labels:
                tier: node
            spec:
              template:
                spec:
                  containers:
                    - name: agent
                      image: agent:1.0
            ---
            apiVersion: v1
            kind: List
            items:
              - apiVersion: v1
                kind: ServiceAccount
                metadata:
                  name: agent
            """,
            "comp/kustomization.yaml": """
            apiVersion: kustomize.config.k8s.io/v1alpha1
            kind: Component
            patches:
              - target:
                  kind: DaemonSet
                  labelSelector: "tier in (node)"
                patch: |-
                  - op: add
                    path: /spec/template/spec/hostPID
                    value: true
            """,
            "overlay/kustomization.yaml": """
            nameSuffix: -v2
            commonLabels:
              tier: node
            resources:
              - ../base
            components:
              - ../comp
            patchesStrategicMerge:
              - agent-patch.yaml
            patchesJson6902:
              - target:
                  group: apps
                  version: v1
                  kind: DaemonSet
                  name: agent
                patch: |-
                  - op: replace
                    path: /spec/template/spec/containers/0/image
                    value: agent:2.0
            """,
            "overlay/agent-patch.yaml": """
            apiVersion: apps/v1
            kind: DaemonSet
            metadata:
              name: agent
            spec:
              template:
                spec:
                  hostIPC: true
            """,
        },
    )
    result = build(tmp_path / "overlay", root=tmp_path)
    daemonset = only(result, "DaemonSet")
    account = only(result, "ServiceAccount")
    config = only(result, "ConfigMap")
    overlay = tmp_path / "overlay" / "kustomization.yaml"
    assert any("patchesStrategicMerge" in warning for warning in result.warnings)
    assert daemonset.name == "agent-v2"
    assert daemonset.patch_files == (tmp_path / "overlay" / "agent-patch.yaml",)
    assert locate(daemonset, (*POD, "hostPID")) == where(
        tmp_path / "comp" / "kustomization.yaml", "value: true", "true"
    )
    assert locate(daemonset, (*POD, "hostIPC")) == where(
        tmp_path / "overlay" / "agent-patch.yaml", "hostIPC", "true"
    )
    assert locate(daemonset, (*POD, "containers", 0, "image")) == where(overlay, "agent:2.0")
    assert locate(daemonset, ("metadata", "labels", "tier")) == where(overlay, "tier: node", "node")
    assert account.origin_file == tmp_path / "base" / "workloads.yaml"
    assert locate(account, ("metadata", "name")) == (tmp_path / "base" / "workloads.yaml", 20, 13)
    assert config.generated and config.origin_file == tmp_path / "base" / "kustomization.yaml"
    assert locate(config, ("data", "MODE")) == (tmp_path / "base" / "extra.env", 2, 1)
    assert locate(config, ("data", "app.conf")) == where(
        tmp_path / "base" / "kustomization.yaml", "- app.conf", "app.conf"
    )


def test_builtin_transformer_configs(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "kustomization.yaml": """
            resources:
              - deploy.yaml
            transformers:
              - labels.yaml
              - patcher.yaml
              - |-
                apiVersion: builtin
                kind: ImageTagTransformer
                metadata:
                  name: pin
                imageTag:
                  name: nginx
                  newTag: "1.27"
            """,
            "deploy.yaml": """
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: web
            spec:
              template:
                spec:
                  containers:
                    - name: app
                      image: nginx
            """,
            "labels.yaml": """
            apiVersion: builtin
            kind: LabelTransformer
            metadata:
              name: labels
            labels:
              env: dev
            fieldSpecs:
              - path: metadata/labels
                create: true
            """,
            "patcher.yaml": """
            apiVersion: builtin
            kind: PatchTransformer
            metadata:
              name: harden
            target:
              kind: Deployment
            patch: |-
              - op: add
                path: /spec/template/spec/automountServiceAccountToken
                value: false
            """,
        },
    )
    deployment = build(tmp_path).objects[0]
    assert locate(deployment, ("metadata", "labels", "env")) == where(
        tmp_path / "labels.yaml", "env: dev", "dev"
    )
    assert locate(deployment, (*POD, "automountServiceAccountToken")) == where(
        tmp_path / "patcher.yaml", "value: false", "false"
    )
    assert locate(deployment, (*POD, "containers", 0, "image")) == where(
        tmp_path / "kustomization.yaml", "newTag", '"1.27"'
    )


def test_helm_charts_are_not_inflated(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "kustomization.yaml": """
        helmCharts:
          - name: podinfo
            repo: https://stefanprodan.github.io/podinfo
            version: 6.0.0
        """
        },
    )
    with pytest.raises(KustomizeBuildError, match="helmCharts needs kustomize --enable-helm"):
        build(tmp_path)


def test_existing_build_metadata_is_merged(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "kustomization.yaml": """
            {"resources": ["cm.yaml"], "buildMetadata": ["managedByLabel"]}
            """,
            "cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n",
        },
    )
    result = build(tmp_path)
    assert result.text == plain_build(tmp_path)
    assert "app.kubernetes.io/managed-by" in result.text
    assert result.objects[0].origin_file == tmp_path / "cm.yaml"


# --------------------------------------------------------------------------- failures


def test_remote_base_is_refused(tmp_path: Path) -> None:
    with pytest.raises(KustomizeBuildError) as caught:
        build(FIXTURES / "remote")
    message = caught.value.message
    assert "github.com/kubernetes-sigs/kustomize/examples/multibases?ref=v1.0.6" in message
    assert "not fetched: klint runs offline" in message
    # Also when the remote reference hides in a local base.
    write_tree(
        tmp_path,
        {
            "base/kustomization.yaml": "resources:\n  - https://example.com/manifests/app.yaml\n",
            "overlay/kustomization.yaml": "resources:\n  - ../base\n",
        },
    )
    with pytest.raises(KustomizeBuildError, match=re.escape("https://example.com/manifests/")):
        build(tmp_path / "overlay", root=tmp_path)


def test_sandbox_has_no_network(tmp_path: Path) -> None:
    """Even without the pre-check, the tool cannot fetch: git is limited to local files."""
    shutil.copytree(FIXTURES / "remote", tmp_path / "remote")
    home = tmp_path / "home"
    home.mkdir()
    started = time.monotonic()
    with pytest.raises(KustomizeBuildError) as caught:
        tool.run_tool(find_tool(), tmp_path / "remote", home, 60, tmp_path, tmp_path, tmp_path)
    assert time.monotonic() - started < 60
    assert "github.com" in caught.value.message


def test_broken_reference_message() -> None:
    with pytest.raises(KustomizeBuildError) as caught:
        build(FIXTURES / "broken")
    message = caught.value.message
    assert str(FIXTURES / "broken" / "missing.yaml") in message
    assert "klint-kustomize-" not in message  # temp paths are mapped back
    assert "command failed" not in message and not message.startswith("E")
    assert caught.value.directory == FIXTURES / "broken"


def test_not_a_kustomization() -> None:
    with pytest.raises(KustomizeBuildError, match="no kustomization file"):
        build(FIXTURES)


@pytest.fixture()
def fake_bin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A directory that comes first on PATH, for stand-in tools (real processes)."""
    directory = tmp_path / "bin"
    directory.mkdir()
    monkeypatch.setenv("PATH", f"{directory}{os.pathsep}{os.environ['PATH']}")
    yield directory


def script(directory: Path, name: str, body: str) -> None:
    path = directory / name
    path.write_text("#!/bin/sh\n" + textwrap.dedent(body), encoding="utf-8")
    path.chmod(0o755)


def test_old_kustomize_is_refused(fake_bin: Path) -> None:
    script(fake_bin, "kustomize", 'echo "{Version:kustomize/v4.2.0 GitCommit:abc}"\n')
    with pytest.raises(KustomizeBuildError) as caught:
        build(PROD)
    assert "v4.2.0" in caught.value.message
    assert "v4.3.0" in caught.value.message and "1.23" in caught.value.message


def test_old_kubectl_is_refused(fake_bin: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(fake_bin))
    script(
        fake_bin,
        "kubectl",
        """\
        echo '{"clientVersion": {"major": "1", "minor": "22", "gitVersion": "v1.22.17"}}'
        """,
    )
    with pytest.raises(KustomizeBuildError, match=r"kubectl kustomize \(kustomize v4\.2\.0\)"):
        build(PROD)


def test_timeout(fake_bin: Path) -> None:
    script(
        fake_bin,
        "kustomize",
        """\
        if [ "$1" = version ]; then echo v5.9.9; exit 0; fi
        sleep 30
        """,
    )
    started = time.monotonic()
    with pytest.raises(KustomizeBuildError, match="did not finish within 1 s"):
        build(PROD, timeout=1)
    assert time.monotonic() - started < 15


# --------------------------------------------------------------------------- corpus

CORPUS_TARGETS = [
    ("online-boutique", "online-boutique", 35),
    ("online-boutique-hardened", "online-boutique/overlays/klint-hardened", 46),
    ("podinfo-kustomize", "podinfo/kustomize", 3),
    ("podinfo-dev", "podinfo/deploy/overlays/dev", 25),
    ("podinfo-staging", "podinfo/deploy/overlays/staging", 25),
    ("podinfo-production", "podinfo/deploy/overlays/production", 25),
    ("argo-cd-namespace-install", "argo-cd/manifests/namespace-install", 50),
    ("argo-cd-ha-namespace-install", "argo-cd/manifests/ha/namespace-install", 61),
    ("kubeflow-pipelines-multi-user", "kubeflow-pipelines/base/installs/multi-user", 86),
    ("kubeflow-pipelines-platform-agnostic", "kubeflow-pipelines/env/platform-agnostic", None),
    ("kubeflow-katib-standalone", "kubeflow-katib/installs/katib-standalone", 25),
    ("flux2-apps-production", "flux2-example/apps/production", 3),
    ("flux2-infrastructure-controllers", "flux2-example/infrastructure/controllers", 6),
]


def leaves(
    value: object, path: tuple[str | int, ...] = ()
) -> Iterator[tuple[tuple[str | int, ...], object]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from leaves(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from leaves(item, (*path, index))
    else:
        yield path, value


def plausible(result: KustomizeBuild) -> tuple[int, int]:
    """How many leaf fields of declared objects locate to a line naming their key or value."""
    lines: dict[Path, list[str]] = {}
    good = total = 0
    for obj in result.objects:
        if obj.generated:
            continue
        for path, value in leaves(obj.data):
            if not path or value == "":
                continue
            found = locate(obj, path)
            assert found is not None, (obj, path)
            text = lines.setdefault(found[0], found[0].read_text().splitlines())[found[1] - 1]
            key = [step for step in path if isinstance(step, str)][-1]
            shown = str(value).lower() if isinstance(value, bool) else str(value)
            total += 1
            # Image fields may point at the kustomization's ``newTag:`` line.
            good += key in text or shown.split("\n")[0][:20] in text or "newTag" in text
    return good, total


@pytest.mark.slow
@pytest.mark.skipif(not CORPUS.is_dir(), reason="benchmark corpus not present")
def test_corpus_targets(capsys: pytest.CaptureFixture[str]) -> None:
    """Build every Kustomize target of the corpus; report time per target and failures."""
    before = checksums(CORPUS)
    rows: list[str] = []
    failures: list[str] = []
    for name, relative, expected in CORPUS_TARGETS:
        directory = CORPUS / relative
        started = time.monotonic()
        try:
            result = build(directory, root=CORPUS)
        except KustomizeBuildError as error:
            seconds = time.monotonic() - started
            rows.append(f"{name:38} failed  {seconds:5.2f}s  {error.message[:80]}")
            if expected is not None:
                failures.append(f"{name}: {error.message}")
            else:
                assert "not fetched: klint runs offline" in error.message
            continue
        seconds = time.monotonic() - started
        started = time.monotonic()
        plain = plain_build(directory)
        plain_seconds = time.monotonic() - started
        for obj in result.objects:
            assert obj.origin_file is not None and obj.origin_file.is_file(), obj
        good, total = plausible(result)
        patched = sum(1 for obj in result.objects if obj.patch_files)
        rows.append(
            f"{name:38} {len(result.objects):3} obj  {seconds:5.2f}s (plain "
            f"{plain_seconds:4.2f}s)  {patched:2} patched  located {good}/{total}"
        )
        if expected is None or len(result.objects) != expected:
            failures.append(f"{name}: {len(result.objects)} objects, expected {expected}")
        if result.text != plain:
            failures.append(f"{name}: output differs from a plain build")
        if good < 0.97 * total:
            failures.append(f"{name}: only {good}/{total} fields located plausibly")
    with capsys.disabled():
        print("\nkustomize corpus builds:\n" + "\n".join(rows))
    assert checksums(CORPUS) == before
    assert not failures, failures

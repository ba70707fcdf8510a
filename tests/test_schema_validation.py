"""Schema validation (KL901-KL906): bundle, positions, Kubernetes semantics, CRDs, formats."""

from __future__ import annotations

import gzip
import importlib.util
import json
import shutil
import sys
from pathlib import Path

import pytest

from klint.checks.schema import show_path
from klint.data import data_path
from klint.k8s_schemas import (
    Issue,
    IssueKind,
    builtin_schemas,
    bundled_versions,
    pick_version,
    validate,
)
from tests.conftest import CORPUS, FIXTURES, REPO, hits, lint_text, run_cli

SCHEMA_RULES = ["KL901", "KL902", "KL903", "KL904", "KL905", "KL906"]
CORE = "io.k8s.api.core.v1."


def schema_hits(text: str, kube_version: tuple[int, int] = (1, 35)) -> list[tuple[int, int, str]]:
    report = lint_text(text, rules=SCHEMA_RULES, kube_version=kube_version)
    assert not report.notifications, report.notifications
    return sorted(hits(report))


def messages(text: str) -> list[str]:
    report = lint_text(text, rules=SCHEMA_RULES)
    return [f.message for f in sorted(report.active, key=lambda f: f.sort_key())]


# --- the bundle ------------------------------------------------------------------------


def test_bundle_has_the_newest_releases_and_the_default_version() -> None:
    from klint.run import DEFAULT_KUBE_VERSION

    versions = bundled_versions()
    assert versions[-3:] == ((1, 35), (1, 36), (1, 37))
    major, minor = (int(part) for part in DEFAULT_KUBE_VERSION.split("."))
    assert (major, minor) in versions


def test_bundle_is_small_and_shares_definitions_between_versions() -> None:
    folder = data_path("schemas", "kubernetes")
    total = sum(path.stat().st_size for path in folder.glob("*.json.gz"))
    assert total < 1_000_000
    with gzip.open(folder / "definitions.json.gz", "rt") as handle:
        shared = json.load(handle)
    with gzip.open(folder / "v1.35.json.gz", "rt") as handle:
        index = json.load(handle)
    assert index["kinds"]["apps/v1"]["Deployment"] == "io.k8s.api.apps.v1.Deployment"
    # Thirteen versions of ~700-860 definitions each, but far fewer distinct ones.
    assert len(shared) < 2 * len(index["definitions"])
    assert "description" not in shared[index["definitions"][CORE + "Container"]]


def test_pick_version_uses_the_nearest_older_bundled_release() -> None:
    assert pick_version((1, 35)) == (1, 35)
    assert pick_version((1, 99)) == (1, 37)
    assert pick_version((1, 10)) == (1, 25)


def test_definitions_compile_lazily() -> None:
    schemas = builtin_schemas((1, 36))
    assert schemas.node_for("v1", "ConfigMap") is not None
    list(validate(schemas.node_for("v1", "ConfigMap"), {"data": {"a": "b"}}))  # type: ignore[arg-type]
    compiled = set(schemas._compiled)
    assert CORE + "ConfigMap" in compiled
    assert CORE + "PodSpec" not in compiled


def test_the_bundle_script_rebuilds_identical_files(tmp_path: Path) -> None:
    source = _kubernetes_validate_source()
    if source is None:
        pytest.skip("kubernetes-validate is not installed (build-time only)")
    import subprocess

    subprocess.run(
        [
            sys.executable,
            str(REPO / "scripts" / "build_k8s_schemas.py"),
            "--source",
            str(source),
            "--out",
            str(tmp_path),
        ],
        check=True,
        capture_output=True,
    )
    for built in tmp_path.glob("*.json.gz"):
        assert built.read_bytes() == (data_path("schemas", "kubernetes") / built.name).read_bytes()


def _kubernetes_validate_source() -> Path | None:
    try:
        import kubernetes_validate  # type: ignore[import-not-found]
    except ImportError:
        return None
    return Path(kubernetes_validate.__file__).parent


# --- validation core -------------------------------------------------------------------


def test_validate_reports_each_kind_of_issue_with_its_path() -> None:
    node = builtin_schemas((1, 35)).node_for("v1", "Pod")
    assert node is not None
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p"},
        "spec": {"restartPolicy": "never", "containers": [{"image": "x", "tty": "yes"}]},
    }
    assert list(validate(node, pod)) == [
        Issue(
            IssueKind.ENUM,
            ("spec", "restartPolicy"),
            "never",
            ("Always", "OnFailure", "Never"),
            "Never",
        ),
        Issue(IssueKind.REQUIRED, ("spec", "containers", 0, "name"), "name"),
        Issue(IssueKind.TYPE, ("spec", "containers", 0, "tty"), "string", ("boolean",)),
    ]


def test_show_path() -> None:
    assert show_path(("spec", "containers", 0, "name")) == "spec.containers[0].name"
    assert show_path(()) == "the object"


# --- built-in kinds: positions and messages ---------------------------------------------

TYPOS = """\
apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  securityContext:
    runAsNonroot: true
  containers:
    - name: app
      image: nginx:1.27
      securityContex:
        allowPrivilegeEscalation: false
      resources: {limits: {cpu: 1}}
"""


def test_unknown_fields_point_at_the_key_or_its_scalar_value_and_name_the_fix() -> None:
    # A scalar value is the span of a key-level finding; a mapping value: its key.
    assert schema_hits(TYPOS) == [(6, 19, "KL901"), (10, 7, "KL901")]
    assert messages(TYPOS) == [
        'spec.securityContext has unknown field "runAsNonroot" (did you mean "runAsNonRoot"?); '
        "Pod v1 does not define it.",
        'spec.containers[0] has unknown field "securityContex" (did you mean '
        '"securityContext"?); Pod v1 does not define it.',
    ]
    report = lint_text(TYPOS, rules=["KL901"])
    assert [f.properties for f in report.active] == [
        (("suggestion", "runAsNonRoot"),),
        (("suggestion", "securityContext"),),
    ]


def test_typed_findings_point_at_the_value() -> None:
    text = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, labels: {release: 1.10}}
spec:
  replicas: "2"
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
        - name: app
          image: nginx:1.27
          imagePullPolicy: always
          env: [{name: A, value: yes}]
"""
    assert schema_hits(text) == [
        (3, 41, "KL902"),
        (5, 13, "KL902"),
        (13, 28, "KL904"),
        (14, 34, "KL902"),
    ]
    assert messages(text)[0] == (
        "metadata.labels.release must be a string, not a number (quote the value; unquoted "
        "yes/no/on/off and numbers are not strings)."
    )
    assert messages(text)[2] == (
        'spec.template.spec.containers[0].imagePullPolicy is "always" (did you mean '
        '"Always"?); allowed: Always, Never, IfNotPresent.'
    )


def test_missing_required_field_points_at_the_nearest_existing_ancestor() -> None:
    text = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      containers:
        - image: nginx:1.27
"""
    assert schema_hits(text) == [(4, 1, "KL903"), (8, 11, "KL903")]
    assert messages(text) == [
        'spec is missing required field "selector".',
        'spec.template.spec.containers[0] is missing required field "name".',
    ]


def test_kubernetes_semantics_are_not_flagged() -> None:
    text = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  creationTimestamp: null
  annotations: {note: ""}
spec:
  replicas: 1.0
  selector: {matchLabels: {app: web}}
  strategy: {rollingUpdate: {maxSurge: 25%, maxUnavailable: 1}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
        - name: app
          image: nginx:1.27
          imagePullPolicy: ""
          securityContext: {privileged: off, runAsUser: 0x3e8}
          resources:
            requests: {cpu: 250m, memory: 1Gi}
            limits: {cpu: 2, memory: 1.5e9}
          ports: [{containerPort: 8080, name: http}]
          livenessProbe: {httpGet: {port: http, path: /}}
          readinessProbe: {tcpSocket: {port: 8080}}
          volumeMounts: null
---
apiVersion: v1
kind: List
items:
  - apiVersion: v1
    kind: ConfigMap
    metadata: {name: c}
    data: {key: value}
"""
    assert schema_hits(text) == []


def test_list_items_are_validated_at_their_own_lines() -> None:
    text = """\
apiVersion: v1
kind: List
items:
  - apiVersion: v1
    kind: ConfigMap
    metadata: {name: c}
    dta: {key: value}
"""
    assert schema_hits(text) == [(7, 5, "KL901")]


def test_kube_version_selects_the_schema() -> None:
    text = """\
apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  containers:
    - name: app
      image: nginx:1.27
      securityContext:
        appArmorProfile: {type: RuntimeDefault}
"""
    assert schema_hits(text, kube_version=(1, 30)) == []
    assert schema_hits(text, kube_version=(1, 29)) == [(9, 9, "KL901")]


def test_unserved_api_and_custom_resources_are_notes() -> None:
    text = """\
apiVersion: networking.k8s.io/v1
kind: Ingres
metadata: {name: web}
---
apiVersion: example.com/v1
kind: Widget
metadata: {name: a}
spec: {anything: [1, 2]}
---
apiVersion: example.com/v1
kind: Widget
metadata: {name: b}
"""
    report = lint_text(text, rules=SCHEMA_RULES)
    assert sorted(hits(report)) == [(1, 13, "KL905"), (6, 7, "KL906")]
    # An unserved apiVersion is a warning (the apply fails); a CR without a schema a note.
    assert [f.severity.value for f in sorted(report.active, key=lambda f: f.sort_key())] == [
        "warning",
        "note",
    ]
    assert [f.message for f in sorted(report.active, key=lambda f: f.sort_key())] == [
        "Kubernetes 1.35 does not serve kind Ingres in networking.k8s.io/v1 (did you mean "
        '"Ingress"?).',
        "no schema for Widget (example.com/v1): include its CustomResourceDefinition in the "
        "input to validate these objects.",
    ]


def test_malformed_objects_do_not_raise() -> None:
    text = """\
apiVersion: apps/v1
kind: Deployment
metadata: [not, a, mapping]
spec: "nothing"
---
apiVersion: v1
kind: Pod
spec:
  containers: {name: app}
"""
    # A mapping or list in the wrong place is located by its key; a scalar by its value.
    assert schema_hits(text) == [(3, 1, "KL902"), (4, 7, "KL902"), (9, 3, "KL902")]
    assert messages(text) == [
        "metadata must be a mapping, not a list.",
        "spec must be a mapping, not a string.",
        "spec.containers must be a list, not a mapping.",
    ]


# --- CustomResourceDefinitions ---------------------------------------------------------

CRD = """\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              required: [size]
              properties:
                size: {x-kubernetes-int-or-string: true}
                mode: {type: string, enum: [fast, safe]}
                note: {type: string, nullable: true}
                config: {type: object, x-kubernetes-preserve-unknown-fields: true}
                template: {type: object, x-kubernetes-embedded-resource: true,
                           properties: {spec: {type: object}}}
                tags: {type: object, additionalProperties: {type: string}}
                free: {type: object}
"""


def test_crd_semantics() -> None:
    text = (
        CRD
        + """\
---
apiVersion: example.com/v1
kind: Widget
metadata: {name: ok, labels: {a: b}}
spec:
  size: 50%
  mode: safe
  note: null
  config: {any: {thing: [1]}}
  template: {apiVersion: v1, kind: Pod, metadata: {name: x}, spec: {}}
  tags: {team: core}
  free: {whatever: 1}
---
apiVersion: example.com/v1
kind: Widget
metadata: {name: bad, lables: {a: b}}
spec:
  size: [3]
  mode: Fast
  tags: {team: 7}
  extra: true
"""
    )
    assert schema_hits(text) == [
        (43, 23, "KL901"),
        (45, 3, "KL902"),
        (46, 9, "KL904"),
        (47, 16, "KL902"),
        (48, 10, "KL901"),
    ]
    assert messages(text)[1:3] == [
        "spec.size must be an integer or a string, not a list.",
        'spec.mode is "Fast" (did you mean "fast"?); allowed: fast, safe.',
    ]


def test_crd_nulls_on_non_nullable_fields_are_pruned_like_the_api_server() -> None:
    # apiextensions PruneNonNullableNullsWithoutDefaults: a null on a non-nullable field is
    # deleted (or defaulted) before validation; a required field is then missing.
    crd = CRD.replace(
        "                free: {type: object}\n",
        "                free: {type: object}\n"
        "                level: {type: string, default: low}\n"
        "                list: {type: array, items: {type: string}}\n",
    )
    text = (
        crd
        + """\
---
apiVersion: example.com/v1
kind: Widget
metadata: {name: nulls}
spec:
  size:
  mode:
  note: null
  free: ~
  level: null
  tags: {team: null}
  list: [a, null]
"""
    )
    lines = crd.count("\n")
    assert schema_hits(text) == [(lines + 6, 8, "KL903"), (lines + 12, 13, "KL902")]
    assert messages(text)[1] == "spec.list[1] must be a string, not null."
    assert "size" in messages(text)[0]


def test_crd_versions_without_schema_and_v1beta1_crds() -> None:
    text = """\
apiVersion: apiextensions.k8s.io/v1beta1
kind: CustomResourceDefinition
metadata: {name: gadgets.example.com}
spec:
  group: example.com
  version: v1alpha1
  names: {plural: gadgets, kind: Gadget}
  preserveUnknownFields: true
  validation:
    openAPIV3Schema:
      properties:
        spec: {properties: {count: {type: integer}}}
---
apiVersion: example.com/v1alpha1
kind: Gadget
metadata: {name: g}
spec: {count: many, unknown: kept}
"""
    report = lint_text(text, rules=SCHEMA_RULES)
    # The v1beta1 CRD itself is reported by the deprecated/unserved API rules, not here.
    assert [h for h in sorted(hits(report)) if h[0] > 13] == [(17, 15, "KL902")]


def test_real_crds_from_the_corpus_validate_their_custom_resources() -> None:
    crds = CORPUS / "raw" / "kube-prometheus" / "manifests" / "setup"
    if not crds.is_dir():
        pytest.skip("shared corpus not available")
    crd = (crds / "0prometheusruleCustomResourceDefinition.yaml").read_text()
    for rule_file in sorted((crds.parent).glob("*-prometheusRule.yaml")):
        text = crd + "\n---\n" + rule_file.read_text()
        assert schema_hits(text) == [], rule_file.name


# --- output formats --------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "github"])
def test_schema_findings_have_lines_in_every_format(fmt: str) -> None:
    case = FIXTURES / "cases" / "schema" / "builtin-kinds.yaml"
    # from the case's folder: under fixtures/ every finding would be a note (test input)
    result = run_cli("check", "--format", fmt, "--select", "KL901", case.name, cwd=case.parent)
    assert result.returncode == 1, result.stderr
    out = result.stdout
    if fmt == "text":
        assert "builtin-kinds.yaml:23:23: error:" in out
        assert '(did you mean "runAsNonRoot"?)' in out
    elif fmt == "json":
        found = [f for f in json.loads(out)["findings"] if f["rule_id"] == "KL901"]
        assert [(f["line"], f["column"]) for f in found] == [(23, 23), (34, 11)]
    elif fmt == "sarif":
        results = json.loads(out)["runs"][0]["results"]
        regions = [
            r["locations"][0]["physicalLocation"]["region"]
            for r in results
            if r["ruleId"] == "KL901"
        ]
        assert [(r["startLine"], r["startColumn"]) for r in regions] == [(23, 23), (34, 11)]
    else:
        assert "line=23,col=23" in out and "line=34,col=11" in out


# --- --crd: schemas from CRD files outside the linted unit --------------------------------

CERTIFICATE = """\
apiVersion: cert-manager.io/v1
kind: Certificate
metadata: {name: web}
spec:
  secretName: web-tls
  issuerRef: {name: letsencrypt, kind: ClusterIssuer}
  dnsNames: [web.example.com]
  privateKey: {algoritm: ECDSA}
"""


def test_crd_option_provides_schemas_for_other_files(tmp_path: Path) -> None:
    manifest = tmp_path / "certificate.yaml"
    manifest.write_text(CERTIFICATE)
    crd = FIXTURES / "cases" / "schema" / "certificate-crd.yaml"
    args = ("check", "--format", "json", "--profile", "all", str(manifest))
    without = run_cli(*args, "--select", "KL906")
    found = [(f["rule_id"], f["line"], f["column"]) for f in json.loads(without.stdout)["findings"]]
    assert [f for f in found if f[0].startswith("KL9")] == [("KL906", 2, 7)]
    with_crd = run_cli(*args, "--crd", str(crd))
    found = [
        (f["rule_id"], f["line"], f["column"]) for f in json.loads(with_crd.stdout)["findings"]
    ]
    assert [f for f in found if f[0].startswith("KL9")] == [("KL901", 8, 26)]
    message = next(
        f["message"] for f in json.loads(with_crd.stdout)["findings"] if f["rule_id"] == "KL901"
    )
    assert message == (
        'spec.privateKey has unknown field "algoritm" (did you mean "algorithm"?); '
        "Certificate cert-manager.io/v1 does not define it."
    )


def test_missing_crd_path_is_a_usage_error(tmp_path: Path) -> None:
    manifest = tmp_path / "certificate.yaml"
    manifest.write_text(CERTIFICATE)
    result = run_cli("check", str(manifest), "--crd", str(tmp_path / "missing"))
    assert result.returncode == 2
    assert "--crd" in result.stderr and "no such file or folder" in result.stderr


def test_corpus_custom_resources_validate_cleanly_with_their_crds() -> None:
    manifests = CORPUS / "raw" / "kube-prometheus" / "manifests"
    if not manifests.is_dir():
        pytest.skip("shared corpus not available")
    result = run_cli(
        "check",
        "--format",
        "json",
        "--profile",
        "all",
        "--no-config",
        str(manifests),
        "--crd",
        str(manifests / "setup"),
    )
    findings = json.loads(result.stdout)["findings"]
    assert [f for f in findings if f["rule_id"].startswith("KL9")] == []


# --- Helm charts: findings point at the template line --------------------------------------

TEMPLATE = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-web
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
        - name: web
          image: "nginx:{{ .Values.tag }}"
          securityContext:
            runAsNonroot: {{ .Values.nonRoot }}
          ports:
            - containerPort: {{ .Values.port | quote }}
"""


@pytest.mark.skipif(
    importlib.util.find_spec("helm_python") is None and shutil.which("helm") is None,
    reason="needs helm-python-sdk or a helm binary",
)
def test_chart_findings_point_at_template_lines(tmp_path: Path) -> None:
    chart = tmp_path / "web"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: web\nversion: 0.1.0\n")
    (chart / "values.yaml").write_text("tag: '1.27'\nnonRoot: true\nport: 8080\n")
    (chart / "templates" / "deployment.yaml").write_text(TEMPLATE)
    result = run_cli("check", "--format", "json", "--no-config", str(chart), cwd=tmp_path)
    found = [
        (f["rule_id"], f["path"], f["line"])
        for f in json.loads(result.stdout)["findings"]
        if f["rule_id"].startswith("KL9")
    ]
    assert found == [
        ("KL901", "web/templates/deployment.yaml", 14),
        ("KL902", "web/templates/deployment.yaml", 16),
    ]


def test_explicit_str_tag_makes_a_number_a_string() -> None:
    text = (
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n"
        "    - name: a\n      image: a\n      command: [a, !!str 1, 2]\n"
        "      env: [{name: P, value: !!str 8080}, {name: Q, value: 8080}]\n"
    )
    assert schema_hits(text) == [(8, 29, "KL902"), (9, 60, "KL902")]


@pytest.mark.skipif(
    importlib.util.find_spec("helm_python") is None and shutil.which("helm") is None,
    reason="needs helm-python-sdk or a helm binary",
)
def test_chart_str_tag_on_a_rendered_number_is_a_string(tmp_path: Path) -> None:
    chart = tmp_path / "web"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: web\nversion: 0.1.0\n")
    (chart / "values.yaml").write_text("port: 31766\n")
    (chart / "templates" / "pod.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n"
        "    - name: a\n      image: a\n      command:\n"
        "        - !!str {{ .Values.port }}\n        - {{ .Values.port }}\n"
    )
    result = run_cli("check", "--format", "json", "--no-config", str(chart), cwd=tmp_path)
    found = [
        (f["rule_id"], f["line"])
        for f in json.loads(result.stdout)["findings"]
        if f["rule_id"] == "KL902"
    ]
    assert found == [("KL902", 10)]

"""Credential detection: token formats, names, placeholders, and the corpus false-positive bound."""

from __future__ import annotations

from collections import Counter

import pytest

from klint.checks.secrets import credential_name, literal_value, looks_random, token_format
from tests.conftest import CORPUS, hits, lint_text

SECRET_RULES = ["KL601", "KL602", "KL603", "KL604", "KL605"]


@pytest.mark.parametrize(
    ("value", "label"),
    [
        ("AKIAIOSFODNN7EXAMPLE", "an AWS access key id"),
        ("ghp_" + "a1B2" * 9, "a GitHub token"),
        ("github_pat_" + "A1b2_" * 15, "a GitHub token"),
        ("glpat-" + "x1Y2z3" * 4, "a GitLab token"),
        ("xoxb-123456789012-abcdefABCDEF", "a Slack token"),
        ("AIza" + "Sy0123456789abcdefghijklmnopqrstuvw", "a Google API key"),
        ("sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc", "a Stripe live key"),
        ("-----BEGIN OPENSSH PRIVATE KEY-----", "a private key"),
        ("-----BEGIN PRIVATE KEY-----", "a private key"),
        ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJlX2hlcmU", "a JSON Web Token"),
        ("mysql://root:hunter2@db:3306/app", "a URL with an embedded password"),
        ("https://user:${PASSWORD}@host", None),
        ("https://user:$(PASSWORD)@host", None),
        ("https://user@host/path", None),
        ("-----BEGIN CERTIFICATE-----", None),
        ("sk_test_4eC39HqLyjWDarjtT1zdp7dc", None),
        ("AKIA-not-a-key", None),
    ],
)
def test_token_formats(value: str, label: str | None) -> None:
    assert token_format(value) == label


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("DB_PASSWORD", True),
        ("dbPassword", True),
        ("AWS_SECRET_ACCESS_KEY", True),
        ("GITHUB_TOKEN", True),
        ("api-key", True),
        ("PRIVATE_KEY", True),
        ("PWD", True),  # the shell's PWD holds a path, which is never a credential value
        ("pwd", True),
        ("DB_PASS", True),
        ("passphrase", True),
        ("SSH_KEY_PASSPHRASE", True),
        ("AZURE_STORAGE_KEY", True),
        ("AZURE_BATCH_KEY", True),
        ("STORAGE_ACCOUNT_KEY", True),
        ("AZURE_KEYVAULT_NAME", False),
        ("BYPASS", False),
        ("SORT_KEY", False),
        ("DB_PWD", True),
        ("DB_PASSWORD_FILE", False),
        ("TOKEN_TTL", False),
        ("SECRET_NAME", False),
        ("KUBERNETES_SERVICE_ACCOUNT_TOKEN_PATH", False),
        ("checksum/secret", False),
        ("LOG_LEVEL", False),
        ("ACCESS_KEY_ID", False),
        # etcd settings named token: the token provider and the cluster's identity
        ("ETCD_AUTH_TOKEN", False),
        ("ETCD_INITIAL_CLUSTER_TOKEN", False),
        ("initial-cluster-token", False),
        ("AUTH_TOKEN", True),  # elsewhere a token is a token
        ("ETCD_ROOT_PASSWORD", True),
        ("ETCD_AUTH_TOKEN_SECRET", True),
        # settings about credentials: which helpers, plugins, providers fetch them
        ("registryCredentialHelpers", False),  # kyverno: default,google,amazon,azure,github
        ("credential-plugins", False),
        ("TOKEN_PROVIDERS", False),
        ("registryCredential", True),
    ],
)
def test_credential_names(name: str, expected: bool) -> None:
    assert credential_name(name) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("changeme", True),
        ("s3cr3t", True),
        ("", False),
        ("  ", False),
        ("$(TOKEN)", False),
        ("${TOKEN}", False),
        ("{{ .Values.token }}", False),
        ("<your-token>", False),
        ("true", False),
        ("12", False),
        ("30s", False),
        ("/run/secrets/x", False),
        ("https://vault.example.com", False),
        ("https://u:p4ss@h", True),
    ],
)
def test_literal_values(value: str, expected: bool) -> None:
    assert literal_value(value) is expected


def test_random_looking_values() -> None:
    assert looks_random("k8Zq1VbN3xLm5TpR")
    assert not looks_random("password-placeholder-0")  # identifier-like
    assert not looks_random("short1A")
    assert not looks_random("aaaaaaaaaaaa1111")  # low entropy
    assert not looks_random("no digits in here at all")


def test_names_of_secret_objects_are_not_credentials() -> None:
    text = """\
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers:
    - name: app
      image: app:1
      args: ["--agent-tls-secret=agent-tls", "--password=hunter2"]
      env:
        - {name: WEBHOOK_SECRET, value: elastic-webhook-server-cert}
        - {name: MINIO_ACCESS_KEY, value: minio}
        - {name: API_SECRET, value: Zx81kLq0mB7wTr2}
        - {name: DB_PASSWORD, value: hunter2}
"""
    report = lint_text(text, rules=["KL601"])
    # a Secret's name under a *secret* flag or variable is a reference; a definite credential
    # name with any literal, or a random-looking value, is still a credential
    assert [line for line, _, _ in hits(report)] == [8, 11, 12, 13]  # one hit in args: --password


def test_messages_never_repeat_the_secret() -> None:
    text = """\
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers:
    - name: app
      image: app:1
      env:
        - {name: API_KEY, value: Zx81kLq0mB7wTr2}
"""
    report = lint_text(text, rules=["KL601"])
    assert hits(report) == [(9, 34, "KL601")]
    assert "Zx81kLq0mB7wTr2" not in report.active[0].message
    assert report.active[0].message == (
        'container "app" env var API_KEY is set to a literal credential: use a Secret '
        "(valueFrom.secretKeyRef)."
    )


def test_configmap_file_line_is_named() -> None:
    text = """\
apiVersion: v1
kind: ConfigMap
metadata: {name: c}
data:
  app.ini: |
    [db]
    password = Xk29fLq81mZpQ7
"""
    report = lint_text(text, rules=["KL602"])
    assert hits(report) == [(5, 12, "KL602")]
    assert "line 2" in report.active[0].message


def test_malformed_values_do_not_crash() -> None:
    text = """\
apiVersion: v1
kind: ConfigMap
metadata: {name: c, annotations: [x]}
data: [1, 2]
---
apiVersion: v1
kind: Pod
metadata: {name: p, annotations: {token: null}}
spec:
  containers:
    - {name: a, image: i, env: "x", envFrom: [null, {secretRef: "s"}], args: [1, null]}
    - {name: b, image: i, env: [null, {name: PASSWORD, value: null}, {value: AKIAIOSFODNN7EXAMPLE}]}
---
apiVersion: v1
kind: Secret
metadata: {name: s}
data: "nope"
"""
    report = lint_text(text, rules=SECRET_RULES)
    assert report.notifications == []
    assert hits(report) == [(12, 78, "KL601")]


# Reviewed by hand (see the rule docs): every finding on the corpus is a hard-coded literal
# under a credential name (demo passwords such as "admin", "minio123", fill-in literals
# such as "yourpassword"), a committed Secret, or a secretKeyRef. Tuning removed 5 false
# positives (Helm checksum/secret annotations) and 13 Helm-generated Secrets.
# KL601 23 → 22: ETCD_INITIAL_CLUSTER_TOKEN (kubernetes-examples openshift-origin etcd) is
# the cluster's identity, not a credential (its own comment says so)
CORPUS_EXPECTED = {"KL601": 22, "KL602": 0, "KL603": 0, "KL604": 19, "KL605": 44}


@pytest.mark.slow
@pytest.mark.skipif(not (CORPUS / "raw").is_dir(), reason="shared corpus not present")
def test_corpus_false_positive_bounds() -> None:
    from klint.catalog import load_catalog
    from klint.documents import Limits
    from klint.engine import bind_rules, lint
    from klint.selection import select_rules
    from klint.sources.base import LoadSettings
    from klint.sources.discover import DiscoverOptions, discover

    units = discover(
        ["raw", "helm-rendered", "kustomize-rendered"],
        cwd=CORPUS,
        options=DiscoverOptions(render_units=False),
    ).units
    rules = bind_rules(select_rules(load_catalog(), (), select=SECRET_RULES))
    report = lint(units, rules, LoadSettings(limits=Limits()), (1, 35))
    counts = Counter(f.rule_id for f in report.active)
    for rule, expected in CORPUS_EXPECTED.items():
        # A little slack for corpus refreshes; a jump means new false positives.
        assert expected <= counts.get(rule, 0) <= expected + 3, (rule, counts)
    flagged = {
        (f.location.path, f.location.span.start_line) for f in report.active if f.rule_id == "KL601"
    }
    assert ("raw/istio/samples/addons/grafana.yaml", 201) in flagged
    assert not any(path.startswith("helm-charts/") for path, _ in flagged)


def test_every_token_format_has_a_prefilter_hint() -> None:
    from klint.checks import secrets

    assert set(secrets._TOKEN_HINTS) == {label for label, _ in secrets.TOKEN_FORMATS}


def test_bitnami_etcd_token_settings_are_not_literal_credentials() -> None:
    # apisix vendors bitnami's etcd chart (sample 9): both were reported as KL601
    pod = """\
apiVersion: v1
kind: Pod
metadata: {name: etcd}
spec:
  containers:
    - name: etcd
      image: bitnami/etcd:3.5.9
      env:
        - name: ETCD_AUTH_TOKEN
          value: "jwt,priv-key=/opt/bitnami/etcd/certs/token/jwt.pem,sign-method=RS256,ttl=10m"
        - {name: ETCD_INITIAL_CLUSTER_TOKEN, value: etcd-cluster-k8s}
        - {name: ETCD_ROOT_PASSWORD, value: hunter2}
"""
    found = [f.message for f in lint_text(pod, rules=("KL601",)).findings]
    assert len(found) == 1 and "ETCD_ROOT_PASSWORD" in found[0]


def test_the_name_of_a_secret_object_under_a_secret_name_is_no_credential() -> None:
    """cloudnative-pg's plugin Service (sample 12): ``cnpg.io/pluginClientSecret`` names the
    TLS Secret the client uses; another literal under that name is still a credential."""
    service = """\
apiVersion: v1
kind: Service
metadata:
  name: barman-cloud
  annotations:
    cnpg.io/pluginClientSecret: barman-cloud-client-tls
    cnpg.io/pluginServerSecret: barman-cloud-server-tls
    example.com/clientSecret: s3cr3t-value
spec:
  ports: [{port: 9090}]
"""
    found = [f.message for f in lint_text(service, rules=("KL603",)).findings]
    assert len(found) == 1 and "example.com/clientSecret" in found[0]

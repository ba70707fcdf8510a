"""Secrets checks on hostile values: linear-time patterns, credentials under definite names."""

from __future__ import annotations

import time

import pytest

from klint.checks.secrets import definite_credential_name, token_format
from tests.conftest import hits, lint_text

SIZE = 512 * 1024

# Each value made one built-in pattern try a long scan from every character (the URL
# pattern took 91 s on the first, the JSON Web Token pattern ~40 s on the fifth).
HOSTILE = {
    "dotted scheme": "a." * (SIZE // 2) + "://",
    "letters before ://": "a" * SIZE + "://",
    "endless user": "x://" + "u" * SIZE,
    "endless password": "x://u:" + "p" * SIZE,
    "dashed eyJ": "eyJ-" * (SIZE // 4) + ".",
    "dashes": "-" * SIZE + "BEGIN PRIVATE",
    "github_pat run": "github_pat_" * (SIZE // 11),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_every_builtin_pattern_is_linear_on_half_a_megabyte(name: str) -> None:
    started = time.perf_counter()
    token_format(HOSTILE[name])
    # Linear: ~0.1 s here; the quadratic patterns took 40-130 s on these values.
    assert time.perf_counter() - started < 10


def test_a_hostile_configmap_value_costs_its_own_scan_only() -> None:
    text = (
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n"
        f"  blob: '{HOSTILE['dotted scheme']}'\n"
        "  url: mysql://root:hunter2@db:3306/app\n"
    )
    started = time.perf_counter()
    report = lint_text(text, rules=["KL602"])
    assert time.perf_counter() - started < 20
    assert hits(report) == [(6, 8, "KL602")]


@pytest.mark.parametrize(
    "header",
    [
        "-----BEGIN RSA PRIVATE KEY-----",
        "-----BEGIN RSA PRIVATE KEY",  # no closing dashes
        "----BEGIN EC PRIVATE KEY----",  # four dashes
        "-----BEGIN  ENCRYPTED  PRIVATE KEY-----",  # doubled spaces
        "-----BEGIN PGP PRIVATE KEY BLOCK-----",
        "-----  BEGIN OPENSSH PRIVATE   KEY-----",
    ],
)
def test_private_key_blocks_are_found_with_malformed_headers(header: str) -> None:
    assert token_format(f"{header}\nMIIEpAIBAAKCAQEA\n") == "a private key"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("db_password", True),
        ("aws_secret_access_key", True),
        ("awsSecretAccessKey", True),
        ("spring.datasource.password", True),
        ("client-secret", True),
        ("PASSWORD", True),
        ("password_file", False),  # names a file, not a value
        ("token", False),  # ambiguous: a token name, a token URL ...
        ("secret", False),
        ("password_min_length", False),
    ],
)
def test_definite_credential_names(name: str, expected: bool) -> None:
    assert definite_credential_name(name) is expected


def test_definite_names_report_any_literal_and_ambiguous_ones_keep_placeholders() -> None:
    text = """\
apiVersion: v1
kind: ConfigMap
metadata: {name: c}
data:
  db_password: changeme
  aws_secret_access_key: example
  token: changeme
  secret: my-secret-name
  db_password_ref: ${DB_PASSWORD}
  api_key: "{{ .Values.key }}"
  app.properties: |
    db.user=app
    db.password=admin
"""
    report = lint_text(text, rules=["KL602"])
    assert hits(report) == [(5, 16, "KL602"), (6, 26, "KL602"), (11, 19, "KL602")]
    assert all("changeme" not in f.message and "admin" not in f.message for f in report.active)

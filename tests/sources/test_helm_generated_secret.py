"""A chart's Secret whose data its template generates at install (``genSelfSignedCert``,
``randAlphaNum``): no secret is committed, so KL604 is a note; literal or values-given data
keeps its level."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from klint.sources.helm.generated_values import generated_at_install
from tests.conftest import needs_helm_sdk, run_cli

GENERATED = """\
{{- $host := printf "tap.%s.svc" .Release.Namespace }}
{{- $ca := genSelfSignedCert $host (list) (list $host) 365 }}
apiVersion: v1
kind: Secret
metadata:
  name: tap-tls
type: kubernetes.io/tls
data:
  tls.crt: {{ ternary (b64enc (trim $ca.Cert)) (b64enc .Values.crt) (empty .Values.crt) }}
  tls.key: {{ ternary (b64enc (trim $ca.Key)) (b64enc .Values.key) (empty .Values.key) }}
"""
MIXED = """\
apiVersion: v1
kind: Secret
metadata:
  name: app
data:
  token: {{ randAlphaNum 32 | b64enc }}
  password: {{ .Values.password | b64enc }}
"""


def _kl604(tmp_path: Path, template: str, values: str = "crt: ''\nkey: ''\n") -> dict[str, Any]:
    chart = tmp_path / "c"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: c\nversion: 0.1.0\n")
    (chart / "values.yaml").write_text(values)
    (chart / "templates" / "secret.yaml").write_text(template)
    result = run_cli("check", "--format", "json", "--no-cache", "c", cwd=tmp_path)
    [finding] = [f for f in json.loads(result.stdout)["findings"] if f["rule_id"] == "KL604"]
    return finding


@needs_helm_sdk
def test_data_generated_at_install_is_a_note_naming_the_generator(tmp_path: Path) -> None:
    finding = _kl604(tmp_path, GENERATED)
    assert finding["severity"] == "note"
    assert "generated at install by genSelfSignedCert" in finding["message"]


@needs_helm_sdk
def test_data_partly_from_values_keeps_its_level(tmp_path: Path) -> None:
    finding = _kl604(tmp_path, MIXED, "password: hunter22\n")
    assert finding["severity"] != "note"


@pytest.mark.parametrize(
    ("template", "keys", "expected"),
    [
        (GENERATED, ["tls.crt", "tls.key"], "genSelfSignedCert"),
        (MIXED, ["token"], "randAlphaNum"),
        (MIXED, ["token", "password"], None),
        (MIXED, ["missing"], None),
    ],
)
def test_which_entries_a_generator_writes(
    template: str, keys: list[str], expected: str | None
) -> None:
    assert generated_at_install(template, 0, keys) == expected

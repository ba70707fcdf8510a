"""API-server validation the schema cannot express: fixtures, name syntaxes, cron."""

from __future__ import annotations

from pathlib import Path

import pytest

from klint.catalog import load_catalog
from klint.checks.api_names import (
    dns1035_label,
    dns1123_label,
    dns1123_subdomain,
    env_var_name,
    path_segment,
    port_name,
    qualified_name,
    wildcard_host,
)
from klint.checks.api_validation_kinds import cron_problem
from tests.conftest import FIXTURES, lint_text
from tests.test_admission_policy import expected

API = FIXTURES / "api-validation"
RULES = sorted(r.id for r in load_catalog() if "api-validation" in r.tags)


def test_family_is_complete_and_on_by_default() -> None:
    catalog = {r.id: r for r in load_catalog()}
    assert len(RULES) == 19 and "KL416" in RULES and "KL937" in RULES
    for rule_id in RULES:
        rule = catalog[rule_id]
        assert "default" in rule.profiles
        assert rule.source.split("/")[-2] == "api-validation"
        # each cites the Kubernetes source it mirrors (validation code, or pod warnings)
        assert "validation" in rule.description or "warnings.go" in rule.description
        assert rule.severity.value == ("warning" if rule_id == "KL922" else "error")


@pytest.mark.parametrize("path", sorted(API.glob("*.yaml")), ids=lambda p: p.name)
def test_fixture_findings_are_line_exact(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    report = lint_text(text, rules=RULES, path=str(path))
    found = sorted((f.location.span.start_line, f.rule_id) for f in report.active)
    assert found == expected(text)


@pytest.mark.parametrize(
    ("check", "value", "valid"),
    [
        (dns1123_label, "web-1", True),
        (dns1123_label, "web.1", False),
        (dns1123_label, "a" * 64, False),
        (dns1123_subdomain, "web.example.com", True),
        (dns1123_subdomain, "Web", False),
        (dns1035_label, "web", True),
        (dns1035_label, "1web", False),
        (path_segment, "system:controller:x", True),
        (path_segment, "a/b", False),
        (path_segment, "..", False),
        (qualified_name, "app.kubernetes.io/name", True),
        (qualified_name, "name", True),
        (qualified_name, "a/b/c", False),
        (qualified_name, "/name", False),
        (qualified_name, "Example_.com/name", False),
        (qualified_name, "x" * 64, False),
        (port_name, "http-metrics", True),
        (port_name, "prometheus-metrics", False),
        (port_name, "8080", False),
        (port_name, "a--b", False),
    ],
)
def test_name_syntaxes(check, value: str, valid: bool) -> None:  # type: ignore[no-untyped-def]
    assert (check(value) == "") is valid


@pytest.mark.parametrize(
    ("schedule", "valid"),
    [
        ("*/5 * * * *", True),
        ("0 0 1 1 *", True),
        ("0 9-17 * * mon-fri", True),
        ("@weekly", True),
        ("@every 90s", True),
        ("0 0 3 * * *", False),
        ("60 * * * *", False),
        ("* * 0 * *", False),
        ("* * * 13 *", False),
        ("5-1 * * * *", False),
        ("*/0 * * * *", False),
        ("CRON_TZ=UTC 0 3 * * *", False),
        ("@fortnightly", False),
    ],
)
def test_cron_schedules(schedule: str, valid: bool) -> None:
    assert (cron_problem(schedule) == "") is valid


@pytest.mark.parametrize(
    ("check", "value", "valid"),
    [
        (env_var_name, "1_PORT", True),
        (env_var_name, "my.var-x", True),
        (env_var_name, "A=B", False),
        (env_var_name, "", False),
        (env_var_name, "tab\there", False),
        (wildcard_host, "*.example.com", True),
        (wildcard_host, "foo.example.com", True),
        (wildcard_host, "foo.*.bar.com", False),
        (wildcard_host, "*.*.bar.com", False),
        (wildcard_host, "*", False),
        (wildcard_host, "*foo.bar.com", False),
    ],
)
def test_env_names_and_ingress_hosts(check, value: str, valid: bool) -> None:  # type: ignore[no-untyped-def]
    assert (check(value) == "") is valid


def test_an_ingress_host_may_be_digits_but_not_an_ip_address() -> None:
    text = """\
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web}
spec:
  rules:
    - host: "123"
    - host: 10.0.0.1
"""
    messages = [f.message for f in lint_text(text, rules=["KL935"]).active]
    assert messages == ['host "10.0.0.1" must be a DNS name, not an IP address.']

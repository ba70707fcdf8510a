"""A name or host holding a placeholder (``__URL__``, ``$(SA_NAME)``, ``${HOST}``,
``<your-domain>``) is replaced before the object is applied: the API-validation finding on
it is a note that says so, and a value someone meant keeps its error."""

from __future__ import annotations

import pytest

from klint.checks.api_placeholders import placeholder_in
from klint.findings import Severity
from tests.conftest import lint_text

INGRESS = """\
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {{name: web}}
spec:
  rules:
    - host: {placeholder}
    - host: Not_A_Host.example.com
"""
BINDING = """\
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {{name: b, namespace: ns}}
roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: Role, name: r}}
subjects:
  - {{kind: ServiceAccount, name: "{placeholder}"}}
  - {{kind: ServiceAccount, name: Bad_Name}}
"""


@pytest.mark.parametrize(
    "placeholder", ["__URL__", "'${HOST}'", "api.__DOMAIN__", "'<your-domain>'", "'%HOST%'"]
)
def test_an_ingress_host_placeholder_is_a_note_and_a_real_bad_host_an_error(
    placeholder: str,
) -> None:
    report = lint_text(INGRESS.format(placeholder=placeholder), rules=["KL935"])
    levels = {(f.location.span.start_line, f.severity) for f in report.active}
    assert levels == {(6, Severity.NOTE), (7, Severity.ERROR)}
    note = next(f for f in report.active if f.severity is Severity.NOTE)
    assert "placeholder" in note.message


def test_a_kustomize_var_in_a_subject_name_is_a_note() -> None:
    report = lint_text(
        BINDING.format(placeholder="$(controller-serviceAccountName)"), rules=["KL934"]
    )
    levels = {(f.location.span.start_line, f.severity) for f in report.active}
    assert levels == {(6, Severity.NOTE), (7, Severity.ERROR)}


@pytest.mark.parametrize(
    ("value", "token"),
    [
        ("__URL__", "__URL__"),
        ("https://__HOST__/x", "__HOST__"),
        ("$(SA)", "$(SA)"),
        ("${NAME}-sa", "${NAME}"),
        ("{{ .Values.host }}", None),  # a template source: said by its own context
        ("<your-domain>", "<your-domain>"),
        ("%HOST%", "%HOST%"),
        ("my__name", None),  # no closing pair: a name, not a token
        ("a<b>c", None),  # angle brackets only as the whole value
        ("Bad_Name", None),
        ("100%", None),
    ],
)
def test_what_counts_as_a_placeholder(value: str, token: str | None) -> None:
    assert placeholder_in(value) == token

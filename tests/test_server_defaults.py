"""Fields the API server defaults are not missing (sample6 W-DEFAULTED: kuberay KL903)."""

from __future__ import annotations

import pytest

from klint.checks.server_defaults import with_server_defaults
from tests.conftest import hits, lint_text

BINDING = """\
apiVersion: rbac.authorization.k8s.io/v1
kind: {kind}
metadata: {{name: historyserver, namespace: ray}}
roleRef:
{role_ref}
subjects:
  - {{kind: ServiceAccount, name: historyserver, namespace: ray}}
  - {{kind: User, name: alice}}
"""


def binding(role_ref: str, kind: str = "RoleBinding") -> str:
    return BINDING.format(kind=kind, role_ref=role_ref)


@pytest.mark.parametrize("kind", ["RoleBinding", "ClusterRoleBinding"])
@pytest.mark.parametrize("api_group", ["", "  apiGroup:\n", '  apiGroup: ""\n'])
def test_defaulted_role_ref_api_group_is_not_missing(kind: str, api_group: str) -> None:
    text = binding(f"{api_group}  kind: ClusterRole\n  name: historyserver", kind)
    report = lint_text(text, rules=["KL901", "KL902", "KL903", "KL904", "KL934"])
    assert hits(report) == []


def test_missing_role_ref_name_is_still_reported() -> None:
    report = lint_text(binding("  kind: ClusterRole"), rules=["KL903"])
    assert hits(report) == [(4, 1, "KL903")]
    [finding] = report.active
    assert 'roleRef is missing required field "name"' in finding.message


def test_wrong_role_ref_api_group_is_reported() -> None:
    text = binding("  apiGroup: rbac.authorization.k8s.io/v1\n  kind: ClusterRole\n  name: x")
    report = lint_text(text, rules=["KL903", "KL934"])
    assert hits(report) == [(5, 13, "KL934")]
    [finding] = report.active
    assert 'roleRef.apiGroup must be "rbac.authorization.k8s.io"' in finding.message


def test_defaults_never_change_the_users_object() -> None:
    data = {"roleRef": {"kind": "Role", "name": "r"}}
    defaulted = with_server_defaults("rbac.authorization.k8s.io/v1", "RoleBinding", data)
    assert defaulted["roleRef"]["apiGroup"] == "rbac.authorization.k8s.io"
    assert data == {"roleRef": {"kind": "Role", "name": "r"}}
    # other kinds and versions are left alone
    assert with_server_defaults("v1", "RoleBinding", data) is data
    assert with_server_defaults("rbac.authorization.k8s.io/v1", "Role", data) is data

"""Messages read well for objects without a namespace (a Kustomize base)."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import run_cli

BASE = """\
apiVersion: v1
kind: Pod
metadata: {name: app}
spec:
  serviceAccountName: app
  containers: [{name: app, image: "nginx:1.25.3"}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: app}
rules: [{apiGroups: [""], resources: [pods/exec], verbs: [create]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: app}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: app}
subjects: [{kind: ServiceAccount, name: app}]
"""


def test_kl536_names_no_empty_namespace(tmp_path: Path) -> None:
    (tmp_path / "base.yaml").write_text(BASE)
    result = run_cli("check", "--select", "KL536", "base.yaml", cwd=tmp_path)
    assert "KL536" in result.stdout
    assert 'namespace ""' not in result.stdout
    assert "in the namespace it is applied to" in result.stdout

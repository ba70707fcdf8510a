"""Fields the API server defaults before it validates an object, so they are not missing.

Only defaults with a cited source. The schema rules (KL901–KL906) validate the defaulted
object; the user's object is never changed.

- ``roleRef.apiGroup`` of a RoleBinding or ClusterRoleBinding: ``rbac.authorization.k8s.io``
  when empty (``SetDefaults_RoleBinding`` / ``SetDefaults_ClusterRoleBinding``,
  kubernetes ``pkg/apis/rbac/v1/defaults.go``). The OpenAPI schema lists it as required.

``subjects[].apiGroup`` is defaulted too (``SetDefaults_Subject``: ``rbac.authorization.k8s.io``
for User and Group, ``""`` for ServiceAccount), but the schema does not require it, so the
schema rules never report it missing and it needs no entry here.
"""

from __future__ import annotations

from typing import Any

RBAC_GROUP = "rbac.authorization.k8s.io"
_BINDINGS = frozenset({"RoleBinding", "ClusterRoleBinding"})


def with_server_defaults(api_version: str, kind: str, data: Any) -> Any:
    """``data`` as the API server validates it: a new object when a default applies."""
    if api_version != f"{RBAC_GROUP}/v1" or kind not in _BINDINGS or not isinstance(data, dict):
        return data
    role_ref = data.get("roleRef")
    if isinstance(role_ref, dict) and role_ref.get("apiGroup") in (None, ""):
        return {**data, "roleRef": {**role_ref, "apiGroup": RBAC_GROUP}}
    return data

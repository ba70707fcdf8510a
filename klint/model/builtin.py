"""Objects every cluster has, which a repository holds only as copies of the cluster's own.

Kubernetes creates them itself: the ``kubernetes`` Service and its Endpoints in the
``default`` namespace, a ``default`` ServiceAccount in every namespace, and the bootstrap
RBAC policy (the ``cluster-admin``/``admin``/``edit``/``view`` ClusterRoles, the
``cluster-admin`` ClusterRoleBinding and every ``system:`` role and binding; the
``system:`` prefix is reserved for the control plane). A user did not write these when
the object has such an identity: the names are reserved (RBAC) or the object exists
whether or not the repository declares it (the Service, the default ServiceAccount). Rules
about *where* such an object lives or *what* the bootstrap roles contain skip them; rules
about what a user changes on them (automounting on the default ServiceAccount, a binding
that grants a bootstrap role to someone) still apply. :func:`exported_from_cluster` tells a
dump of a live cluster (``kubectl get -o yaml``) by the metadata only the API server sets.
"""

from __future__ import annotations

from klint.model.resource import Resource

USER_FACING_CLUSTER_ROLES = frozenset({"cluster-admin", "admin", "edit", "view"})
RESERVED_PREFIX = "system:"
SERVER_SET_METADATA = ("uid", "resourceVersion", "creationTimestamp", "selfLink", "managedFields")
BOOTSTRAP_LABEL = ("kubernetes.io/bootstrapping", "rbac-defaults")


def reserved_rbac_name(kind: str, name: str) -> bool:
    """RBAC names that belong to the cluster's bootstrap policy."""
    if name.startswith(RESERVED_PREFIX):
        return True
    if kind == "ClusterRole":
        return name in USER_FACING_CLUSTER_ROLES
    if kind == "ClusterRoleBinding":
        return name == "cluster-admin"
    return False


def exported_from_cluster(resource: Resource) -> bool:
    """The object carries metadata only the API server writes (``kubectl get -o yaml``)."""
    metadata = resource.metadata
    if any(metadata.get(key) not in (None, "", []) for key in SERVER_SET_METADATA):
        return True
    key, value = BOOTSTRAP_LABEL
    return resource.labels.get(key) == value


def cluster_created(resource: Resource) -> bool:
    """A copy of an object the cluster creates itself (see the module docstring)."""
    kind, name, namespace = resource.kind, resource.name, resource.namespace
    if resource.group == "rbac.authorization.k8s.io":
        return reserved_rbac_name(kind, name)
    if resource.group != "" and not (kind == "EndpointSlice" and name == "kubernetes"):
        return False
    if kind in ("Service", "Endpoints", "EndpointSlice") and name == "kubernetes":
        return namespace in ("", "default")
    return kind == "ServiceAccount" and name == "default"

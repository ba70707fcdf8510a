"""What kind of component a workload is, where that changes what a reviewer expects of it.

Two kinds are told from the object itself:

- a **node agent**: a DaemonSet that reaches into its node (a host namespace or a hostPath
  volume), as CNI plugins, CSI node plugins, node-exporter and mesh dataplanes do. Running as
  root, adding capabilities, host paths and no seccomp profile are usually what it is for;
- a **Helm test hook**: a Pod (or Job) annotated ``helm.sh/hook: test`` (or the older
  ``test-success``/``test-failure``), which runs only during ``helm test``.

A rule tagged ``expected-for:<kind>`` reports such an object as a note that says why
(:func:`expectation`); nothing is hidden, and the settings that are dangerous for any
component (privileged, the container runtime socket, cluster-admin) are never tagged.
"""

from __future__ import annotations

from dataclasses import dataclass

from klint.model.resource import Resource, dig
from klint.model.workload import pod_view

TAG_PREFIX = "expected-for:"
HELM_TEST_HOOKS = frozenset({"test", "test-success", "test-failure"})


@dataclass(frozen=True)
class Expectation:
    """A component kind (the tag suffix) and the words that explain it in a message."""

    kind: str
    reason: str


def component_kinds(resource: Resource) -> list[Expectation]:
    """The component kinds the object is (usually none)."""
    kinds = []
    if _is_helm_test(resource):
        kinds.append(Expectation("helm-test", "a Helm test hook, run only by `helm test`"))
    reason = _node_agent_reason(resource)
    if reason:
        kinds.append(Expectation("node-agent", f"a node agent ({reason})"))
    return kinds


def expectation(resource: Resource, tags: tuple[str, ...]) -> Expectation | None:
    """The first component kind of the object that a rule's tags say it expects."""
    wanted = {tag[len(TAG_PREFIX) :] for tag in tags if tag.startswith(TAG_PREFIX)}
    if not wanted:
        return None
    return next((k for k in component_kinds(resource) if k.kind in wanted), None)


def _is_helm_test(resource: Resource) -> bool:
    hooks = resource.annotations.get("helm.sh/hook", "")
    return any(hook.strip() in HELM_TEST_HOOKS for hook in hooks.split(","))


def _node_agent_reason(resource: Resource) -> str:
    if resource.kind != "DaemonSet":
        return ""
    pod = pod_view(resource)
    if pod is None:
        return ""
    for field in ("hostNetwork", "hostPID", "hostIPC"):
        if pod.spec.get(field) is True:
            return f"a DaemonSet with {field}"
    for volume, _ in pod.volumes():
        path = dig(volume, ("hostPath", "path"))
        if volume.get("hostPath") is not None:
            return f"a DaemonSet mounting host path {path}" if path else "a DaemonSet with hostPath"
    return ""

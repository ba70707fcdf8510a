"""A cluster component's effective settings, from every file that can set them.

The API server, controller manager, scheduler, etcd and kubelet are configured by flags,
and platform repositories keep those flags in several shapes. Each source becomes a
:class:`ComponentConfig` — the settings it writes, each with the field path that wrote it —
so a rule names a component and a flag once and works for every source:

- a **static Pod** (or any workload) whose container runs the binary: ``command`` and
  ``args`` items, ``--flag=value`` or ``--flag value``, repeated flags (the last wins);
- **kubeadm** ``ClusterConfiguration`` (``apiServer``, ``controllerManager``,
  ``scheduler``, ``etcd.local``) and ``InitConfiguration``/``JoinConfiguration``
  (``nodeRegistration.kubeletExtraArgs``): ``extraArgs`` as a map (v1beta3) or a list of
  ``{name, value}`` (v1beta4); kubeadm writes some flags itself (:data:`KUBEADM_FLAGS`);
- the same kubeadm configuration embedded in **Cluster API** ``KubeadmControlPlane``,
  ``KubeadmControlPlaneTemplate``, ``KubeadmConfig`` and ``KubeadmConfigTemplate``, and in
  the ``kubeadmConfigPatches`` strings of a **kind** ``Cluster`` (paths go on into the
  string: :meth:`klint.documents.Document.span_of` finds the line inside it);
- a ``KubeletConfiguration`` file (:data:`KUBELET_FIELDS` names each field's flag).

What applies when a flag is not set depends on the source (:class:`Origin`): the binary's
default for a static Pod, kubeadm's flag where kubeadm writes one, the configuration file's
default for a ``KubeletConfiguration`` (and for a kubeadm-managed kubelet).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from klint.findings import FieldPath
from klint.model.resource import Resource, dig
from klint.model.workload import pod_view, workload_paths

COMPONENTS = ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "etcd", "kubelet")

# Configuration files read by a component, never served by the API server (group → kinds;
# an empty set: every kind of the group). Schema rules do not ask a cluster about them.
CONFIG_FILE_GROUPS: dict[str, frozenset[str]] = {
    "kubeadm.k8s.io": frozenset(),
    "kubelet.config.k8s.io": frozenset(),
    "kubeproxy.config.k8s.io": frozenset(),
    "kubescheduler.config.k8s.io": frozenset(),
    "kubecontrollermanager.config.k8s.io": frozenset(),
    "apiserver.config.k8s.io": frozenset(),
    "apiserver.k8s.io": frozenset(),
    "audit.k8s.io": frozenset({"Policy"}),
    "pod-security.admission.config.k8s.io": frozenset(),
    "eventratelimit.admission.k8s.io": frozenset(),
    "kind.x-k8s.io": frozenset({"Cluster"}),
}

_KUBEADM_GROUP = "kubeadm.k8s.io"
_CAPI_BOOTSTRAP = "bootstrap.cluster.x-k8s.io"
_CAPI_CONTROL_PLANE = "controlplane.cluster.x-k8s.io"
# kubeadm ClusterConfiguration block → component it configures.
_CLUSTER_BLOCKS: tuple[tuple[FieldPath, str], ...] = (
    (("apiServer",), "kube-apiserver"),
    (("controllerManager",), "kube-controller-manager"),
    (("scheduler",), "kube-scheduler"),
    (("etcd", "local"), "etcd"),
)

# Flags kubeadm writes into the static Pods it generates (kubeadm v1.2x–v1.3x), so a
# kubeadm configuration that does not override them has these values.
KUBEADM_FLAGS: dict[str, dict[str, str]] = {
    "kube-apiserver": {
        "authorization-mode": "Node,RBAC",
        "enable-admission-plugins": "NodeRestriction",
        "client-ca-file": "/etc/kubernetes/pki/ca.crt",
        "tls-cert-file": "/etc/kubernetes/pki/apiserver.crt",
        "tls-private-key-file": "/etc/kubernetes/pki/apiserver.key",
        "kubelet-client-certificate": "/etc/kubernetes/pki/apiserver-kubelet-client.crt",
        "kubelet-client-key": "/etc/kubernetes/pki/apiserver-kubelet-client.key",
        "etcd-cafile": "/etc/kubernetes/pki/etcd/ca.crt",
        "etcd-certfile": "/etc/kubernetes/pki/apiserver-etcd-client.crt",
        "etcd-keyfile": "/etc/kubernetes/pki/apiserver-etcd-client.key",
        "service-account-key-file": "/etc/kubernetes/pki/sa.pub",
        "service-account-signing-key-file": "/etc/kubernetes/pki/sa.key",
        "secure-port": "6443",
        "allow-privileged": "true",
    },
    "kube-controller-manager": {
        "bind-address": "127.0.0.1",
        "use-service-account-credentials": "true",
        "root-ca-file": "/etc/kubernetes/pki/ca.crt",
        "service-account-private-key-file": "/etc/kubernetes/pki/sa.key",
        "client-ca-file": "/etc/kubernetes/pki/ca.crt",
    },
    "kube-scheduler": {"bind-address": "127.0.0.1"},
    "etcd": {
        "client-cert-auth": "true",
        "peer-client-cert-auth": "true",
        "cert-file": "/etc/kubernetes/pki/etcd/server.crt",
        "key-file": "/etc/kubernetes/pki/etcd/server.key",
        "trusted-ca-file": "/etc/kubernetes/pki/etcd/ca.crt",
        "peer-cert-file": "/etc/kubernetes/pki/etcd/peer.crt",
        "peer-key-file": "/etc/kubernetes/pki/etcd/peer.key",
        "peer-trusted-ca-file": "/etc/kubernetes/pki/etcd/ca.crt",
    },
    # kubeadm hands the kubelet a KubeletConfiguration (Origin.CONFIG defaults) and these.
    "kubelet": {"client-ca-file": "/etc/kubernetes/pki/ca.crt", "rotate-certificates": "true"},
}

# KubeletConfiguration field → the flag it stands for.
KUBELET_FIELDS: dict[FieldPath, str] = {
    ("authentication", "anonymous", "enabled"): "anonymous-auth",
    ("authentication", "webhook", "enabled"): "authentication-token-webhook",
    ("authentication", "x509", "clientCAFile"): "client-ca-file",
    ("authorization", "mode"): "authorization-mode",
    ("readOnlyPort",): "read-only-port",
    ("protectKernelDefaults",): "protect-kernel-defaults",
    ("makeIPTablesUtilChains",): "make-iptables-util-chains",
    ("streamingConnectionIdleTimeout",): "streaming-connection-idle-timeout",
    ("tlsCertFile",): "tls-cert-file",
    ("tlsPrivateKeyFile",): "tls-private-key-file",
    ("tlsCipherSuites",): "tls-cipher-suites",
    ("rotateCertificates",): "rotate-certificates",
    ("serverTLSBootstrap",): "rotate-server-certificates",
    ("featureGates",): "feature-gates",
    ("eventRecordQPS",): "event-qps",
    ("seccompDefault",): "seccomp-default",
}


class Origin(Enum):
    """Where the settings come from, which decides what an unset flag means."""

    FLAGS = "flags"  # the binary's own defaults
    KUBEADM = "kubeadm"  # kubeadm's flags, else the binary's defaults
    CONFIG = "config"  # a configuration file's defaults (KubeletConfiguration)


@dataclass(frozen=True)
class Setting:
    """One flag as a source sets it, and the field path that sets it."""

    name: str
    value: str | None  # None: a flag written without a value
    path: FieldPath
    label: str = ""  # how messages name it; "" for a flag: ``--name``

    @property
    def shown(self) -> str:
        return self.label or f"--{self.name}"


@dataclass(frozen=True)
class ComponentConfig:
    """The settings one source gives one component."""

    component: str
    origin: Origin
    anchor: FieldPath  # where a missing setting is reported
    source: str  # how messages name the source: 'container "kube-apiserver"'
    settings: tuple[Setting, ...] = ()
    kubeadm: bool = False  # written through kubeadm, which sets flags of its own
    patch: bool = False  # a patch (kind): it says what it changes, not what it leaves
    _by_name: dict[str, Setting] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        for setting in self.settings:  # a repeated flag: the last one wins
            self._by_name[setting.name] = setting

    def get(self, name: str) -> Setting | None:
        """The setting of flag ``name`` (without dashes), or None when unset."""
        return self._by_name.get(name)

    def implicit(self, name: str) -> str | None:
        """The value a tool sets when this source does not (kubeadm's own flags)."""
        return KUBEADM_FLAGS.get(self.component, {}).get(name) if self.kubeadm else None


def is_config_file_kind(resource: Resource) -> bool:
    """Whether the object is a component's configuration file, not an API object."""
    kinds = CONFIG_FILE_GROUPS.get(resource.group)
    return kinds is not None and (not kinds or resource.kind in kinds)


_RELEVANT_KINDS = frozenset(
    {
        "ClusterConfiguration",
        "InitConfiguration",
        "JoinConfiguration",
        "KubeletConfiguration",
        "KubeadmControlPlane",
        "KubeadmControlPlaneTemplate",
        "KubeadmConfig",
        "KubeadmConfigTemplate",
        "Cluster",
    }
)


def component_configs(resource: Resource) -> list[ComponentConfig]:
    """Every component configuration the object holds (most objects: none)."""
    kind = resource.kind
    if kind not in _RELEVANT_KINDS:
        if workload_paths(resource) is None:
            return []
        return list(_workload_configs(resource))
    group = resource.group
    if group == _KUBEADM_GROUP:
        return list(_kubeadm_document(resource.data, (), kind, "kubeadm"))
    if group == "kubelet.config.k8s.io" and kind == "KubeletConfiguration":
        return [_kubelet_config(resource.data, (), "KubeletConfiguration", kubeadm=False)]
    if group in (_CAPI_CONTROL_PLANE, _CAPI_BOOTSTRAP):
        return list(_cluster_api(resource, kind))
    if group == "kind.x-k8s.io" and kind == "Cluster":
        return list(_kind_cluster(resource))
    return []


# ---- static Pods and other workloads ------------------------------------------------------


def _workload_configs(resource: Resource) -> Iterator[ComponentConfig]:
    pod = pod_view(resource)
    if pod is None:
        return
    for list_name in ("containers", "initContainers"):
        entries = pod.spec.get(list_name)
        for index, container in enumerate(entries if isinstance(entries, list) else ()):
            if not isinstance(container, dict) or not _runs_component(container):
                continue  # the common case, kept cheap: no path or view is built
            path = (*pod.path, list_name, index)
            items: list[tuple[str, FieldPath]] = []
            for key in ("command", "args"):
                values = container.get(key)
                if isinstance(values, list):
                    items.extend(
                        (item, (*path, key, number))
                        for number, item in enumerate(values)
                        if isinstance(item, str)
                    )
            found = _binary(items)
            if found is None:
                continue
            component, words = found
            anchor_key = "command" if isinstance(container.get("command"), list) else "args"
            label = f"{'init container' if list_name == 'initContainers' else 'container'} "
            label += f'"{container.get("name", index)}"'
            yield ComponentConfig(
                component, Origin.FLAGS, (*path, anchor_key), label, tuple(_parse_flags(words))
            )


def _runs_component(container: dict[str, Any]) -> bool:
    """Cheap test: does the container's first word (command, else args), or a word after a
    ``--`` separator, name a component binary?"""
    for key in ("command", "args"):
        values = container.get(key)
        if isinstance(values, list) and values:
            return _start(values) is not None
    return False


def _start(words: list[Any]) -> int | None:
    """Where the component's own words begin: its binary first (``kube-apiserver``,
    ``/usr/local/bin/etcd``), or after ``--`` behind a wrapper (``go-runner ... --``)."""
    if _names_component(words[0]):
        return 0
    if "--" in words:
        after = words.index("--") + 1
        if after < len(words) and _names_component(words[after]):
            return after
    return None


def _names_component(word: Any) -> bool:
    """``kube-apiserver`` or ``/usr/local/bin/kube-apiserver``; never a flag such as
    ``--kubelet-service=kube-system/kubelet``."""
    return (
        isinstance(word, str) and not word.startswith("-") and word.rsplit("/", 1)[-1] in COMPONENTS
    )


def _binary(items: list[tuple[str, FieldPath]]) -> tuple[str, list[tuple[str, FieldPath]]] | None:
    """The component a container runs and the words that configure it."""
    start = _start([text for text, _ in items]) if items else None
    if start is None:
        return None
    return items[start][0].rsplit("/", 1)[-1], items[start + 1 :]


def _parse_flags(items: list[tuple[str, FieldPath]]) -> Iterator[Setting]:
    """``--flag=value``, ``--flag value`` (the next item, unless it is a flag), ``--flag``."""
    index = 0
    while index < len(items):
        text, path = items[index]
        index += 1
        if not text.startswith("-") or text in ("-", "--"):
            continue
        name, equals, value = text.lstrip("-").partition("=")
        if equals:
            yield Setting(name, value, path)
        elif index < len(items) and not items[index][0].startswith("-"):
            yield Setting(name, items[index][0], path)
            index += 1
        else:
            yield Setting(name, None, path)


# ---- kubeadm, Cluster API and kind ---------------------------------------------------------


def _kubeadm_document(
    data: Any, base: FieldPath, kind: str, source: str, *, patch: bool = False
) -> Iterator[ComponentConfig]:
    """The components a kubeadm document (or its Cluster API embedding) configures; a
    ``patch`` (kind) configures only the blocks it names."""
    if not isinstance(data, dict):
        return
    if kind == "ClusterConfiguration":
        for block, component in _CLUSTER_BLOCKS:
            if component == "etcd" and dig(data, ("etcd", "external")) is not None:
                continue
            if patch and dig(data, block) is None:
                continue
            yield _extra_args(data, base, block, "extraArgs", component, source, patch)
    elif kind in ("InitConfiguration", "JoinConfiguration"):
        registration = ("nodeRegistration",)
        yield _extra_args(data, base, registration, "kubeletExtraArgs", "kubelet", source, patch)
    elif kind == "KubeletConfiguration":
        yield _kubelet_config(
            data, base, f"{source} KubeletConfiguration", kubeadm=True, patch=patch
        )


def _extra_args(
    data: dict[str, Any],
    base: FieldPath,
    block: FieldPath,
    key: str,
    component: str,
    source: str,
    patch: bool,
) -> ComponentConfig:
    """Settings of an ``extraArgs`` map (v1beta3) or list of ``{name, value}`` (v1beta4)."""
    args = dig(data, (*block, key))
    settings: list[Setting] = []
    if isinstance(args, dict):
        settings = [
            Setting(str(name), _text(value), (*base, *block, key, str(name)))
            for name, value in args.items()
        ]
    elif isinstance(args, list):
        for index, item in enumerate(args):
            if isinstance(item, dict) and item.get("name") is not None:
                value = _text(item.get("value"))
                settings.append(Setting(str(item["name"]), value, (*base, *block, key, index)))
    if args is not None:
        anchor: FieldPath = (*base, *block, key)
    else:
        anchor = _deepest(data, base, block)
    origin = Origin.CONFIG if component == "kubelet" else Origin.KUBEADM
    where = f"{source} {'/'.join(str(p) for p in (*block, key))}"
    return ComponentConfig(
        component, origin, anchor, where, tuple(settings), kubeadm=True, patch=patch
    )


def _deepest(data: dict[str, Any], base: FieldPath, block: FieldPath) -> FieldPath:
    """The deepest existing part of ``block`` (where a missing setting belongs)."""
    path: FieldPath = base
    value: Any = data
    for part in block:
        if not isinstance(value, dict) or not isinstance(value.get(part), dict):
            break
        value, path = value[part], (*path, part)
    return path if path != base else (*base, "kind")


def _kubelet_config(
    data: Any, base: FieldPath, source: str, *, kubeadm: bool, patch: bool = False
) -> ComponentConfig:
    settings = []
    data = data if isinstance(data, dict) else {}
    for fields, flag in KUBELET_FIELDS.items():
        value = dig(data, fields)
        if value is None:
            continue
        if isinstance(value, list):
            text = ",".join(_text(item) or "" for item in value)
        elif isinstance(value, dict):
            text = ",".join(f"{k}={_text(v)}" for k, v in value.items())
        else:
            text = _text(value) or ""
        settings.append(Setting(flag, text, (*base, *fields), ".".join(map(str, fields))))
    anchor = (*base, "kind") if "kind" in data else base
    return ComponentConfig(
        "kubelet", Origin.CONFIG, anchor, source, tuple(settings), kubeadm, patch
    )


# Where Cluster API kinds embed kubeadm configuration.
_CAPI_SPECS: dict[str, FieldPath] = {
    "KubeadmControlPlane": ("spec", "kubeadmConfigSpec"),
    "KubeadmControlPlaneTemplate": ("spec", "template", "spec", "kubeadmConfigSpec"),
    "KubeadmConfig": ("spec",),
    "KubeadmConfigTemplate": ("spec", "template", "spec"),
}
_CAPI_FIELDS = (
    ("clusterConfiguration", "ClusterConfiguration"),
    ("initConfiguration", "InitConfiguration"),
    ("joinConfiguration", "JoinConfiguration"),
)


def _cluster_api(resource: Resource, kind: str) -> Iterator[ComponentConfig]:
    spec_path = _CAPI_SPECS.get(kind)
    if spec_path is None:
        return
    spec = dig(resource.data, spec_path)
    if not isinstance(spec, dict):
        return
    for key, embedded in _CAPI_FIELDS:
        value = spec.get(key)
        if embedded == "ClusterConfiguration" and kind == "KubeadmControlPlane" and value is None:
            value = {}  # a control plane always runs an API server, even with no settings
        if isinstance(value, dict):
            base = (*spec_path, key) if key in spec else spec_path
            yield from _kubeadm_document(value, base, embedded, f"{kind} {key}")


def _kind_cluster(resource: Resource) -> Iterator[ComponentConfig]:
    """kubeadm documents inside a kind Cluster's ``kubeadmConfigPatches`` strings."""
    from klint.documents import parse_stream

    places: list[tuple[Any, FieldPath]] = [(resource.data.get("kubeadmConfigPatches"), ())]
    nodes = resource.data.get("nodes")
    if isinstance(nodes, list):
        places.extend(
            (node.get("kubeadmConfigPatches"), ("nodes", index))
            for index, node in enumerate(nodes)
            if isinstance(node, dict)
        )
    for patches, prefix in places:
        if not isinstance(patches, list):
            continue
        for index, patch in enumerate(patches):
            if not isinstance(patch, str):
                continue
            parsed = parse_stream(patch, resource.document.path)
            if len(parsed.documents) != 1 or not isinstance(parsed.documents[0].data, dict):
                continue
            data = parsed.documents[0].data
            kind = _text(data.get("kind")) or ""
            base = (*prefix, "kubeadmConfigPatches", index)
            yield from _kubeadm_document(data, base, kind, "kind kubeadmConfigPatches", patch=True)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)

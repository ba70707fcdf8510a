"""Pod Security Standards: every control, line-exact, under the pss-baseline and pss-restricted
profiles (and the default profile), for every workload kind, multi-document streams and Lists.

A case is a pod spec (at column 0) whose offending lines carry ``# pss: B / R``: the rule ids
``--profile pss-baseline`` must report on that line, then those ``--profile pss-restricted``
must report (``-`` for none). Lines without a marker must produce nothing. The case is wrapped
into each workload kind, so the same markers check every pod template location.
"""

from __future__ import annotations

import functools
import json
import re
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

from klint.catalog import Rule, load_catalog
from klint.documents import Limits
from klint.engine import bind_rules, lint
from klint.findings import Report, Severity
from klint.selection import select_rules
from klint.sources.base import LoadSettings
from klint.sources.manifests import StdinBuffer
from tests.conftest import run_cli

BASELINE_CONTROLS = {
    "KL101": "privileged",
    "KL102": "hostNamespaces",
    "KL103": "hostNamespaces",
    "KL104": "hostNamespaces",
    "KL105": "hostPathVolumes",
    "KL106": "hostPorts",
    "KL107": "capabilities_baseline",
    "KL108": "hostProbesAndHostLifecycle",
    "KL109": "appArmorProfile",
    "KL110": "seLinuxOptions",
    "KL111": "procMount",
    "KL112": "seccompProfile_baseline",
    "KL113": "sysctls",
    "KL114": "windowsHostProcess",
}
RESTRICTED_CONTROLS = {
    "KL201": "allowPrivilegeEscalation",
    "KL202": "runAsNonRoot",
    "KL203": "runAsUser",
    "KL204": "restrictedVolumes",
    "KL205": "seccompProfile_restricted",
    "KL206": "capabilities_restricted",
    "KL207": "procMount_restricted",
}
PSS_RULES = {**BASELINE_CONTROLS, **RESTRICTED_CONTROLS}


@functools.cache
def _catalog() -> tuple[Rule, ...]:
    return tuple(load_catalog())


def run(text: str, profile: str) -> Report:
    """Lint ``text`` in-process with one profile."""
    selected = select_rules(_catalog(), [profile])
    unit = StdinBuffer(text.encode(), "test.yaml")
    return lint([unit], bind_rules(selected), LoadSettings(limits=Limits()), (1, 35))


def found(report: Report) -> set[tuple[int, str]]:
    return {(f.location.span.start_line, f.rule_id) for f in report.active}


_MARK = re.compile(r"#\s*pss:\s*(.+?)\s*/\s*(.+?)\s*$")


def expected(text: str) -> tuple[set[tuple[int, str]], set[tuple[int, str]]]:
    """(baseline, restricted) expectations from the ``# pss: B / R`` markers."""
    baseline: set[tuple[int, str]] = set()
    restricted: set[tuple[int, str]] = set()
    for number, line in enumerate(text.splitlines(), start=1):
        match = _MARK.search(line)
        if match is None:
            continue
        for side, target in ((match.group(1), baseline), (match.group(2), restricted)):
            for rule in side.split(","):
                if rule.strip() not in ("", "-"):
                    target.add((number, rule.strip()))
    return baseline, restricted


# ---------------------------------------------------------------------------------------------
# Wrapping a pod spec into each workload kind

_TEMPLATES = {
    "Pod": ("apiVersion: v1\nkind: Pod\nmetadata:\n  name: subject\n{ann2}spec:\n{spec2}"),
    "Deployment": (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: subject\nspec:\n"
        "  selector: {{matchLabels: {{app: subject}}}}\n  template:\n    metadata:\n"
        "      labels: {{app: subject}}\n{ann6}    spec:\n{spec6}"
    ),
    "StatefulSet": (
        "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: subject\nspec:\n"
        "  serviceName: subject\n  selector: {{matchLabels: {{app: subject}}}}\n  template:\n"
        "    metadata:\n      labels: {{app: subject}}\n{ann6}    spec:\n{spec6}"
    ),
    "DaemonSet": (
        "apiVersion: apps/v1\nkind: DaemonSet\nmetadata:\n  name: subject\nspec:\n"
        "  selector: {{matchLabels: {{app: subject}}}}\n  template:\n    metadata:\n"
        "      labels: {{app: subject}}\n{ann6}    spec:\n{spec6}"
    ),
    "ReplicaSet": (
        "apiVersion: apps/v1\nkind: ReplicaSet\nmetadata:\n  name: subject\nspec:\n"
        "  selector: {{matchLabels: {{app: subject}}}}\n  template:\n    metadata:\n"
        "      labels: {{app: subject}}\n{ann6}    spec:\n{spec6}"
    ),
    "ReplicationController": (
        "apiVersion: v1\nkind: ReplicationController\nmetadata:\n  name: subject\nspec:\n"
        "  selector: {{app: subject}}\n  template:\n    metadata:\n"
        "      labels: {{app: subject}}\n{ann6}    spec:\n{spec6}"
    ),
    "Job": (
        "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: subject\nspec:\n  template:\n"
        "    metadata:\n      labels: {{app: subject}}\n{ann6}    spec:\n{spec6}"
    ),
    "CronJob": (
        "apiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: subject\nspec:\n"
        '  schedule: "@daily"\n  jobTemplate:\n    spec:\n      template:\n        metadata:\n'
        "          labels: {{app: subject}}\n{ann10}        spec:\n{spec10}"
    ),
    "PodTemplate": (
        "apiVersion: v1\nkind: PodTemplate\nmetadata:\n  name: subject\ntemplate:\n"
        "  metadata:\n    labels: {{app: subject}}\n{ann4}  spec:\n{spec4}"
    ),
}
KINDS = tuple(_TEMPLATES)


def wrap(kind: str, spec: str, annotations: str = "") -> str:
    """A manifest of ``kind`` whose pod template has ``spec`` and ``annotations``."""
    spec = textwrap.dedent(spec).strip("\n") + "\n"
    annotations = textwrap.dedent(annotations).strip("\n")
    fields: dict[str, str] = {}
    for width in (2, 4, 6, 10):
        pad = " " * width
        fields[f"spec{width}"] = textwrap.indent(spec, pad)
        ann = f"annotations:\n{textwrap.indent(annotations, '  ')}\n" if annotations else ""
        fields[f"ann{width}"] = textwrap.indent(ann, pad)
    return _TEMPLATES[kind].format(**fields)


def as_list(manifests: list[str]) -> str:
    """A ``kind: List`` holding the manifests as items."""
    lines = ["apiVersion: v1", "kind: List", "items:"]
    for manifest in manifests:
        for index, line in enumerate(manifest.rstrip("\n").splitlines()):
            lines.append(("  - " if index == 0 else "    ") + line)
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------
# The cases

POD_SC = """\
securityContext:
  runAsNonRoot: true
  seccompProfile: {type: RuntimeDefault}
"""
SAFE_SC = "securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}"
SAFE = f'- {{name: app, image: "nginx:1.27", {SAFE_SC}}}'


@dataclass(frozen=True)
class Case:
    name: str
    spec: str
    annotations: str = ""

    def text(self, kind: str = "Pod") -> str:
        return wrap(kind, self.spec, self.annotations)


def restricted_pod(containers: str, *, extra: str = "", pod_sc: str = POD_SC) -> str:
    """A restricted-compliant pod spec around ``containers`` (YAML of the list items)."""
    items = textwrap.dedent(containers).strip("\n") + "\n"
    return f"{extra}{pod_sc}containers:\n{textwrap.indent(items, '  ')}"


def container_sc(lines: str, name: str = "app") -> str:
    """A block-style container: safe securityContext settings plus ``lines`` in it."""
    lines = textwrap.dedent(lines).strip("\n")
    base = ["allowPrivilegeEscalation: false"]
    if "capabilities" not in lines:
        base.append("capabilities: {drop: [ALL]}")
    body = textwrap.indent("\n".join([*base, lines]), "    ")
    return f"- name: {name}\n  image: nginx:1.27\n  securityContext:\n{body}\n"


def sc_case(name: str, lines: str, *, extra: str = "", pod_sc: str = POD_SC) -> Case:
    """A restricted-compliant pod whose container's securityContext adds ``lines``."""
    return Case(name, restricted_pod(container_sc(lines), extra=extra, pod_sc=pod_sc))


CASES: list[Case] = [
    Case("clean", restricted_pod(SAFE)),
    Case(
        "plain-pod-fails-restricted-only",
        "containers:\n  - {name: app, image: nginx} # pss: - / KL201,KL202,KL205,KL206\n",
    ),
    # privileged
    sc_case("privileged", "privileged: true # pss: KL101 / KL101"),
    sc_case("privileged-yaml11-yes", "privileged: yes # pss: KL101 / KL101"),
    sc_case("privileged-false", "privileged: false"),
    Case(
        "privileged-init-and-ephemeral",
        restricted_pod(SAFE)
        + "initContainers:\n"
        + "  - {name: init, image: busybox, securityContext: {privileged: true, allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}} # pss: KL101 / KL101\n"  # noqa: E501
        + "ephemeralContainers:\n"
        + "  - {name: dbg, image: busybox, securityContext: {privileged: true, allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}} # pss: KL101 / KL101\n",  # noqa: E501
    ),
    # host namespaces
    Case("host-network", restricted_pod(SAFE, extra="hostNetwork: true # pss: KL102 / KL102\n")),
    Case("host-pid", restricted_pod(SAFE, extra="hostPID: true # pss: KL103 / KL103\n")),
    Case("host-ipc", restricted_pod(SAFE, extra="hostIPC: on # pss: KL104 / KL104\n")),
    Case(
        "host-namespaces-false-and-unrelated",
        restricted_pod(
            SAFE,
            extra="hostNetwork: false\nhostPID: null\nhostIPC: false\nhostUsers: true\n"
            "shareProcessNamespace: true\n",
        ),
    ),
    # host ports
    Case(
        "host-port",
        restricted_pod(
            f"""\
            - name: app
              image: nginx:1.27
              {SAFE_SC}
              ports:
                - {{containerPort: 80, hostPort: 8080}} # pss: KL106 / KL106
                - {{containerPort: 81, hostPort: 0}}
                - {{containerPort: 82}}
            """
        ),
    ),
    # seccomp
    Case(
        "seccomp-pod-unconfined-containers-override",
        restricted_pod(
            container_sc("seccompProfile: {type: RuntimeDefault}"),
            pod_sc="securityContext:\n  runAsNonRoot: true\n"
            "  seccompProfile: {type: Unconfined} # pss: KL112 / KL112\n",
        ),
    ),
    sc_case(
        "seccomp-container-unconfined", "seccompProfile: {type: Unconfined} # pss: KL112 / KL112"
    ),
    sc_case("seccomp-empty-object", "seccompProfile: {} # pss: KL112 / KL112"),
    sc_case("seccomp-lower-case", "seccompProfile: {type: runtimedefault} # pss: KL112 / KL112"),
    sc_case("seccomp-localhost", "seccompProfile: {type: Localhost, localhostProfile: p.json}"),
    Case(
        "seccomp-unset-everywhere",
        "securityContext: {runAsNonRoot: true}\ncontainers:\n"
        f"  - name: app\n    image: nginx\n    {SAFE_SC} # pss: - / KL205\n"
        "initContainers:\n  - name: init # pss: - / KL201,KL205,KL206\n    image: busybox\n",
    ),
    Case(
        "seccomp-pod-unset-containers-set",
        "securityContext: {runAsNonRoot: true}\ncontainers:\n"
        "  - name: app\n    image: nginx\n    securityContext:\n"
        "      allowPrivilegeEscalation: false\n      capabilities: {drop: [ALL]}\n"
        "      seccompProfile: {type: RuntimeDefault}\n",
    ),
    Case(
        "seccomp-pod-null-is-unset",
        "securityContext: {runAsNonRoot: true, seccompProfile: null}\ncontainers:\n"
        f"  - name: app\n    image: nginx\n    {SAFE_SC} # pss: - / KL205\n",
    ),
    Case(
        "seccomp-pod-invalid-container-unset",
        "securityContext:\n  runAsNonRoot: true\n"
        "  seccompProfile: {type: Unconfined} # pss: KL112 / KL112\ncontainers:\n"
        f"  - name: app\n    image: nginx\n    {SAFE_SC} # pss: - / KL205\n",
    ),
    Case(
        "seccomp-legacy-annotations-ignored",
        "securityContext: {runAsNonRoot: true}\ncontainers:\n"
        f"  - name: app\n    image: nginx\n    {SAFE_SC} # pss: - / KL205\n",
        annotations="seccomp.security.alpha.kubernetes.io/pod: unconfined\n"
        "container.seccomp.security.alpha.kubernetes.io/app: runtime/default\n",
    ),
    # procMount
    sc_case("proc-mount-unmasked", "procMount: Unmasked # pss: KL111 / KL111"),
    sc_case("proc-mount-default", "procMount: Default"),
    sc_case("proc-mount-lower-case", "procMount: default # pss: KL111 / KL111"),
    sc_case(
        "proc-mount-user-namespace",
        "procMount: Unmasked # pss: - / KL207",
        extra="hostUsers: false\n",
    ),
    sc_case(
        "proc-mount-host-users-true",
        "procMount: Unmasked # pss: KL111 / KL111",
        extra="hostUsers: true\n",
    ),
    # AppArmor
    sc_case(
        "apparmor-container-unconfined", "appArmorProfile: {type: Unconfined} # pss: KL109 / KL109"
    ),
    sc_case("apparmor-container-empty", "appArmorProfile: {} # pss: KL109 / KL109"),
    sc_case(
        "apparmor-container-lower", "appArmorProfile: {type: runtimedefault} # pss: KL109 / KL109"
    ),
    sc_case("apparmor-container-null", "appArmorProfile: null"),
    sc_case(
        "apparmor-localhost",
        "appArmorProfile: {type: Localhost, localhostProfile: k8s-nginx}",
    ),
    Case(
        "apparmor-pod-unconfined",
        restricted_pod(
            SAFE,
            pod_sc=POD_SC + "  appArmorProfile:\n    type: Unconfined # pss: KL109 / KL109\n",
        ),
    ),
    Case(
        "apparmor-pod-runtime-default",
        restricted_pod(SAFE, pod_sc=POD_SC + "  appArmorProfile: {type: RuntimeDefault}\n"),
    ),
    Case(
        "apparmor-annotations-allowed",
        restricted_pod(SAFE),
        annotations="container.apparmor.security.beta.kubernetes.io/app: runtime/default\n"
        "container.apparmor.security.beta.kubernetes.io/other: localhost/k8s-nginx\n"
        'container.apparmor.security.beta.kubernetes.io/empty: ""\n'
        "apparmor.security.beta.kubernetes.io/unrelated: unconfined\n",
    ),
    Case(
        "apparmor-annotations-forbidden",
        restricted_pod(SAFE),
        annotations="container.apparmor.security.beta.kubernetes.io/app: unconfined"
        " # pss: KL109 / KL109\n"
        "container.apparmor.security.beta.kubernetes.io/ghost: docker/default"
        " # pss: KL109 / KL109\n"
        "container.apparmor.security.beta.kubernetes.io/x: Runtime/Default"
        " # pss: KL109 / KL109\n",
    ),
    # SELinux
    *[
        sc_case(f"selinux-type-{kind}", f"seLinuxOptions: {{type: {kind}}}")
        for kind in ("container_t", "container_init_t", "container_kvm_t", "container_engine_t")
    ],
    sc_case("selinux-type-empty", 'seLinuxOptions: {type: ""}'),
    sc_case("selinux-level-only", 'seLinuxOptions: {level: "s0:c1,c2"}'),
    sc_case(
        "selinux-type-spc",
        "seLinuxOptions:\n  type: spc_t # pss: KL110 / KL110\n  level: s0",
    ),
    sc_case("selinux-type-case", "seLinuxOptions: {type: Container_t} # pss: KL110 / KL110"),
    sc_case(
        "selinux-user-role",
        "seLinuxOptions:\n  user: system_u # pss: KL110 / KL110\n"
        "  role: system_r # pss: KL110 / KL110",
    ),
    Case(
        "selinux-pod-level",
        restricted_pod(
            SAFE,
            pod_sc=POD_SC + "  seLinuxOptions:\n    type: unconfined_t # pss: KL110 / KL110\n",
        ),
    ),
    # Windows HostProcess
    Case(
        "host-process-pod-and-container",
        "os: {name: windows}\nsecurityContext:\n  runAsNonRoot: true\n  windowsOptions:\n"
        "    hostProcess: true # pss: KL114 / KL114\ncontainers:\n  - name: app\n"
        "    image: nanoserver\n    securityContext:\n      windowsOptions:\n"
        "        hostProcess: true # pss: KL114 / KL114\n",
    ),
    Case(
        "host-process-false",
        "os: {name: windows}\nsecurityContext:\n  runAsNonRoot: true\n"
        "  windowsOptions: {hostProcess: false}\ncontainers:\n  - name: app\n"
        "    image: nanoserver\n    securityContext: {windowsOptions: {hostProcess: false}}\n",
    ),
    Case(
        "host-process-linux-pod",
        restricted_pod(container_sc("windowsOptions: {hostProcess: true} # pss: KL114 / KL114")),
    ),
    # host probes and lifecycle
    Case(
        "host-probes",
        restricted_pod(
            f"""\
            - name: app
              image: nginx:1.27
              {SAFE_SC}
              livenessProbe:
                httpGet: {{port: 80, host: 10.0.0.1}} # pss: KL108 / KL108
              readinessProbe:
                tcpSocket: {{port: 80, host: localhost}} # pss: KL108 / KL108
              startupProbe:
                httpGet:
                  port: 80
                  host: metadata.google.internal # pss: KL108 / KL108
              lifecycle:
                postStart:
                  httpGet: {{port: 80, host: example.com}} # pss: KL108 / KL108
                preStop:
                  tcpSocket: {{port: 80, host: example.com}} # pss: KL108 / KL108
            """
        ),
    ),
    Case(
        "host-probes-allowed",
        restricted_pod(
            f"""\
            - name: app
              image: nginx:1.27
              {SAFE_SC}
              livenessProbe:
                httpGet:
                  port: 80
                  host: ""
                  httpHeaders: [{{name: Host, value: example.com}}]
              readinessProbe:
                grpc: {{port: 9090}}
              startupProbe:
                exec: {{command: [true]}}
              lifecycle:
                preStop:
                  sleep: {{seconds: 5}}
            """
        ),
    ),
    Case(
        "host-probes-init-container",
        restricted_pod(SAFE)
        + "initContainers:\n  - name: init\n    image: busybox\n    restartPolicy: Always\n"
        f"    {SAFE_SC}\n    startupProbe:\n"
        "      tcpSocket: {port: 80, host: 127.0.0.1} # pss: KL108 / KL108\n",
    ),
    # sysctls
    Case(
        "sysctls-forbidden",
        restricted_pod(
            SAFE,
            pod_sc=POD_SC + "  sysctls:\n"
            '    - {name: kernel.msgmax, value: "1"} # pss: KL113 / KL113\n'
            '    - {name: net.core.somaxconn, value: "1"} # pss: KL113 / KL113\n'
            '    - {name: net/ipv4/tcp_syncookies, value: "1"} # pss: KL113 / KL113\n'
            '    - {name: NET.IPV4.TCP_SYNCOOKIES, value: "1"} # pss: KL113 / KL113\n'
            '    - {name: net.ipv4.ip_forward, value: "1"} # pss: KL113 / KL113\n'
            '    - {name: vm.swappiness, value: "1"} # pss: KL113 / KL113\n'
            '    - {name: net.ipv6.conf.all.forwarding, value: "1"} # pss: KL113 / KL113\n'
            '    - {name: net.ipv4.tcp_rmem, value: "4096 87380 6291456"}\n',
        ),
    ),
    # capabilities
    *[
        sc_case(
            f"cap-baseline-allowed-{cap}",
            f"capabilities: {{drop: [ALL], add: [{cap}]}}"
            + ("" if cap == "NET_BIND_SERVICE" else " # pss: - / KL206"),
        )
        for cap in (
            "AUDIT_WRITE",
            "CHOWN",
            "DAC_OVERRIDE",
            "FOWNER",
            "FSETID",
            "KILL",
            "MKNOD",
            "NET_BIND_SERVICE",
            "SETFCAP",
            "SETGID",
            "SETPCAP",
            "SETUID",
            "SYS_CHROOT",
        )
    ],
    *[
        sc_case(
            f"cap-forbidden-{cap}",
            f"capabilities:\n  drop: [ALL]\n  add:\n    - {cap} # pss: KL107 / KL107",
        )
        for cap in (
            "SYS_ADMIN",
            "NET_RAW",
            "NET_ADMIN",
            "SYS_PTRACE",
            "chown",
            "CAP_CHOWN",
            "ALL",
            "net_bind_service",
            "CAP_NET_BIND_SERVICE",
            "BPF",
        )
    ],
    sc_case("cap-drop-all-and-more", "capabilities: {drop: [NET_RAW, ALL, SYS_ADMIN]}"),
    Case(
        "cap-missing-security-context",
        restricted_pod("- name: app # pss: - / KL201,KL206\n  image: nginx\n"),
    ),
    Case(
        "cap-empty-capabilities",
        restricted_pod(
            "- name: app\n  image: nginx\n  securityContext:\n"
            "    allowPrivilegeEscalation: false\n    capabilities: {} # pss: - / KL206\n"
        ),
    ),
    Case(
        "cap-drop-lower-all",
        restricted_pod(
            "- name: app\n  image: nginx\n  securityContext:\n"
            "    allowPrivilegeEscalation: false\n    capabilities:\n"
            "      drop: [all] # pss: - / KL206\n"
        ),
    ),
    Case(
        "cap-add-without-drop",
        restricted_pod(
            "- name: app\n  image: nginx\n  securityContext:\n"
            "    allowPrivilegeEscalation: false\n    capabilities: # pss: - / KL206\n"
            "      add: [NET_BIND_SERVICE, SYS_TIME] # pss: KL107 / KL107\n"
        ),
    ),
    # volumes
    Case(
        "volumes-allowed",
        restricted_pod(SAFE) + "volumes:\n"
        "  - {name: a, configMap: {name: c}}\n"
        "  - {name: b, csi: {driver: secrets-store.csi.k8s.io}}\n"
        "  - {name: c, downwardAPI: {items: []}}\n"
        "  - {name: d, emptyDir: {}}\n"
        "  - name: e\n    ephemeral:\n      volumeClaimTemplate:\n"
        "        spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}\n"
        '  - {name: f, image: {reference: "busybox:1.36"}}\n'
        "  - {name: g, persistentVolumeClaim: {claimName: d}}\n"
        "  - {name: h, projected: {sources: []}}\n"
        "  - {name: i, secret: {secretName: s}}\n"
        "  - name: no-source\n"
        "  - {name: null-source, hostPath: null}\n",
    ),
    Case(
        "volumes-forbidden",
        restricted_pod(SAFE) + "volumes:\n"
        "  - {name: a, hostPath: {path: /}} # pss: KL105 / KL105\n"
        + "".join(
            f"  - {{name: v{index}, {source}: {{}}}} # pss: - / KL204\n"
            for index, source in enumerate(
                (
                    "gcePersistentDisk",
                    "awsElasticBlockStore",
                    "gitRepo",
                    "nfs",
                    "iscsi",
                    "glusterfs",
                    "rbd",
                    "flexVolume",
                    "cinder",
                    "cephfs",
                    "flocker",
                    "fc",
                    "azureFile",
                    "vsphereVolume",
                    "quobyte",
                    "azureDisk",
                    "portworxVolume",
                    "photonPersistentDisk",
                    "scaleIO",
                    "storageos",
                    "someFutureType",
                )
            )
        ),
    ),
    # allowPrivilegeEscalation
    Case(
        "escalation",
        restricted_pod(
            "- name: app\n  image: nginx\n  securityContext:\n"
            "    allowPrivilegeEscalation: true # pss: - / KL201\n"
            "    capabilities: {drop: [ALL]}\n"
            "- name: unset\n  image: nginx\n  securityContext: # pss: - / KL201\n"
            "    capabilities: {drop: [ALL]}\n"
            "- name: null\n  image: nginx\n  securityContext:\n"
            "    allowPrivilegeEscalation: null # pss: - / KL201\n"
            "    capabilities: {drop: [ALL]}\n"
        ),
    ),
    # runAsNonRoot
    Case(
        "non-root-pod-false-containers-true",
        "securityContext:\n  runAsNonRoot: false # pss: - / KL202\n"
        "  seccompProfile: {type: RuntimeDefault}\ncontainers:\n"
        "  - name: app\n    image: nginx\n    securityContext:\n      runAsNonRoot: true\n"
        "      allowPrivilegeEscalation: false\n      capabilities: {drop: [ALL]}\n",
    ),
    Case(
        "non-root-container-false-overrides-pod",
        restricted_pod(
            "- name: app\n  image: nginx\n  securityContext:\n"
            "    runAsNonRoot: false # pss: - / KL202\n"
            "    allowPrivilegeEscalation: false\n    capabilities: {drop: [ALL]}\n"
        ),
    ),
    Case(
        "non-root-containers-each-true",
        "securityContext:\n  seccompProfile: {type: RuntimeDefault}\ncontainers:\n"
        "  - name: app\n    image: nginx\n    securityContext:\n      runAsNonRoot: true\n"
        "      allowPrivilegeEscalation: false\n      capabilities: {drop: [ALL]}\n"
        "  - name: other\n    image: nginx\n    securityContext: # pss: - / KL202\n"
        "      allowPrivilegeEscalation: false\n      capabilities: {drop: [ALL]}\n",
    ),
    Case(
        "non-root-user-namespace",
        "hostUsers: false\nsecurityContext:\n  runAsNonRoot: false\n  runAsUser: 0\n"
        "  seccompProfile: {type: RuntimeDefault}\ncontainers:\n"
        "  - name: app\n    image: nginx\n    securityContext:\n      runAsUser: 0\n"
        "      allowPrivilegeEscalation: false\n      capabilities: {drop: [ALL]}\n",
    ),
    # runAsUser
    Case(
        "run-as-user-pod-zero-overridden",
        "securityContext:\n  runAsNonRoot: true\n  runAsUser: 0 # pss: - / KL203\n"
        "  seccompProfile: {type: RuntimeDefault}\ncontainers:\n"
        "  - name: app\n    image: nginx\n    securityContext:\n      runAsUser: 1000\n"
        "      allowPrivilegeEscalation: false\n      capabilities: {drop: [ALL]}\n",
    ),
    sc_case("run-as-user-container-zero", "runAsUser: 0 # pss: - / KL203"),
    sc_case("run-as-user-non-zero", "runAsUser: 10001\nrunAsGroup: 0"),
    # Windows
    Case(
        "windows-exemptions",
        "os: {name: windows}\nsecurityContext: {runAsNonRoot: true}\ncontainers:\n"
        "  - {name: app, image: nanoserver}\n",
    ),
    Case(
        "windows-not-exempt-from-non-root-and-volumes",
        "os: {name: windows}\ncontainers:\n"
        "  - {name: app, image: nanoserver, securityContext: {runAsUser: 0}} # pss: - / KL202,KL203\n"  # noqa: E501
        "volumes:\n  - {name: v, nfs: {server: s, path: /}} # pss: - / KL204\n",
    ),
    Case(
        "windows-name-is-case-sensitive",
        "os: {name: Windows}\nsecurityContext: {runAsNonRoot: true}\ncontainers:\n"
        "  - {name: app, image: nanoserver} # pss: - / KL201,KL205,KL206\n",
    ),
    Case(
        "linux-os",
        "os: {name: linux}\nsecurityContext: {runAsNonRoot: true}\ncontainers:\n"
        "  - {name: app, image: nginx} # pss: - / KL201,KL205,KL206\n",
    ),
    # malformed input never crashes
    Case(
        "malformed",
        "securityContext: []\ncontainers:\n  - name: app\n    image: nginx\n"
        "    securityContext: {capabilities: {add: [{x: 1}], drop: ALL}, seLinuxOptions: x}"
        " # pss: KL107 / KL107,KL201,KL202,KL205,KL206\n"
        "  - just-a-string\nvolumes: {a: b}\n",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_case_as_pod(case: Case) -> None:
    text = case.text("Pod")
    baseline, restricted = expected(text)
    for profile, want in (("pss-baseline", baseline), ("pss-restricted", restricted)):
        report = run(text, profile)
        assert not report.notifications, report.notifications
        assert found(report) == want, f"{profile}\n{text}"


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_default_profile_reports_restricted_once(case: Case) -> None:
    """The default profile holds every PSS rule; overrides leave one finding per field."""
    text = case.text("Deployment")
    _, restricted = expected(text)
    report = run(text, "default")
    assert {item for item in found(report) if item[1] in PSS_RULES} == restricted
    paths = [(f.field_path, f.rule_id) for f in report.active if f.rule_id in PSS_RULES]
    assert len({path for path, _ in paths}) == len(paths), "a field reported by two rules"
    # No other rule (schema validity rules aside) reports a field a PSS rule reports; KL151
    # (drop NET_RAW, a fix of its own) may sit beside KL206 (drop ALL) on the drop list.
    others = {
        f.field_path for f in report.active if f.rule_id not in PSS_RULES and f.rule_id != "KL151"
    }
    schema = {f.field_path for f in report.active if f.rule_id.startswith("KL9")}
    assert {path for path, _ in paths} & (others - schema) == set()


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_case_in_every_workload_kind(case: Case, kind: str) -> None:
    text = case.text(kind)
    _, restricted = expected(text)
    assert found(run(text, "pss-restricted")) == restricted, text


def test_multi_document_stream_and_list() -> None:
    chosen = [
        c
        for c in CASES
        if c.name
        in {
            "privileged",
            "seccomp-pod-unconfined-containers-override",
            "apparmor-annotations-forbidden",
            "volumes-forbidden",
            "proc-mount-user-namespace",
            "clean",
        }
    ]
    manifests = [case.text(kind) for case in chosen for kind in KINDS]
    stream = "---\n".join(manifests)
    baseline, restricted = expected(stream)
    assert baseline and restricted
    assert found(run(stream, "pss-baseline")) == baseline
    assert found(run(stream, "pss-restricted")) == restricted
    listed = as_list(manifests)
    baseline, restricted = expected(listed)
    assert found(run(listed, "pss-baseline")) == baseline
    assert found(run(listed, "pss-restricted")) == restricted


def test_workload_annotations_are_not_the_template_annotations() -> None:
    text = (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  annotations:\n"
        "    container.apparmor.security.beta.kubernetes.io/app: unconfined\n"
        "spec:\n  template:\n    metadata:\n      annotations:\n"
        "        container.apparmor.security.beta.kubernetes.io/app: runtime/default\n"
        f"    spec:\n{textwrap.indent(restricted_pod(SAFE), '      ')}"
    )
    assert found(run(text, "pss-restricted")) == set()


@pytest.mark.parametrize(
    "name",
    [
        "kernel.shm_rmid_forced",
        "net.ipv4.ip_local_port_range",
        "net.ipv4.tcp_syncookies",
        "net.ipv4.ping_group_range",
        "net.ipv4.ip_unprivileged_port_start",
        "net.ipv4.ip_local_reserved_ports",
        "net.ipv4.tcp_keepalive_time",
        "net.ipv4.tcp_fin_timeout",
        "net.ipv4.tcp_keepalive_intvl",
        "net.ipv4.tcp_keepalive_probes",
        "net.ipv4.tcp_rmem",
        "net.ipv4.tcp_wmem",
        "net.ipv4.tcp_slow_start_after_idle",
        "net.ipv4.tcp_notsent_lowat",
    ],
)
def test_every_allowed_sysctl(name: str) -> None:
    spec = restricted_pod(SAFE, pod_sc=POD_SC + f'  sysctls:\n    - {{name: {name}, value: "1"}}\n')
    assert found(run(wrap("Pod", spec), "pss-restricted")) == set()
    bad = spec.replace(name, name.replace(".", "/"))
    assert found(run(wrap("Pod", bad), "pss-baseline")) == {(10, "KL113")}


def test_messages_and_properties_name_control_and_level() -> None:
    text = "".join(case.text("Pod") + "---\n" for case in CASES)
    report = run(text, "pss-restricted")
    seen = set()
    for finding in report.active:
        properties = dict(finding.properties)
        level = "baseline" if finding.rule_id in BASELINE_CONTROLS else "restricted"
        also = properties.pop("pss-also-violates", None)
        assert properties == {"pss-level": level, "pss-control": PSS_RULES[finding.rule_id]}
        assert also is None or (level == "restricted" and also in PSS_RULES.values())
        assert re.search(rf"\(Pod Security Standards {level}: [^)]+\)\.$", finding.message)
        seen.add(finding.rule_id)
    # replaced baseline rules answer to their own id under pss-restricted too
    assert seen == set(PSS_RULES)
    baseline_report = run(text, "pss-baseline")
    assert {f.rule_id for f in baseline_report.active} == set(BASELINE_CONTROLS)


def test_baseline_risks_are_reported_under_the_baseline_rule() -> None:
    """A replaced rule answers to its own id; the restricted rule reports only what it adds."""
    text = wrap(
        "Pod",
        restricted_pod(container_sc("capabilities: {drop: [ALL], add: [SYS_ADMIN, CHOWN]}"))
        + "volumes:\n  - {name: a, hostPath: {path: /}}\n"
        "  - {name: b, nfs: {server: s, path: /}}\n",
    )
    report = run(text, "default")
    got = sorted(
        (f.rule_id, f.message.split(" (")[0], f.severity)
        for f in report.active
        if f.rule_id in PSS_RULES
    )
    assert got == [
        ("KL105", 'volume "a" mounts a hostPath', Severity.ERROR),
        (
            "KL107",
            'container "app" adds capability SYS_ADMIN, which is not in the baseline set',
            Severity.ERROR,
        ),
        ("KL204", 'volume "b" uses volume type nfs, which is not allowed', Severity.WARNING),
        (
            "KL206",
            'container "app" adds capability CHOWN; only NET_BIND_SERVICE may be added',
            Severity.WARNING,
        ),
    ]


def test_suppressions_and_configuration_by_a_replaced_id_act(tmp_path: Path) -> None:
    """``ignore[KL107]``, ``ignore: [KL112]`` and a KL105 severity act in the default profile."""
    (tmp_path / "pod.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n"
        "  volumes: [{name: h, hostPath: {path: /}}]\n"
        "  containers:\n    - name: app\n      image: nginx:1.27.3\n"
        "      securityContext:\n        seccompProfile: {type: Unconfined}\n"
        "        capabilities:\n"
        "          add: [SYS_ADMIN]  # klint: ignore[KL107] the agent needs it\n"
    )
    (tmp_path / ".klint.yaml").write_text("ignore: [KL112]\nrules:\n  KL105: {severity: note}\n")
    result = run_cli("check", "--format", "json", "pod.yaml", cwd=tmp_path)
    data = json.loads(result.stdout)
    active = {
        (f["rule_id"], f["line"], f["severity"])
        for f in data["findings"]
        if not f.get("suppressed")
    }
    rules = {rule for rule, _, _ in active}
    assert ("KL105", 5, "note") in active  # configured severity, not KL204's error
    assert "KL204" not in rules
    assert "KL107" not in rules and "KL206" not in {r for r, line, _ in active if line == 12}
    assert "KL112" not in rules
    assert ("KL205", 10, "warning") in active  # the restricted rule still reports Unconfined


def test_missing_fields_point_at_the_container_and_say_what_to_add() -> None:
    text = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n    - name: app\n      image: nginx\n"  # noqa: E501
    report = run(text, "pss-restricted")
    by_rule = {f.rule_id: f for f in report.active}
    assert {(f.location.span.start_line, f.location.span.start_column) for f in report.active} == {
        (6, 7)
    }
    assert "set securityContext.allowPrivilegeEscalation to false" in by_rule["KL201"].message
    assert "set securityContext.runAsNonRoot to true" in by_rule["KL202"].message
    assert "set securityContext.seccompProfile.type to RuntimeDefault" in by_rule["KL205"].message
    assert 'add "ALL" to securityContext.capabilities.drop' in by_rule["KL206"].message
    assert by_rule["KL205"].field_path == (
        "spec",
        "containers",
        0,
        "securityContext",
        "seccompProfile",
    )


def test_cli_profiles_json() -> None:
    text = wrap(
        "Pod",
        "hostPID: true\ncontainers:\n  - name: app\n    image: nginx\n"
        "    securityContext: {seccompProfile: {type: Unconfined}}\n",
    )
    baseline = run_cli(
        "check", "--profile", "pss-baseline", "--format", "json", "-", stdin=text.encode()
    )
    restricted = run_cli(
        "check", "--profile", "pss-restricted", "--format", "json", "-", stdin=text.encode()
    )

    def controls(output: str) -> list[tuple[int, str, str]]:
        return sorted(
            (f["line"], f["properties"]["pss-level"], f["properties"]["pss-control"])
            for f in json.loads(output)["findings"]
        )

    assert controls(baseline.stdout) == [
        (6, "baseline", "hostNamespaces"),
        (10, "baseline", "seccompProfile_baseline"),
    ]
    assert controls(restricted.stdout) == [
        (6, "baseline", "hostNamespaces"),
        (10, "baseline", "seccompProfile_baseline"),  # under its own rule, not KL205
        (10, "restricted", "allowPrivilegeEscalation"),
        (10, "restricted", "capabilities_restricted"),
        (10, "restricted", "runAsNonRoot"),
    ]

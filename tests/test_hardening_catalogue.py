"""Hardening, networking, reliability and deprecated-API rules: cross-object and edge cases."""

from __future__ import annotations

import pytest

from klint.checks.selectors import matches_label_selector
from klint.deprecations import DEPRECATIONS, lookup
from tests.conftest import hits, lint_text

ROLLOUT = """\
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: web, namespace: shop}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata:
      labels: {app: web}
    spec:
      hostNetwork: true
      containers:
        - name: app
          image: nginx:latest
          securityContext:
            privileged: true
            readOnlyRootFilesystem: false
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db, namespace: shop}
spec:
  podSelector: {matchLabels: {app: db}}
"""


def test_pod_template_crds_such_as_argo_rollouts_are_linted() -> None:
    report = lint_text(ROLLOUT, rules=["KL101", "KL102", "KL150", "KL301", "KL701"])
    assert sorted(hits(report)) == [
        (8, 7, "KL701"),  # template labels: no ingress policy selects the pods
        (10, 20, "KL102"),  # hostNetwork
        (13, 18, "KL301"),  # image latest
        (15, 25, "KL101"),  # privileged
        (16, 37, "KL150"),  # readOnlyRootFilesystem false
    ]


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ((1, 21), []),  # batch/v1beta1 CronJob: deprecated in 1.21 → warning, not removed
        ((1, 25), [(1, 13, "KL801")]),
        ((1, 33), [(1, 13, "KL801")]),
    ],
)
def test_removed_api_depends_on_the_target_version(
    version: tuple[int, int], expected: list[tuple[int, int, str]]
) -> None:
    text = "apiVersion: batch/v1beta1\nkind: CronJob\nmetadata: {name: nightly}\n"
    assert hits(lint_text(text, rules=["KL801"], kube_version=version)) == expected


def test_deprecated_and_removed_messages_name_the_release_and_replacement() -> None:
    text = "apiVersion: batch/v1beta1\nkind: CronJob\nmetadata: {name: nightly}\n"
    old = lint_text(text, rules=["KL801", "KL802"], kube_version=(1, 21))
    assert [(f.rule_id, f.message) for f in old.active] == [
        (
            "KL802",
            "CronJob batch/v1beta1 is deprecated since 1.21, removed in 1.25; use batch/v1.",
        )
    ]
    new = lint_text(text, rules=["KL801", "KL802"], kube_version=(1, 30))
    assert [(f.rule_id, f.message) for f in new.active] == [
        ("KL801", "CronJob batch/v1beta1 was removed in 1.25; use batch/v1.")
    ]
    # Before deprecation: nothing.
    assert lint_text(text, rules=["KL801", "KL802"], kube_version=(1, 20)).active == []


def test_deprecation_table_covers_each_removal_release() -> None:
    removals = {d.removed for d in DEPRECATIONS.values()}
    assert {(1, 16), (1, 22), (1, 25), (1, 26), (1, 27), (1, 29), (1, 32)} <= removals
    assert lookup("networking.k8s.io/v1beta1", "Ingress") is not None
    assert lookup("networking.k8s.io/v1", "Ingress") is None
    psp = lookup("policy/v1", "PodSecurityPolicy")  # any PSP is a removed API
    assert psp is not None and psp.removed == (1, 25)
    for entry in DEPRECATIONS.values():
        assert entry.removed is None or entry.deprecated <= entry.removed, entry


@pytest.mark.parametrize(
    ("selector", "matched"),
    [
        ({}, True),
        ({"matchLabels": {"app": "web"}}, True),
        ({"matchLabels": {"app": "api"}}, False),
        ({"matchExpressions": [{"key": "app", "operator": "In", "values": ["web"]}]}, True),
        ({"matchExpressions": [{"key": "app", "operator": "NotIn", "values": ["web"]}]}, False),
        ({"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["x"]}]}, True),
        ({"matchExpressions": [{"key": "app", "operator": "Exists"}]}, True),
        ({"matchExpressions": [{"key": "app", "operator": "DoesNotExist"}]}, False),
        ({"matchExpressions": [{"key": "app", "operator": "Bogus"}]}, False),
        ({"matchLabels": "app=web"}, False),
        (None, False),
        ("app=web", False),
    ],
)
def test_label_selector_semantics(selector: object, matched: bool) -> None:
    assert matches_label_selector(selector, {"app": "web"}) is matched


def test_network_policy_in_another_namespace_does_not_count() -> None:
    text = ROLLOUT.replace("name: db, namespace: shop", "name: db, namespace: other")
    report = lint_text(text, rules=["KL701", "KL702"])
    assert hits(report) == [(8, 7, "KL702")]


def test_dangling_checks_stay_quiet_without_counterparts() -> None:
    service_only = """\
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: nothing-here}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web}
spec:
  defaultBackend: {service: {name: missing, port: {number: 80}}}
"""
    report = lint_text(service_only, rules=["KL709", "KL711", "KL413", "KL414"])
    assert hits(report) == [(11, 36, "KL711")]  # Services exist, so the backend is judged


MALFORMED = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: bad, labels: [x]}
spec:
  replicas: "3"
  selector: []
  template:
    metadata: {labels: null}
    spec:
      securityContext: {runAsUser: "1000", supplementalGroups: "0"}
      hostAliases: {}
      containers:
        - name: app
          image: [nginx]
          ports: "80"
          securityContext: {capabilities: {drop: "ALL"}}
          livenessProbe: {httpGet: {port: null}}
          volumeMounts: [{name: null}]
        - "not a container"
      volumes: [{name: x, hostPath: "/etc"}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p}
spec: {podSelector: [], ingress: "all", policyTypes: "Ingress"}
---
apiVersion: v1
kind: Service
metadata: {name: s, annotations: null}
spec: {type: 3, selector: "app", externalIPs: "1.2.3.4", loadBalancerSourceRanges: 7}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: i}
spec: {rules: [{http: {paths: "x"}}, "y"], tls: "z"}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: p}
spec: {minAvailable: "x%", selector: "app"}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: h}
spec: {scaleTargetRef: "web"}
"""


def test_malformed_objects_never_crash_a_check() -> None:
    report = lint_text(MALFORMED)
    assert not [n for n in report.notifications if n.code == "internal-check-error"]


def test_controller_generated_labels_do_not_make_a_service_dangling() -> None:
    text = """\
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: redis}
spec:
  selector: {matchLabels: {app: redis}}
  template:
    metadata: {labels: {app: redis}}
    spec:
      containers: [{name: redis, image: "redis:7.4"}]
---
apiVersion: v1
kind: Service
metadata: {name: redis-0}
spec:
  selector: {app: redis, statefulset.kubernetes.io/pod-name: redis-0}
---
apiVersion: v1
kind: Service
metadata: {name: typo}
spec:
  selector: {app: rediss, statefulset.kubernetes.io/pod-name: redis-0}
"""
    assert hits(lint_text(text, rules=["KL709"])) == [(21, 3, "KL709")]


def test_csi_plugin_dirs_and_dev_log_are_not_sensitive_mounts() -> None:
    text = """\
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: csi}
spec:
  selector: {matchLabels: {app: csi}}
  template:
    metadata: {labels: {app: csi}}
    spec:
      containers:
        - name: driver
          image: example/csi:1.0
          volumeMounts:
            - {name: plugin, mountPath: /csi}
            - {name: log, mountPath: /dev/log}
            - {name: pods, mountPath: /var/lib/kubelet/pods}
      volumes:
        - {name: plugin, hostPath: {path: /var/lib/kubelet/plugins/csi.example.com}}
        - {name: log, hostPath: {path: /dev/log}}
        - {name: pods, hostPath: {path: /var/lib/kubelet/pods}}
"""
    report = lint_text(text, rules=["KL154"])
    assert [
        (line, f.message) for (line, _, _), f in zip(hits(report), report.active, strict=True)
    ] == [
        (
            15,
            'container "driver" mounts host path /var/lib/kubelet/pods writable at '
            "/var/lib/kubelet/pods.",
        )
    ]

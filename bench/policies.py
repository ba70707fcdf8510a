"""Cost per ValidatingAdmissionPolicy (and CRD rule) per object, in-process.

Each policy of ``fixtures/admission-policy`` (the Kubernetes docs' examples and public
ones) is linted alone over N generated Deployments in one unit, with only the policy rule
selected; the same objects without any policy give the baseline. The difference divided
by N is the policy's cost per object; the first run (compile + child start) is reported
apart. The CRD validation fixture is timed the same way over N custom resources.

    python bench/policies.py [--objects 2000] [--runs 3]

Times are CPU seconds (klint's process plus its CEL evaluator child, read from /proc), the
median of the runs: wall time on a shared machine measures the neighbours.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from klint.catalog import load_catalog  # noqa: E402
from klint.engine import bind_rules, lint  # noqa: E402
from klint.selection import select_rules  # noqa: E402
from klint.sources.base import LoadSettings  # noqa: E402
from klint.sources.manifests import StdinBuffer  # noqa: E402

POLICIES = REPO / "fixtures" / "admission-policy"
CRD = REPO / "fixtures" / "crd-validation" / "kubectl-validate-cel-basic.yaml"

_DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: app-{n}
  namespace: {namespace}
  labels: {{app: app-{n}}}
spec:
  replicas: {replicas}
  selector: {{matchLabels: {{app: app-{n}}}}}
  template:
    metadata: {{labels: {{app: app-{n}}}}}
    spec:
      containers:
        - name: app
          image: "{registry}example.com/app:{n}"
          securityContext: {{privileged: false}}
        - name: sidecar
          image: "docker.io/envoyproxy/envoy:v1.31"
"""
_CR = (
    "apiVersion: stable.example.com/v1\nkind: CELBasic\nmetadata: {{name: b-{n}}}\n"
    "value: 3\nother_value: {other}\n"
)


def objects(count: int) -> str:
    """``count`` Deployments across namespaces test/staging/prod, some violating."""
    namespaces = ("test", "staging", "prod")
    return "---\n".join(
        _DEPLOYMENT.format(
            n=n,
            namespace=namespaces[n % 3],
            replicas=(n % 8),
            registry=("staging." if n % 2 else "prod."),
        )
        for n in range(count)
    )


def policy_text(path: Path) -> str:
    """The policy, binding, params and Namespace objects of a fixture (not its examples)."""
    keep = (
        "ValidatingAdmissionPolicy",
        "ReplicaLimit",
        "kind: Namespace",
        "CustomResourceDefinition",
    )
    parts = path.read_text(encoding="utf-8").split("\n---\n")
    return "\n---\n".join(part for part in parts if any(k in part for k in keep))


def cpu_seconds() -> float:
    """CPU time of this process and of the live CEL evaluator child."""
    from klint.cel import sandbox

    total = time.process_time()
    child = sandbox.evaluator()._child
    if child is not None and child.pid is not None:
        try:
            fields = Path(f"/proc/{child.pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            pass
    return total


def time_lint(text: str, rules: list[str], runs: int) -> tuple[float, float, int]:
    """(first run, median of the next runs) in CPU seconds, and the finding count."""
    catalog = load_catalog()
    active = bind_rules(select_rules(catalog, (), select=rules))
    timings, findings = [], 0
    for _ in range(runs + 1):
        unit = StdinBuffer(text.encode(), "bench.yaml")
        started = cpu_seconds()
        report = lint([unit], active, LoadSettings(), (1, 35))
        timings.append(cpu_seconds() - started)
        findings = len(report.findings)
    return timings[0], statistics.median(timings[1:]), findings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    count = args.objects
    body = objects(count)
    _, baseline, _ = time_lint(body, ["KL960"], args.runs)
    print(f"{count} Deployments, rule KL960 only; baseline without policies {baseline:.3f} s")
    print(f"{'policy fixture':42s} {'first run':>10s} {'per object':>12s} {'findings':>9s}")
    for path in sorted(POLICIES.rglob("*.yaml")):
        text = policy_text(path) + "\n---\n" + body
        first, median, found = time_lint(text, ["KL960", "KL961"], args.runs)
        per_object = (median - baseline) / count * 1e6
        name = f"{path.parent.name}/{path.name}"
        print(f"{name:42s} {first:9.3f}s {per_object:9.1f} µs {found:9d}")
    crd = policy_text(CRD)
    resources = "---\n".join(_CR.format(n=n, other=(9 if n % 2 else 8)) for n in range(count))
    plain = crd.replace("x-kubernetes-validations", "x-no-validations")
    _, crd_base, _ = time_lint(plain + "\n---\n" + resources, ["KL962"], args.runs)
    first, median, found = time_lint(crd + "\n---\n" + resources, ["KL962"], args.runs)
    per_object = (median - crd_base) / count * 1e6
    name = "crd-validation/cel-basic (2 rules)"
    print(f"{name:42s} {first:9.3f}s {per_object:9.1f} µs {found:9d}")


if __name__ == "__main__":
    main()

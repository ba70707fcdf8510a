"""Editor/pre-commit latency: cold ``klint check --stdin-filename PATH -`` on one Deployment.

Each run is a fresh process (what an editor's on-save lint or nvim-lint spawns); prints the
median, min and max wall time in milliseconds. Target (integration.md E3): well under 300 ms.

    python bench/latency.py [--runs 10] [--command klint] [--file PATH]
"""

from __future__ import annotations

import argparse
import shlex
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

DEPLOYMENT = b"""\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  labels: {app.kubernetes.io/name: web}
spec:
  replicas: 3
  selector:
    matchLabels: {app.kubernetes.io/name: web}
  template:
    metadata:
      labels: {app.kubernetes.io/name: web}
    spec:
      serviceAccountName: web
      containers:
        - name: app
          image: registry.example.com/shop/web:1.4.2
          ports:
            - containerPort: 8080
          env:
            - name: LOG_LEVEL
              value: info
          resources:
            requests: {cpu: 100m, memory: 128Mi}
            limits: {cpu: 500m, memory: 256Mi}
          readinessProbe:
            httpGet: {path: /healthz, port: 8080}
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            runAsNonRoot: true
            capabilities: {drop: [ALL]}
"""


def measure(command: list[str], data: bytes, runs: int) -> list[float]:
    """Wall time of each run in milliseconds (one untimed warm-up run fills the OS caches)."""
    times = []
    for index in range(runs + 1):
        started = time.perf_counter()
        done = subprocess.run(command, input=data, capture_output=True, check=False, cwd=REPO)
        elapsed = (time.perf_counter() - started) * 1000
        if done.returncode not in (0, 1):
            sys.exit(f"klint failed (exit {done.returncode}): {done.stderr.decode().strip()}")
        if index:
            times.append(elapsed)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument(
        "--command", default=f"{shlex.quote(sys.executable)} -m klint", help="klint command"
    )
    parser.add_argument("--file", type=Path, help="lint this file instead of the Deployment")
    args = parser.parse_args()
    data = args.file.read_bytes() if args.file else DEPLOYMENT
    command = [*shlex.split(args.command), "check", "--stdin-filename", "deploy/web.yaml", "-"]
    times = measure(command, data, args.runs)
    print(
        f"klint single-file stdin lint, {args.runs} cold runs: "
        f"median {statistics.median(times):.0f} ms "
        f"(min {min(times):.0f}, max {max(times):.0f})"
    )


if __name__ == "__main__":
    main()

"""Synthetic inputs for the repeat-run benchmarks: an argo-workflows-like Kustomize tree.

argo-workflows has 19 overlays that all include one heavy base of CRDs; this writes the same
shape (``crds`` CRDs of about ``properties`` × 100 bytes each, ``overlays`` overlays that
each add a Deployment and set a namespace and a label) so the cost of rebuilding a shared
base per overlay can be measured without the held-out repository.
"""

from __future__ import annotations

from pathlib import Path

_CRD_HEAD = """apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: things{n}.example.io
spec:
  group: example.io
  names:
    kind: Thing{n}
    listKind: Thing{n}List
    plural: things{n}
    singular: thing{n}
  scope: Namespaced
  versions:
    - name: v1alpha1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              properties:
"""
_PROPERTY = """                field{k}:
                  type: string
                  description: Field {k} of thing {n}, documented at length as generated CRDs are.
"""
_DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: controller
spec:
  selector:
    matchLabels: {{app: controller}}
  template:
    metadata:
      labels: {{app: controller}}
    spec:
      containers:
        - name: controller
          image: registry.example.com/controller:{n}.0
          securityContext:
            privileged: {privileged}
"""


def shared_base_tree(
    root: Path, overlays: int = 19, crds: int = 12, properties: int = 400, git: bool = True
) -> Path:
    """Write the tree under ``root`` (a git root unless ``git`` is false) and return it.

    ``fixtures/kustomize-shared`` is ``shared_base_tree(path, crds=2, properties=50,
    git=False)``.
    """
    full = root / "manifests" / "base" / "crds" / "full"
    full.mkdir(parents=True)
    if git:
        (root / ".git").mkdir(exist_ok=True)
    names = []
    for n in range(crds):
        body = _CRD_HEAD.format(n=n) + "".join(
            _PROPERTY.format(k=k, n=n) for k in range(properties)
        )
        (full / f"thing{n}.yaml").write_text(body)
        names.append(f"thing{n}.yaml")
    (full / "kustomization.yaml").write_text(
        "resources:\n" + "".join(f"  - {name}\n" for name in names)
    )
    for index in range(overlays):
        overlay = root / "manifests" / f"install-{index:02d}"
        overlay.mkdir(parents=True)
        (overlay / "deployment.yaml").write_text(
            _DEPLOYMENT.format(n=index, privileged="true" if index % 2 else "false")
        )
        (overlay / "kustomization.yaml").write_text(
            "resources:\n  - ../base/crds/full\n  - deployment.yaml\n"
            f"namespace: team-{index}\n"
            f"labels:\n  - pairs:\n      install: i{index}\n"
        )
    return root

"""Kustomize overlays → rendered objects that know which files a person edits.

:func:`build.build` renders a kustomization offline with ``kustomize build`` (or ``kubectl
kustomize``) in a temporary copy of the tree, with origin annotations switched on in the
copy only; the user's files are never written. The annotations name the file that declared
each object; they are stripped from the returned text so that no rule sees them.

Kustomize records no line numbers and does not name the patch that set a field, so
:func:`locate.locate` re-reads the kustomization tree: it replays the order in which kustomize
applies patches, name prefixes and the other field-setting transformers to find the last
one that set a field (a strategic-merge or JSON6902 patch file, an inline patch, an
``images:`` entry ...), and otherwise finds the field in the declaring file.

Safety: remote bases are refused before anything runs, exec/KRM plugins and Helm
inflation are never enabled, and the tool runs with a minimal environment, git limited to
local transports, a dead proxy and, where ``unshare`` allows it, no network namespace.
"""

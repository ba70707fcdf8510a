"""Kustomize builds a repository commits: the Makefile lines that write one to a file.

Operator repositories commit the output of their own overlays for ``kubectl apply -f``
installs (``$(KUSTOMIZE) build deploy/overlays/cluster -o deploy/operator.yaml``,
``kustomize build config/default > install.yaml``). Such a file is a copy of what the
overlay builds: fixed in the overlay and built again, where the same finding is reported at
its level. A Makefile is read as text (never run): a line names the tool (``kustomize
build``, ``$(KUSTOMIZE) build``, ``kubectl kustomize``), a source folder, and an output
file (``-o``, ``--output``, ``>``, ``>>``); a line that pipes the build elsewhere, or whose
paths hold a variable, names nothing.
"""

from __future__ import annotations

import re

_TOOL = re.compile(
    r"(?:\bkubectl\s+kustomize|(?:\bkustomize|\$[({]KUSTOMIZE[)}])\s+build)(?P<rest>[^\n]*)"
)
_COMMAND_END = re.compile(r"\||;|&&")
# kustomize build options that take a value as the next word
_VALUED = frozenset(
    {"--load-restrictor", "--reorder", "--helm-command", "--mount", "--env", "-e", "--network-name"}
)


def build_output(line: str) -> tuple[str, str] | None:
    """``(source folder, output file)`` of a Makefile line that writes a kustomize build to a
    file, as written (relative to the Makefile's folder); None otherwise."""
    match = _TOOL.search(line)
    if match is None:
        return None
    words = _COMMAND_END.split(match.group("rest"), maxsplit=1)[0].split()
    source: str | None = None
    output: str | None = None
    index = 0
    while index < len(words):
        word = words[index].strip("\"'")
        following = words[index + 1].strip("\"'") if index + 1 < len(words) else None
        if word in (">", ">>", "-o", "--output"):
            output, index = following, index + 2
            continue
        if word.startswith((">>", ">")):
            output = word.lstrip(">")
        elif word.startswith("--output="):
            output = word.partition("=")[2]
        elif word.startswith("-o") and len(word) > 2:
            output = word[2:]
        elif word in _VALUED:
            index += 1  # its value
        elif not word.startswith("-") and source is None:
            source = word
        index += 1
    if not source or not output or "$" in source + output or "`" in source + output:
        return None
    return source, output

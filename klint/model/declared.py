"""Contexts known only to the whole run, each a copy or input that a reviewer does not fix
where it is (see :mod:`klint.model.component` for the contexts of one file's path):

- ``generated-copy``: a manifest whose documents are ``helm template`` output of a chart the
  same run lints (``# Source: <chart>/templates/<file>`` above a document, or a
  ``helm.sh/chart: <chart>-<version>`` label, with ``<chart>`` the ``name`` in the linted
  chart's Chart.yaml), as ``hack/update-generated.sh`` scripts commit: fixed in the chart,
  where the same finding is reported at its level. A copy fixed elsewhere: every rule,
  ``never-downgraded`` ones included. Output of a chart the run does not lint (a
  third-party chart rendered into the repository) keeps its levels.
- ``not-deployed``, declared by a README: an input under a README whose opening paragraphs
  say the repository or folder is a demo, a proof of concept, for (CI) testing only or not
  for production (csi-driver-host-path: "just a demo implementation ... used for CI
  testing"). Users copy or run it: rules not tagged ``never-downgraded`` only. The phrases
  are few and explicit; a README that says its *defaults* are not for production, about
  its own settings, is not one of them.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence

from klint.model.component import NEVER_DOWNGRADED, Expectation
from klint.model.resource import Resource

HELM_CHART_LABEL = "helm.sh/chart"
# ``<chart>-<version>`` in a helm.sh/chart label (``local-static-provisioner-2.9.0``).
_CHART_LABEL = re.compile(r"(?P<name>.+?)-v?\d+(?:\.\d+)*(?:[-+][0-9A-Za-z.+-]*)?")
_SOURCE = re.compile(r"^#\s*Source:\s*(\S+)\s*$")


def generated_copy(
    resource: Resource, source: str | None, charts: Sequence[tuple[str, str]]
) -> Expectation | None:
    """The generated-copy context of an object whose document's ``# Source:`` is ``source``
    (None: none), given the ``(name, folder)`` of every chart the run lints."""
    if not charts:
        return None
    by_name = dict(reversed(charts))  # the first folder of a name, as sorted
    if source is not None:
        name, _, inner = source.partition("/")
        folder = by_name.get(name)
        if folder is not None and inner:
            return _copy(folder, inner)
    label = resource.labels.get(HELM_CHART_LABEL)
    text = label.strip() if isinstance(label, str) else ""
    match = _CHART_LABEL.fullmatch(text)
    if match is not None and match.group("name") in by_name:
        return _copy(by_name[match.group("name")], f"{HELM_CHART_LABEL}: {text}")
    return None


def _copy(folder: str, what: str) -> Expectation:
    return _fixed_there(f"generated from chart {folder} ({what})")


def _fixed_there(source: str) -> Expectation:
    """A generated copy (every finding a note): ``source`` says what it is generated from."""
    return Expectation(
        "generated-copy", f"{source}; fixed there", from_path=True, fixed_elsewhere=True
    )


def source_comments(lines: Sequence[str]) -> list[tuple[int, str]]:
    """``(line, path)`` of every ``# Source:`` comment of a file's lines (0-based), in order:
    a document belongs to the last one above it (Helm writes one per template, and a
    template's later documents carry none)."""
    found = []
    for number, line in enumerate(lines):
        if "Source:" in line:
            match = _SOURCE.match(line.strip())
            if match:
                found.append((number, match.group(1)))
    return found


def source_above(comments: Sequence[tuple[int, str]], line: int) -> str | None:
    """The path of the last ``# Source:`` comment above line ``line`` (0-based), if any."""
    index = bisect.bisect_left(comments, (line, "")) - 1
    return comments[index][1] if index >= 0 else None


# The opening of a README: what it says before its first second-level heading, at most this
# many lines.
README_OPENING_LINES = 30
# Self-descriptions of a repository or folder that is not what anyone deploys: a sentence
# whose subject is the project itself ("This driver is just a demo implementation", "This
# repository is not intended for production use"), never a sentence about its settings
# ("the defaults are not for production", "this chart's password is for testing only").
_SUBJECT = (
    r"\bthis(?:\s+(?:repository|repo|project|driver|operator|chart|folder|directory|code|"
    r"implementation|deployment|application|app|setup|plugin|controller|manifests?|files?|"
    r"example|installation))?\b"
)
_CLAIM = (
    r"(?:is|are)\s+(?:just\s+|only\s+|merely\s+|simply\s+)?an?\s+(?:demo|demonstration)\b"
    r"|(?:is|are)\s+(?:just\s+|only\s+|merely\s+)?an?\s+proof[\s-]+of[\s-]+concept\b"
    r"|(?:is|are)\s+not\s+(?:intended|meant|designed|suitable|ready|supported)\s+for\s+"
    r"production\b|(?:is|are)\s+not\s+for\s+production\b"
    r"|(?:should|must)\s+not\s+be\s+used\s+in\s+production\b"
    r"|(?:is|are)\s+not\s+(?:intended|meant|designed)\s+to\s+be\s+(?:[^.!?]{0,60}?\s)?"
    r"used\s+in\s+production\b"
    r"|(?:is|contains|holds)\s+an?\s+(?:collection|set)\s+of\s+(?:examples|samples|demos)\b"
    r"|for\s+(?:ci\s+)?testing(?:\s+purposes)?\s+only\b"
    r"|(?:is|are)\s+(?:only\s+)?used\s+(?:only\s+)?for\s+(?:ci|e2e)\s+testing\b"
)
_DECLARATION = re.compile(
    rf"(?P<subject>{_SUBJECT})(?P<between>[^.!?]{{0,80}}?)(?P<claim>{_CLAIM})", re.IGNORECASE
)
# Words between the subject and the claim that make the sentence about settings or data.
_ABOUT_SETTINGS = re.compile(
    r"\b(?:defaults?|values?|settings?|configuration|config|credentials?|passwords?|"
    r"certificates?|keys?|secrets?|tokens?|parameters?|options?|resources?|limits?)\b",
    re.IGNORECASE,
)

_PREPOSITION = re.compile(r"\b(?:in|of|from|under|inside|within|by|for|with)\s*$", re.IGNORECASE)


# Front matter (``---`` … ``---`` before the text) that files the README as a sample, as
# Microsoft's sample repositories do (``page_type: sample``).
_SAMPLE_PAGE = re.compile(r"""^page_type:\s*["']?sample["']?\s*$""")
_FRONT_MATTER_LINES = 80


def self_declaration(text: str) -> tuple[int, str] | None:
    """The line (1-based) and words of a README opening that declare the project a demo or
    test-only, if any (the first such sentence); the opening follows any front matter,
    which declares it by ``page_type: sample``."""
    all_lines = text.splitlines()
    start = 0
    if all_lines and all_lines[0].strip() == "---":
        end = next(
            (i for i, line in enumerate(all_lines[1:_FRONT_MATTER_LINES], 1) if line == "---"),
            None,
        )
        if end is not None:
            for number, line in enumerate(all_lines[1:end], 2):
                if _SAMPLE_PAGE.match(line):
                    return number, line.strip()
            start = end + 1
    opening: list[str] = []
    for line in all_lines[start : start + README_OPENING_LINES]:
        if line.startswith("## "):
            break
        opening.append(line)
    for number, line in enumerate(opening, start + 1):
        for match in _DECLARATION.finditer(line):
            sentence = re.split(r"[.!?:]\s", line[: match.start()])[-1]
            if _ABOUT_SETTINGS.search(sentence + " " + match.group("between")):
                continue  # about its defaults, settings or data, not the project
            if _PREPOSITION.search(sentence):
                continue  # "the keys in this directory are ...": not the subject
            return number, match.group(0)
    return None


def declared_reason(readme: str, line: int, words: str) -> str:
    """The words of a self-declared context: where the README says it."""
    quoted = " ".join(words.split())
    return f'{readme}:{line} says "{quoted}": a demo or test driver, not for production'


def declared_context(path: str, declared: Sequence[tuple[str, str]]) -> Expectation | None:
    """The self-declared context of a file at display ``path``, given ``(folder, reason)``
    pairs, folders as displays ("" for the working directory and above it), longest
    first."""
    for folder, reason in declared:
        if folder == "":
            inside = not path.startswith(("/", "../")) and path != ".."
        else:
            inside = path.startswith(folder + "/")
        if inside:
            return Expectation("not-deployed", reason, from_path=True)
    return None


def built_copy(path: str, copies: Sequence[tuple[str, str]]) -> Expectation | None:
    """The generated-copy context of the file at display ``path`` when a Makefile writes it
    from a kustomize build the run lints (``copies``: ``(file, reason)``)."""
    reason = next((why for file, why in copies if file == path), None)
    if reason is None:
        return None
    return _fixed_there(reason)


def self_declared(
    tags: Sequence[str], path: str, declared: Sequence[tuple[str, str]]
) -> Expectation | None:
    """The context a README gives the folder holding ``path`` (not for never-downgraded
    rules: a demo is what users copy or run)."""
    if not declared or NEVER_DOWNGRADED in tags:
        return None
    return declared_context(path, declared)

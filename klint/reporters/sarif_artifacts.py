"""SARIF ``run.artifacts`` for files inside chart archives: nested artifacts (SARIF 2.1.0 §3.24).

A finding in a subchart vendored as ``charts/dep-1.2.3.tgz`` is located at
``charts/dep-1.2.3.tgz!/dep/templates/x.yaml``. The run's ``artifacts`` describe that file the
way SARIF does: the archive is a top-level artifact (repository-relative ``uri``), the member
a nested one whose ``location.uri`` is its path as the archive lists it (§3.4.3) and whose
``parentIndex`` is the archive's (§3.24.3).

Results keep ``artifactLocation.uri`` = archive path + ``!/`` + member path, with no
``index``. GitHub code scanning reads only ``artifactLocation.uri``, relative to the
repository root: it ignores ``run.artifacts`` and ``parentIndex`` (its ingestion copies
``artifacts[index].location.uri`` into the result, and codeql-action's fingerprinting does
the same). The nested form (``uri`` = ``dep/templates/x.yaml`` with ``index``, which §3.4.3
requires once ``index`` names a nested artifact) would show every such alert at
``dep/templates/x.yaml`` in the repository root: a file that does not exist, or a different
one. GitHub cannot show the lines of a file inside an archive in either form; the ``!/``
form at least names the archive and the template.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from klint.findings import archive_member

_GZIP = "application/gzip"  # .tgz and .tar.gz chart archives


class ArchiveArtifacts:
    """The archives and archive members results point at, indexed in order of first use."""

    def __init__(self) -> None:
        self.entries: list[dict[str, Any]] = []
        self._index: dict[str, int] = {}

    def note(self, path: str, locate: Callable[[str], dict[str, str]]) -> None:
        """Record ``path`` when it names a file inside an archive (else nothing); ``locate``
        gives the archive's own ``artifactLocation`` (repository-relative)."""
        split = archive_member(path)
        if split is None or path in self._index:
            return
        archive, member = split
        parent = self._index.get(archive)
        if parent is None:
            parent = self._add(archive, {"location": locate(archive), "mimeType": _GZIP})
        self._add(path, {"location": {"uri": _member_uri(member)}, "parentIndex": parent})

    def _add(self, key: str, artifact: dict[str, Any]) -> int:
        self._index[key] = len(self.entries)
        self.entries.append(artifact)
        return self._index[key]


def _member_uri(member: str) -> str:
    from urllib.parse import quote

    return quote(member, errors="surrogateescape")

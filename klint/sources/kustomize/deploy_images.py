"""Images a project's build sets at deploy time: the kubebuilder and operator-sdk layout.

``config/manager/kustomization.yaml`` names the image with a placeholder (``images: - name:
controller, newName: example.com/op, newTag: latest``) and the Makefile rewrites it before
every deploy or release (``cd config/manager && $(KUSTOMIZE) edit set image
controller=${IMG}``): the tag in git is not what is installed. Such an ``images:`` entry is
told by a Makefile of the repository (in the kustomization's folder or a folder above it,
up to the repository root) that runs ``kustomize edit set image <name>=…`` after ``cd`` to
that folder. The Makefiles are untrusted input: regular files only (no link), at most
``makefiles.MAX_MAKEFILE_BYTES`` each, never executed; their paths are part of the overlay's
cache key (:func:`makefile_candidates`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path

from klint.model.deploy_time import image_name
from klint.sources.kustomize.makefiles import MAKEFILE_NAMES, read_makefile
from klint.sources.scans import once

MAX_LEVELS = 16  # folders above a kustomization looked at (up to the repository root)
# ``cd <folder> && <...kustomize...> edit set image <arguments>`` on one line
_SET_IMAGE = re.compile(
    r"""\bcd\s+(?P<q>["']?)(?P<dir>[^\s;&|()"'$`]+)(?P=q)\s*&&"""
    r"""(?P<tool>[^\n;|]*?kustomize[^\n;|]*?)\s+edit\s+set\s+image\s+(?P<args>[^\n;&|#]*)""",
    re.IGNORECASE,
)
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]*")


def makefile_candidates(directories: Iterable[str], root: Path) -> list[str]:
    """The Makefile paths looked at for the kustomizations in ``directories``: in each
    folder and those above it, up to ``root`` (found or not: what is there is part of the
    cache key)."""
    top = os.path.normpath(str(root))
    found: set[str] = set()
    for directory in directories:
        folder = os.path.normpath(directory)
        for _ in range(MAX_LEVELS):
            if folder != top and not folder.startswith(top.rstrip("/") + "/"):
                break
            found.update(os.path.join(folder, name) for name in MAKEFILE_NAMES)
            if folder == top:
                break
            folder = os.path.dirname(folder)
    return sorted(found)


def image_edits(makefile: str) -> dict[str, dict[str, int]]:
    """The ``edit set image`` commands of one Makefile: kustomization folder (absolute,
    normalised) → image name → the 1-based line that sets it."""
    text = read_makefile(makefile)
    if text is None:
        return {}
    base = os.path.dirname(makefile)
    edits: dict[str, dict[str, int]] = {}
    for number, line in enumerate(text.splitlines(), 1):
        for match in _SET_IMAGE.finditer(line):
            folder = os.path.normpath(os.path.join(base, match["dir"]))
            for argument in match["args"].split():
                arg = argument.strip("\"'")
                name = _NAME.match(arg)
                if name is None or arg[name.end() : name.end() + 1] not in ("=", ":", "@"):
                    continue
                image = name.group(0)
                edits.setdefault(folder, {}).setdefault(image, number)
    return edits


def deploy_time_images(
    kustomizations: Iterable[tuple[str, object]], root: Path, show: Callable[[str], str]
) -> dict[str, str]:
    """Image names (``registry/repository``, as the build writes them) that a Makefile
    sets at deploy time, each with where (``Makefile:206``): from the ``images:`` entries of
    ``kustomizations`` ((folder, parsed data) pairs) that a Makefile's ``kustomize edit set
    image <name>=`` rewrites. ``show`` gives how a Makefile's path is displayed."""
    pairs = [(os.path.normpath(d), data) for d, data in kustomizations]
    edits: dict[str, dict[str, str]] = {}
    for makefile in makefile_candidates((d for d, _ in pairs), root):
        # a Makefile serves every overlay below it: read once per run (scans_shared)
        found_edits = once("makefile-images", makefile, partial(image_edits, makefile))
        for folder, names in found_edits.items():
            for name, line in names.items():
                shown = f"{show(makefile)}:{line}"
                edits.setdefault(folder, {}).setdefault(name, shown)
    found: dict[str, str] = {}
    for folder, data in pairs:
        named = edits.get(folder)
        images = data.get("images") if named and isinstance(data, dict) else None
        for entry in images if isinstance(images, list) else []:
            if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
                continue
            where = named.get(entry["name"]) if named else None
            new_name = entry.get("newName") or entry["name"]
            if where is not None and isinstance(new_name, str):
                found.setdefault(image_name(new_name), where)
    return found

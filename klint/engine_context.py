"""Whether a finding sits on a generated copy, fixed where it is generated from: a committed
kustomize build of an overlay the run lints, or ``helm template`` output of a chart the run
lints (:mod:`klint.model.declared` says which; this finds the document's comments)."""

from __future__ import annotations

from typing import Any

from klint.documents import Document
from klint.model import declared
from klint.model.component import Expectation
from klint.model.resource import Resource
from klint.sources.base import LoadedUnit, LoadSettings


def generated_copy(
    resource: Resource,
    path: str,
    loaded: LoadedUnit,
    settings: LoadSettings,
    shared: dict[Any, Any],
) -> Expectation | None:
    """The generated-copy context of a finding located at ``path``: on a committed
    kustomize build of an overlay the run lints (read on its own or by another build), or
    on a manifest rendered from a chart the run lints, whether the finding's document is
    that manifest or an object a kustomize build took from it (a base written by ``helm
    template``); a chart's own rendered output maps onto its templates instead."""
    built = declared.built_copy(path, settings.built_copies)
    if built is not None or not settings.linted_charts:
        return built
    document = resource.document
    if document.rendered:
        origin = _origin(resource, loaded)
        if origin is None:
            return None
        document = origin
    elif path != document.path:
        return None
    lines = document.text_lines
    key = ("# Source:", id(lines))  # read once per file
    if key not in shared:
        shared[key] = (declared.source_comments(lines), lines)
    comments = shared[key][0]
    line = document.root.start_mark.line + document.line_offset if comments else 0
    return declared.generated_copy(
        resource, declared.source_above(comments, line), settings.linted_charts
    )


def _origin(resource: Resource, loaded: LoadedUnit) -> Document | None:
    """The document of the file a built object came from, if its unit's locator knows it
    (a kustomize build does) and it was read with its lines."""
    find = getattr(loaded.locator, "origin_document", None)
    origin = find(resource) if find is not None else None
    if not isinstance(origin, Document) or origin.rendered or not origin.text_lines:
        return None
    return origin


def generated_secret(rule_id: str, resource: Resource, loaded: LoadedUnit) -> Expectation | None:
    """Secret data (KL604) that a chart's template generates at install (``genCA``,
    ``genSelfSignedCert``, ``randAlphaNum``…): no secret is committed, each render makes a
    new one. Its unit's locator says (a chart's does)."""
    if rule_id != "KL604" or resource.kind != "Secret":
        return None
    find = getattr(loaded.locator, "generated_data", None)
    generator = find(resource) if find is not None else None
    if not isinstance(generator, str):
        return None
    return Expectation(
        "generated-at-install",
        f"its data is generated at install by {generator} in the chart's template: no "
        "secret is committed",
        from_path=True,
    )

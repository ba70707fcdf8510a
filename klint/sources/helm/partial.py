"""A chart that stops rendering in one template, rendered again without it.

Helm aborts the whole render when one template calls ``fail`` (or breaks) with the values
used: ``{{ fail "mode must be set" }}`` in a validation template leaves every other template
unrendered, and a privileged container beside it unseen. Helm's message names the template
it stopped in (the top-level template, also when the ``fail`` sits in a helper it includes);
that template is left out of klint's copy and the chart rendered again, a few times at
most. The failure stays an input problem on its line: the chart was linted in part.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import PurePosixPath
from typing import TypeVar

from klint.sources.helm.output import HelmRenderError

R = TypeVar("R")

MAX_LEFT_OUT = 4  # templates left out at most (each one more render)


def render_without_failing(
    render: Callable[[tuple[str, ...]], R], error: HelmRenderError
) -> tuple[R, list[HelmRenderError]] | None:
    """``render(left_out)`` with each template that stops the render left out, from
    ``error`` on, and the failure of each template left out (``error`` first); None when a
    failure names no template of the chart (a helper, a link, a limit), names one already
    left out, or more than :data:`MAX_LEFT_OUT` fail."""
    failures: list[HelmRenderError] = []
    while _droppable(error) and len(failures) < MAX_LEFT_OUT:
        if any(error.template == failure.template for failure in failures):
            break
        failures.append(error)
        try:
            return render(tuple(str(failure.template) for failure in failures)), failures
        except HelmRenderError as again:
            error = again
    return None


def _droppable(error: HelmRenderError) -> bool:
    """A repeatable failure located in a template file (not a partial, whose named
    templates others include), other than a helper that is not there (a dependency not
    vendored: every template that includes it fails alike)."""
    if error.template is None or not error.repeatable or not error.values_can_fix:
        return False
    if 'no template "' in error.message:
        return False
    parts = PurePosixPath(error.template).parts
    return "templates" in parts and not parts[-1].startswith("_")

"""Python plugin checks from the ``klint.checks`` entry point group.

A plugin package declares, in its ``pyproject.toml``::

    [project.entry-points."klint.checks"]
    registry-allowlist = "my_pkg.checks:ALLOWED_REGISTRIES"

and the object it names is a :class:`klint.checks.base.Check` (or a list of them)::

    def allowed_registries(resource, context, params):
        for container in containers(pod_view(resource)) ...:
            yield Violation((*container.path, "image"), f"{container.label} ...")

    ALLOWED_REGISTRIES = Check("registry-allowlist", allowed_registries, "Images from ...",
                               params_schema={...}, defaults={...})

Custom rule files then name the check (``check: registry-allowlist``). Entry points are
loaded only when a selected rule names a check that is not built in, so they cost nothing
at start-up otherwise.
"""

from __future__ import annotations

from collections.abc import Iterable

from klint.checks import REGISTRY
from klint.checks.base import Check
from klint.errors import KlintError

GROUP = "klint.checks"


class PluginError(KlintError):
    """A plugin entry point that fails to load or does not provide checks."""


def ensure_checks(names: Iterable[str]) -> None:
    """Load plugin checks when any of ``names`` is not registered yet."""
    if all(name in REGISTRY for name in names):
        return
    from importlib.metadata import entry_points

    for entry in sorted(entry_points(group=GROUP), key=lambda e: e.name):
        try:
            loaded = entry.load()
        except Exception as error:  # a broken plugin is a clear usage error
            raise PluginError(
                f"plugin {entry.name!r} ({entry.value}) failed to load: "
                f"{type(error).__name__}: {error}"
            ) from None
        checks = [loaded] if isinstance(loaded, Check) else list(loaded or ())
        for check in checks:
            if not isinstance(check, Check):
                raise PluginError(
                    f"plugin {entry.name!r} ({entry.value}) must provide klint Check objects"
                )
            if check.name in REGISTRY and REGISTRY[check.name] is not check:
                raise PluginError(
                    f"plugin {entry.name!r} registers check {check.name!r}, which already exists"
                )
            REGISTRY[check.name] = check

"""Secret data a chart's template generates at install (``genSelfSignedCert``, ``genCA``,
``randAlphaNum``…): a rendered value that looks like committed key material, but no secret
is in the repository; each render makes a new one."""

from __future__ import annotations

import re
from collections.abc import Iterable

from klint.sources.helm.actions import actions_on, scan_actions, to_lf
from klint.sources.helm.template_map import locate_field

_GENERATOR = re.compile(
    r"\b(genCA|genCAWithKey|genSelfSignedCert|genSelfSignedCertWithKey|genSignedCert|"
    r"genSignedCertWithKey|genPrivateKey|randAlphaNum|randAlpha|randNumeric|randAscii|"
    r"randBytes|uuidv4|derivePassword)\b"
)
_ASSIGNMENT = re.compile(r"^\s*(\$\w+)\s*:?=\s*(.*)$", re.DOTALL)
_VARIABLE = re.compile(r"\$\w+")


def generated_at_install(text: str, section: int, keys: Iterable[str]) -> str | None:
    """The generator every ``data`` entry of the template's section renders from (a call on
    its line, or a variable assigned from one, ``$ca := genSelfSignedCert …`` then
    ``{{ $ca.Cert }}``); None when some entry is written otherwise."""
    text = to_lf(text)
    actions = scan_actions(text)
    generated: dict[str, str] = {}
    for action in actions:  # variables, in order: one may be made from another
        assigned = _ASSIGNMENT.match(action.body)
        if assigned is not None:
            name = _generator_in(assigned.group(2), generated)
            if name is not None:
                generated[assigned.group(1)] = name
    found: str | None = None
    for key in keys:
        match = locate_field(text, ("data", key), section)
        if match is None or not match.exact:
            return None
        bodies = (action.body for action in actions_on(text, match.line))
        names = [n for n in (_generator_in(body, generated) for body in bodies) if n]
        if not names:
            return None
        found = found or names[0]
    return found


def _generator_in(body: str, generated: dict[str, str]) -> str | None:
    """The generator an action calls, or that a variable it reads was made by."""
    called = _GENERATOR.search(body)
    if called is not None:
        return called.group(1)
    return next((generated[v] for v in _VARIABLE.findall(body) if v in generated), None)

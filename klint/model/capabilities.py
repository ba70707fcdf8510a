"""Linux capability names as the container runtime reads them.

containerd and CRI-O upper-case each name in ``securityContext.capabilities`` and add the
``CAP_`` prefix when it is missing, so ``all``, ``net_raw`` and ``CAP_NET_RAW`` mean ``ALL``
and ``NET_RAW`` at run time. Every capability rule compares names through
:func:`capability_name`; Pod Security admission, by contrast, compares them literally, which
the PSS rules report separately (a spelling the runtime accepts but admission rejects).
"""

from __future__ import annotations

from typing import Any


def capability_name(value: Any) -> str:
    """``"cap_net_raw"`` → ``"NET_RAW"``; ``""`` for a non-string."""
    if not isinstance(value, str):
        return ""
    name = value.strip().upper()
    return name[4:] if name.startswith("CAP_") else name


def capability_names(value: Any) -> set[str]:
    """The normalised names of a ``capabilities.add``/``drop`` list (anything else: none)."""
    if not isinstance(value, list):
        return set()
    return {name for name in (capability_name(item) for item in value) if name}

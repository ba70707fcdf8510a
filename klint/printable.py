"""Text that came from the input, made safe to print: no control characters, no bidi
reordering, no GitHub workflow commands. Used by every human format and by CLI errors."""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# Characters that reorder or hide text (bidi controls, Trojan Source), break lines outside
# ASCII, or that XML 1.0 cannot hold (lone surrogates, U+FFFE, U+FFFF).
INVISIBLE = re.compile(
    "[\u061c\u200b-\u200f\u202a-\u202e\u2028\u2029\u2066-\u2069\ufeff\ufffe\uffff\ud800-\udfff]"
)
# GitHub's runner runs ``##[command]`` anywhere in a log line, ``::command::`` at its start.
_LEGACY_COMMAND = "##["


def visible(text: str) -> str:
    """Spell out bidi controls and invisible characters as ``\\u202e`` text."""
    if not INVISIBLE.search(text):
        return text
    return INVISIBLE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def printable(text: str) -> str:
    """``text`` safe in a human format or a CI log: control characters (ANSI escapes,
    newlines) as ``\\x1b``, bidi and invisible characters as ``\\u202e``, and no legacy
    ``##[`` workflow command."""
    text = visible(_CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text))
    return text.replace(_LEGACY_COMMAND, "##\\[")


def line_start(path: str) -> str:
    """A path that starts an output line: :func:`printable`, and quoted when it would
    begin a workflow command (``::add-mask::x.yaml``), starts with a space or a quote."""
    text = printable(path)
    if text.startswith((":", '"')) or text[:1].isspace():
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return text

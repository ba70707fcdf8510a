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


def log_line(text: str) -> str:
    """One whole output line made of input text: :func:`printable` (so it stays one line),
    and never starting, after leading whitespace, with ``::``: GitHub's runner trims a line
    and reads ``::command::`` at its start. The first ``:`` is then written ``\\x3a``."""
    text = printable(text)
    return _neutral_start(text)


def log_lines(text: str) -> str:
    """Multi-line text (a rule page) with each line as :func:`log_line`."""
    return "\n".join(log_line(line) for line in text.split("\n"))


def diff_line(line: str) -> str:
    """One line of a unified diff: its line break (``\\n`` or ``\\r\\n``) and tabs kept, so
    the diff still applies to ordinary files; everything else as :func:`log_line`. A line
    without a line break gets ``\\ No newline at end of file``, as ``git diff`` writes."""
    body, end = line, ""
    for ending in ("\r\n", "\n"):
        if line.endswith(ending):
            body, end = line[: -len(ending)], ending
            break
    else:
        if line.endswith(_OTHER_BREAKS):  # Python splits lines there too: shown escaped
            end = "\n"
    body = _neutral_start("\t".join(printable(part) for part in body.split("\t")))
    return body + (end or "\n\\ No newline at end of file\n")


_OTHER_BREAKS = ("\r", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029")


def _neutral_start(text: str) -> str:
    stripped = text.lstrip()
    if not stripped.startswith("::"):
        return text
    at = len(text) - len(stripped)
    return text[:at] + "\\x3a" + text[at + 1 :]

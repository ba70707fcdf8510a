"""Repeatable renders: template functions that differ on every call get fixed stand-ins.

Sprig's ``randAlphaNum``, ``uuidv4``, ``now``, ``genCA``, ``htpasswd`` ... give a new value
each time a chart is rendered (``name: {{ .Release.Name }}-test-{{ randAlphaNum 5 }}``), so
the same chart would give different objects, messages and reports on every run. In klint's
copy of the chart (never the user's files; every chart of it: copy_rewrite.py) each call
is replaced by a deterministic function of the same arity, inside template actions only:
the lines of every template stay where they are, so every finding keeps its location. The
stand-ins are plain values (``randAlphaNum 22`` renders 22 ``x``, of the length asked for
when it is a number): a generated password is not a credential written in the repository,
and no rule should see it as one.
"""

from __future__ import annotations

import os
import re
from functools import partial
from pathlib import Path

from klint.sources.confine import read_inside
from klint.sources.helm.copy_rewrite import FileRewrite

# function → what replaces its name (same arguments, same kind of result)
_STAND_INS = {
    "randAlphaNum": "toString",
    "randAlpha": "toString",
    "randNumeric": "toString",
    "randAscii": "toString",
    "randBytes": "toString",
    "randInt": "min",
    "shuffle": "toString",
    "uuidv4": '(print "00000000-0000-4000-8000-000000000000")',
    "now": '(toDate "2006-01-02" "2000-01-01")',
    "bcrypt": "toString",
    "htpasswd": "print",
    "encryptAES": "print",
    "genPrivateKey": "toString",
}
# certificate generators: the whole call (name and arguments) becomes an empty certificate
_CERTIFICATES = frozenset(
    {
        "genCA",
        "genCAWithKey",
        "genSelfSignedCert",
        "genSelfSignedCertWithKey",
        "genSignedCert",
        "genSignedCertWithKey",
    }
)
_EMPTY_CERTIFICATE = '(dict "Cert" "" "Key" "")'
# random strings of a literal length (``randAlphaNum 5``, the usual form) keep their length:
# names stay within their limits and templates that check a length still pass
_SIZED = {"randAlphaNum": "x", "randAlpha": "x", "randNumeric": "0", "randAscii": "x"}
_LENGTH = re.compile(r"[ \t]+(\d{1,4})(?![\w.])")


def _calls(names: list[str]) -> re.Pattern[bytes]:
    """Any of ``names`` as a word: whether a template's bytes call one of them at all."""
    return re.compile(rb"\b(?:" + b"|".join(n.encode() for n in names) + rb")\b")


_NAMES = _calls([*_STAND_INS, *_CERTIFICATES])
# inside an action: a comment, a string, a raw string, a character, or a bare word
_ACTION_TOKEN = re.compile(
    r'/\*.*?\*/|"(?:[^"\\\n]|\\.)*"|`[^`]*`|\'(?:[^\'\\\n]|\\.)*\'|[.$]?[A-Za-z_][A-Za-z0-9_]*',
    re.S,
)
_ACTION = re.compile(r"\{\{(.*?)\}\}", re.S)


def repeatable_source(text: str, stand_ins: dict[str, str] | None = None) -> str:
    """``text`` with every nondeterministic function call in its actions replaced (and the
    functions of ``stand_ins``: name → the function that stands in for it)."""
    names = _STAND_INS if stand_ins is None else {**_STAND_INS, **stand_ins}
    return _ACTION.sub(lambda m: "{{" + _rewrite_action(m.group(1), names) + "}}", text)


def _rewrite_action(body: str, stand_ins: dict[str, str]) -> str:
    """One action's text with its calls replaced; newlines are kept, so lines stay."""
    out: list[str] = []
    position = 0
    while (match := _ACTION_TOKEN.search(body, position)) is not None:
        word = match.group(0)
        out.append(body[position : match.start()])
        position = match.end()
        sized = _LENGTH.match(body, position) if word in _SIZED else None
        if sized is not None:
            out.append(f'repeat {sized.group(1)} "{_SIZED[word]}"')
            position = sized.end()
        elif word in _CERTIFICATES:
            end = _command_end(body, position)
            while end > position and body[end - 1] in " \t\r\n":
                end -= 1  # the space before ``}}``, ``|`` or ``)`` stays
            out.append(_EMPTY_CERTIFICATE + "\n" * body.count("\n", position, end))
            position = end
        else:
            out.append(stand_ins.get(word, word))
    out.append(body[position:])
    return "".join(out)


def _command_end(body: str, position: int) -> int:
    """Where the command whose arguments start at ``position`` ends: a ``|`` or an unmatched
    ``)`` outside strings, or the end of the action."""
    depth = 0
    while position < len(body):
        match = _ACTION_TOKEN.match(body, position)
        if match is not None:
            position = match.end()
            continue
        char = body[position]
        if char == "(":
            depth += 1
        elif char == ")":
            if depth == 0:
                return position
            depth -= 1
        elif char == "|" and depth == 0:
            return position
        position += 1
    return position


def _rewritten_bytes(
    calls: re.Pattern[bytes], stand_ins: dict[str, str] | None, data: bytes, _shown: str
) -> bytes | None:
    """A template's bytes with its calls replaced; None when it makes none of ``calls`` (or
    is not UTF-8: Helm fails on it with its own message)."""
    if calls.search(data) is None:
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return repeatable_source(text, stand_ins).encode("utf-8")


# ``required "msg" V`` → ``default "msg" V``: V when it is set, else the message stands in
# for it (same arguments, in pipelines too: ``V | required "msg"``)
REQUIRED_STAND_IN = {"required": "default"}
_NAMES_OR_REQUIRED = _calls([*_STAND_INS, *_CERTIFICATES, *REQUIRED_STAND_IN])


_REQUIRED_MESSAGE = re.compile(r'\brequired\s+(?:"((?:[^"\\\n]|\\.)*)"|`([^`]*)`)')
_MAX_TEMPLATE_BYTES = 1024 * 1024


def required_messages(chart_dir: Path, root: Path) -> frozenset[str]:
    """The messages of the ``required`` calls in the templates of a chart folder and its
    subchart folders: what a placeholder render writes for the values they guard."""
    found: set[str] = set()
    for folder, directories, names in os.walk(chart_dir):
        directories[:] = sorted(d for d in directories if not d.startswith("."))
        if "templates" not in Path(folder).relative_to(chart_dir).parts:
            continue
        for name in names:
            raw = read_inside(Path(folder) / name, root, _MAX_TEMPLATE_BYTES)
            if raw is None or b"required" not in raw:
                continue
            text = raw.decode("utf-8", "replace")
            for quoted, raw_string in _REQUIRED_MESSAGE.findall(text):
                message = raw_string or quoted.replace('\\"', '"').replace("\\\\", "\\")
                if message.strip():
                    found.add(message)
    return frozenset(found)


# the templates of each chart of the copy (rewritten by copy_rewrite.py)
TEMPLATES = FileRewrite(
    lambda parts: parts[0] == "templates", partial(_rewritten_bytes, _NAMES, None)
)
# the same, for a render where every value a template marks ``required`` has a placeholder:
# its message (a chart whose defaults do not render and that has no ci/ values)
TEMPLATES_WITH_PLACEHOLDERS = FileRewrite(
    lambda parts: parts[0] == "templates",
    partial(_rewritten_bytes, _NAMES_OR_REQUIRED, REQUIRED_STAND_IN),
)

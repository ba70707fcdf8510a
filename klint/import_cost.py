"""Work that importing klint's dependencies does for nothing on a klint run, avoided.

PyYAML's ``yaml.reader`` compiles, at import, the pattern its pure-Python reader uses to
find unprintable characters. klint reads YAML through libyaml (``CBaseLoader``), which never
uses it, yet compiling it costs ~8 % of a one-file ``klint check`` (the regex compiler
builds a bitmap of every code point of its large ranges in Python). :func:`prime_yaml_reader`
puts an equivalent pattern (the same character set, written as the characters it excludes,
~40× cheaper to compile) in the ``re`` module's cache under PyYAML's pattern, so its
``re.compile`` returns it. ``tests/test_import_cost.py`` checks that the two sets are equal
over every code point and that the cached one is the one PyYAML gets.
"""

from __future__ import annotations

import builtins
import marshal
import os
import re
import stat
import sys
from importlib._bootstrap_external import MAGIC_NUMBER
from types import CodeType, ModuleType
from typing import Any

# yaml/reader.py (PyYAML 3.x-6.x): Reader.NON_PRINTABLE, character for character
YAML_NON_PRINTABLE = "[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
# the same set: every character that range list leaves out
NON_PRINTABLE = "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff\ufffe\uffff]"


def prime_yaml_reader() -> None:
    """Make PyYAML's import-time compile of its unprintable-character pattern a cache hit."""
    cache = getattr(re, "_cache", None)  # the re module's own (3.10-3.13: type, text, flags)
    if "yaml.reader" in sys.modules or not isinstance(cache, dict):
        return
    cache.setdefault((str, YAML_NON_PRINTABLE, 0), re.compile(NON_PRINTABLE))


class DataclassCode:
    """The code ``dataclasses`` compiles for each class, kept between runs.

    ``@dataclass`` writes the source of ``__init__``, ``__repr__``, ``__eq__``, ``__hash__``
    and (frozen) ``__setattr__``/``__delattr__`` and compiles it with ``exec``: ~360
    compiles, a sixth of a one-file run. While :meth:`installed` is on, the ``exec`` the
    ``dataclasses`` module calls looks the source text up first: the code object is the
    one ``compile`` made for exactly that text (same filename, flags and optimisation, so
    the functions are the ones ``dataclasses`` would make). The table lives beside the
    catalogue index in ``$XDG_CACHE_HOME/klint``, one file per Python build, written only
    by us (0600, owned by the user, never through a link, under an absolute cache folder;
    anything else is ignored), as Python's own ``__pycache__`` holds code. It keeps the
    texts runs used, and starts again from one run's texts past ``_MAX_CODES`` entries.
    """

    def __init__(self, path: str | None, codes: dict[str, CodeType]) -> None:
        self.path = path
        self.codes = codes
        self.used: dict[str, CodeType] = {}
        self._module: ModuleType | None = None

    @classmethod
    def load(cls) -> DataclassCode:
        """The table of this Python build, empty when it is missing or not trustworthy."""
        path = _code_table_path()
        codes: dict[str, CodeType] = {}
        if path is not None:
            try:
                handle = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
                with os.fdopen(handle, "rb") as source:
                    info = os.fstat(source.fileno())
                    if stat.S_ISREG(info.st_mode) and _ours(info):
                        codes = _code_table(marshal.loads(source.read()))
            except (OSError, EOFError, ValueError, TypeError):
                codes = {}
        return cls(path, codes)

    def exec(self, source: Any, globals: Any = None, locals: Any = None) -> None:
        """``exec`` for ``dataclasses``: a known source text runs its kept code object."""
        if type(source) is str:
            code = self.codes.get(source)
            if code is None:
                code = compile(source, "<string>", "exec", dont_inherit=True)
            self.used[source] = code
            source = code
        builtins.exec(source, globals, locals)

    def install(self) -> None:
        """Route the ``exec`` of ``dataclasses`` through :meth:`exec`."""
        import dataclasses

        if "exec" not in vars(dataclasses):
            self._module = dataclasses
            dataclasses.exec = self.exec  # type: ignore[attr-defined]

    def uninstall(self) -> None:
        """Give ``dataclasses`` the built-in ``exec`` back and keep what this run compiled."""
        if self._module is not None:
            vars(self._module).pop("exec", None)
            self._module = None
        if self.path is None or self.used.keys() <= self.codes.keys():
            return  # nothing new compiled
        table = {**self.codes, **self.used} if len(self.codes) < _MAX_CODES else self.used
        try:
            data = marshal.dumps(table)
            folder = os.path.dirname(self.path)
            os.makedirs(folder, mode=0o700, exist_ok=True)
            temporary = f"{self.path}.{os.getpid()}.tmp"
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
            with os.fdopen(os.open(temporary, flags, 0o600), "wb") as out:
                out.write(data)
            os.replace(temporary, self.path)
        except (OSError, ValueError):
            pass


_MAX_CODES = 4000


def _code_table_path() -> str | None:
    """Where this Python build's table lives (None where file ownership cannot be checked)."""
    if not hasattr(os, "getuid"):
        return None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    if not os.path.isabs(base):  # no home: never a path inside the folder being linted
        return None
    build = f"{sys.implementation.cache_tag}-{sys.hexversion:x}-{MAGIC_NUMBER.hex()}"
    return os.path.join(base, "klint", f"dataclass-code-{build}.marshal")


def _ours(info: os.stat_result) -> bool:
    """Written by klint for this user: owned by them, readable by no one else (a checked-out
    or copied file is not 0600)."""
    return info.st_uid == os.getuid() and not info.st_mode & 0o077


def _code_table(value: object) -> dict[str, CodeType]:
    """``value`` when it is a table of source text → code object, else an empty one."""
    if not isinstance(value, dict):
        return {}
    table: dict[str, CodeType] = {}
    for source, code in value.items():
        if type(source) is not str or type(code) is not CodeType:
            return {}
        table[source] = code
    return table

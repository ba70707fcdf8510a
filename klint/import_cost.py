"""Work that importing klint's dependencies does for nothing on a klint run, avoided.

PyYAML's ``yaml.reader`` compiles, at import, the pattern its pure-Python reader uses to
find unprintable characters. klint reads YAML through libyaml (``CBaseLoader``), which never
uses it, yet compiling it costs ~8 % of a one-file ``klint check`` (the regex compiler
builds a bitmap of every code point of its large ranges in Python). :func:`prime_yaml_reader`
puts an equivalent pattern (the same character set, written as the characters it excludes,
~40× cheaper to compile) in the ``re`` module's cache under PyYAML's pattern, so its
``re.compile`` returns it. ``tests/test_import_cost.py`` checks that the two sets are equal
over every code point and that the cached one is the one PyYAML gets.

Two tables keep, between runs, what the imports compile the same way every time: the code
``dataclasses`` writes for each class (:class:`DataclassCode`) and the code ``re`` makes for
each module-level pattern (:class:`RegexCode`). Both live in the per-user cache, one file per
Python build, trusted only as :mod:`klint.user_cache` trusts a file.
"""

from __future__ import annotations

import _sre  # type: ignore[import-not-found]  # CPython's regex engine, no stubs
import builtins
import marshal
import re
import sys
from importlib._bootstrap_external import MAGIC_NUMBER
from types import CodeType, ModuleType
from typing import Any

from klint.user_cache import cache_file, read_private, write_private

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
        data = read_private(path)
        if data is not None:
            try:
                codes = _code_table(marshal.loads(data))
            except (EOFError, ValueError, TypeError):
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
        write_private(self.path, lambda: marshal.dumps(table))


_MAX_CODES = 4000


def _code_table_path(family: str = "dataclass-code") -> str | None:
    """Where this Python build's table lives (None where file ownership cannot be checked)."""
    build = f"{sys.implementation.cache_tag}-{sys.hexversion:x}-{MAGIC_NUMBER.hex()}"
    return cache_file(f"{family}-{build}.marshal")


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


RegexKey = tuple[str | bytes, int]  # (pattern, flags) as re.compile was called
RegexArgs = tuple[Any, ...]  # what re._compiler passed to _sre.compile for it


class RegexCode:
    """The code ``re`` makes for each pattern compiled while the modules import, kept
    between runs.

    Compiling a pattern parses it and writes its matching code in Python (module-level
    patterns cost ~10 % of a one-file run); the C engine then builds the pattern object from
    that code, and checks it, in microseconds. While :meth:`install` is on, the compile that
    ``re`` calls looks the (pattern, flags) up first and hands the kept arguments to the C
    engine again; anything new is compiled by ``re`` itself, and the arguments it passes to
    the engine are recorded. The table is per Python build (the code format is CPython's
    own), written like the dataclass table, and used only where ``re._compiler`` is laid
    out as in CPython 3.11-3.13.
    """

    def __init__(self, path: str | None, codes: dict[RegexKey, RegexArgs]) -> None:
        self.path = path
        self.codes = codes
        self.used: dict[RegexKey, RegexArgs] = {}
        self._compile: Any = None  # re._compiler.compile while installed
        self._recorded: RegexArgs | None = None

    @classmethod
    def load(cls) -> RegexCode:
        """The table of this Python build, empty when it is missing or not trustworthy."""
        path = _code_table_path("regex-code")
        codes: dict[RegexKey, RegexArgs] = {}
        data = read_private(path)
        if data is not None:
            try:
                codes = _regex_table(marshal.loads(data))
            except (EOFError, ValueError, TypeError):
                codes = {}
        return cls(path, codes)

    def compile(self, pattern: Any, flags: int = 0) -> Any:
        """``re._compiler.compile`` through the table."""
        key = (pattern, int(flags))
        kept = self.codes.get(key) if type(pattern) in (str, bytes) else None
        if kept is not None:
            try:
                compiled = _sre.compile(*kept)  # the engine checks the code it is given
            except (RuntimeError, TypeError, ValueError, OverflowError):
                kept = None
            else:
                self.used[key] = kept
                return compiled
        self._recorded = None
        compiled = self._compile(pattern, flags)
        if self._recorded is not None and type(pattern) in (str, bytes) and not flags & re.DEBUG:
            self.used[key] = self._recorded
        return compiled

    def _record(self, *args: Any) -> Any:
        """``_sre.compile`` as ``re._compiler`` calls it: its arguments noted (the code's
        named opcodes as plain numbers, which the engine reads the same)."""
        if len(args) == 6 and type(args[2]) is list:
            words = [int(word) for word in args[2]]
            self._recorded = (args[0], int(args[1]), words, int(args[3]), dict(args[4]), args[5])
        return _sre.compile(*args)

    def install(self) -> None:
        """Route the compiles of ``re`` through :meth:`compile` (where it is laid out as
        this expects)."""
        compiler = sys.modules.get("re._compiler")
        if compiler is None or getattr(compiler, "_sre", None) is not _sre:
            return
        if sys.version_info[:2] not in _REGEX_LAYOUTS or self._compile is not None:
            return
        self._compile = compiler.compile
        compiler._sre = _Recorder(self._record)  # type: ignore[attr-defined]
        compiler.compile = self.compile  # type: ignore[attr-defined]

    def uninstall(self) -> None:
        """Give ``re`` its compile back and keep what this run compiled."""
        if self._compile is not None:
            compiler = sys.modules["re._compiler"]
            compiler.compile = self._compile  # type: ignore[attr-defined]
            compiler._sre = _sre  # type: ignore[attr-defined]
            self._compile = None
        if self.path is None or self.used.keys() <= self.codes.keys():
            return  # nothing new compiled
        table = {**self.codes, **self.used} if len(self.codes) < _MAX_CODES else self.used
        write_private(self.path, lambda: marshal.dumps(table))


_REGEX_LAYOUTS = {(3, 11), (3, 12), (3, 13)}


class _Recorder:
    """Stands in for the ``_sre`` module inside ``re._compiler``: ``compile`` recorded."""

    def __init__(self, record: Any) -> None:
        self.compile = record

    def __getattr__(self, name: str) -> Any:
        return getattr(_sre, name)


def _regex_table(value: object) -> dict[RegexKey, RegexArgs]:
    """``value`` when it is a table of (pattern, flags) → engine arguments, else empty."""
    if not isinstance(value, dict):
        return {}
    table: dict[RegexKey, RegexArgs] = {}
    for key, args in value.items():
        if not (
            type(key) is tuple
            and len(key) == 2
            and type(key[0]) in (str, bytes)
            and type(key[1]) is int
            and type(args) is tuple
            and len(args) == 6
            and args[0] == key[0]
            and type(args[1]) is int
            and type(args[2]) is list
            and all(type(word) is int for word in args[2])
            and type(args[3]) is int
            and type(args[4]) is dict
            and type(args[5]) is tuple
        ):
            return {}
        table[key] = args
    return table

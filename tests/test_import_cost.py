"""klint.import_cost: import-time work avoided without changing what the imports make."""

from __future__ import annotations

import marshal
import os
import re
import subprocess
import sys
import types
from pathlib import Path
from typing import Any

import pytest

from klint import import_cost
from klint.import_cost import NON_PRINTABLE, YAML_NON_PRINTABLE, DataclassCode, RegexCode
from tests.conftest import REPO, run_cli

EXAMPLE = "fixtures/examples/insecure-deployment.yaml"


def test_the_primed_pattern_finds_what_pyyaml_s_pattern_finds() -> None:
    every_character = "".join(map(chr, range(sys.maxunicode + 1)))  # lone surrogates too
    ours = [m.start() for m in re.compile(NON_PRINTABLE).finditer(every_character)]
    theirs = [m.start() for m in re.compile(YAML_NON_PRINTABLE).finditer(every_character)]
    assert ours == theirs
    assert 0x1F in ours and 0xD800 in ours and 0x20 not in ours  # not vacuous


def test_pyyaml_gets_the_primed_pattern() -> None:
    # A fresh interpreter: importing klint first makes yaml.reader's compile a cache hit,
    # which fails here if PyYAML ever spells its pattern differently.
    code = "import klint, yaml.reader; print(ascii(yaml.reader.Reader.NON_PRINTABLE.pattern))"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
    )
    assert done.stdout.rstrip("\n") == ascii(NON_PRINTABLE)


# Dataclasses of every shape dataclasses writes code for; annotations are evaluated (no
# __future__ import) so the generated __init__'s annotations show any flag difference.
CLASSES = """
import dataclasses
from dataclasses import InitVar, dataclass, field
from typing import ClassVar

@dataclass(frozen=True)
class Frozen:
    a: int
    b: str = "x"
    c: tuple[int, ...] = field(default_factory=tuple)

@dataclass(order=True, unsafe_hash=True)
class Ordered:
    a: int
    b: list[int] = field(default_factory=list, compare=False, repr=False)
    k: ClassVar[int] = 3

@dataclass(kw_only=True, slots=True)
class KwOnly:
    a: int
    b: InitVar[int] = 0
    def __post_init__(self, b: int) -> None:
        pass

@dataclass(eq=False, repr=False)
class Plain:
    a: "Frozen | None" = None
"""


def _methods(namespace: dict[str, object]) -> dict[str, object]:
    """Every generated method's code, annotations and defaults, by class and name."""
    found: dict[str, object] = {}
    for class_name in ("Frozen", "Ordered", "KwOnly", "Plain"):
        cls = namespace[class_name]
        for name, value in vars(cls).items():
            function = getattr(value, "__wrapped__", value)  # __repr__'s recursion guard
            code = getattr(function, "__code__", None)
            if code is not None:
                found[f"{class_name}.{name}"] = (
                    code,
                    repr(function.__annotations__),  # type: ignore[attr-defined]
                    function.__defaults__,  # type: ignore[attr-defined]
                    function.__kwdefaults__,  # type: ignore[attr-defined]
                    function.__qualname__,  # type: ignore[attr-defined]
                )
    return found


def _define(table: DataclassCode | None) -> dict[str, object]:
    module = types.ModuleType("klint_dataclass_sample")
    sys.modules[module.__name__] = module  # dataclasses reads string annotations there
    if table is not None:
        table.install()
    try:
        exec(compile(CLASSES, "sample.py", "exec", dont_inherit=True), vars(module))
    finally:
        if table is not None:
            table.uninstall()
        del sys.modules[module.__name__]
    return vars(module)


@pytest.fixture
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    return tmp_path


def test_classes_made_through_the_table_are_the_classes_dataclasses_makes(
    cache_home: Path,
) -> None:
    plain = _methods(_define(None))
    first = DataclassCode.load()
    assert first.codes == {}
    compiled = _methods(_define(first))  # compiled by the hook, then written
    table = DataclassCode.load()
    assert table.codes and table.codes.keys() == first.used.keys()
    replayed = _methods(_define(table))  # every code object from the file
    assert table.used.keys() <= table.codes.keys()
    assert len(plain) >= 14
    assert plain == compiled == replayed
    assert "Frozen.__setattr__" in plain and "Ordered.__lt__" in plain
    sample = _define(table)
    frozen = sample["Frozen"](1)  # type: ignore[operator]
    assert repr(frozen) == "Frozen(a=1, b='x', c=())" and hash(frozen) == hash((1, "x", ()))
    with pytest.raises(Exception, match="cannot assign"):
        frozen.a = 2


def test_the_table_is_private_and_written_only_when_something_was_compiled(
    cache_home: Path,
) -> None:
    _define(DataclassCode.load())
    path = Path(str(DataclassCode.load().path))
    assert path.parent == cache_home / "klint"
    assert path.stat().st_mode & 0o777 == 0o600
    before = path.stat().st_mtime_ns
    os.utime(path, ns=(before - 10**9, before - 10**9))
    _define(DataclassCode.load())  # all known: not rewritten
    assert path.stat().st_mtime_ns == before - 10**9


@pytest.mark.parametrize(
    "damage",
    ["group-writable", "readable", "garbage", "not-a-table", "wrong-values", "link", "empty"],
)
def test_a_table_that_is_damaged_or_not_ours_is_ignored(cache_home: Path, damage: str) -> None:
    _define(DataclassCode.load())
    path = Path(str(DataclassCode.load().path))
    good = path.read_bytes()
    if damage == "group-writable":
        path.chmod(0o620)
    elif damage == "readable":  # as a checked-out or copied file is
        path.chmod(0o644)
    elif damage == "garbage":
        path.write_bytes(b"\x00garbage" * 10)
    elif damage == "not-a-table":
        path.write_bytes(marshal.dumps(["def f(): pass"]))
    elif damage == "wrong-values":
        path.write_bytes(marshal.dumps({"def f(): pass": "not code"}))
    elif damage == "empty":
        path.write_bytes(b"")
    else:
        target = cache_home / "elsewhere.marshal"
        target.write_bytes(good)
        target.chmod(0o600)
        path.unlink()
        path.symlink_to(target)
    table = DataclassCode.load()
    assert table.codes == {}
    assert _methods(_define(table)) == _methods(_define(None))


def test_the_hook_is_gone_after_the_imports() -> None:
    import dataclasses

    table = DataclassCode(None, {})
    table.install()
    assert vars(dataclasses)["exec"] == table.exec
    table.uninstall()
    assert "exec" not in vars(dataclasses)
    assert import_cost._code_table_path() is None or "klint" in str(import_cost._code_table_path())


def test_the_fast_path_prints_the_same_with_a_new_and_a_kept_table(tmp_path: Path) -> None:
    env = {"XDG_CACHE_HOME": str(tmp_path / "home")}
    args = ("check", "--no-cache", "--format", "sarif", EXAMPLE)
    typer = run_cli(*args, env={**env, "KLINT_NO_FAST_PATH": "1"})
    first = run_cli(*args, env=env)
    assert list((tmp_path / "home" / "klint").glob("dataclass-code-*.marshal"))
    assert list((tmp_path / "home" / "klint").glob("regex-code-*.marshal"))
    second = run_cli(*args, env=env)
    for done in (first, second):
        assert (done.stdout, done.stderr, done.returncode) == (
            typer.stdout,
            typer.stderr,
            typer.returncode,
        )


def test_no_table_under_a_relative_cache_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Without a home, a relative folder would be inside the repository being linted.
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CACHE_HOME", "relative-cache")
    table = DataclassCode.load()
    assert table.path is None and table.codes == {}
    _define(table)
    assert not (tmp_path / "relative-cache").exists()


# Patterns of every shape the regex compiler writes code for: groups, flags, bytes.
PATTERNS: list[tuple[str | bytes, int]] = [
    (r"(?i)(passw(?:or)?d|token)(?P<tail>[_.-]key)?$", 0),
    (r"(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{10,}\.eyJ", 0),
    (r"^\s*#\s*Source:\s*(\S+)\s*$", re.MULTILINE),
    (r"a b  # comment\n c", re.VERBOSE | re.IGNORECASE),
    (r"[\u00e9-\u00ff]+|\d{2,5}", re.ASCII),
    (rb"\x00[^\x01-\x08]+(?=end)", 0),
    (r"(?P<name>.+?)-v?\d+(?:\.\d+)*", re.DOTALL),
]
SAMPLES = [
    "db_password",
    "Token_key",
    "x eyJabcdefghijk.eyJ",
    "# Source: a/b.yaml",
    "ABC",
    "chart-v1.2",
]


def _compiled(table: RegexCode | None) -> list[re.Pattern[Any]]:
    """Each of PATTERNS compiled by ``re``'s compiler (past re's own cache), through
    ``table`` when given."""
    import re._compiler as compiler  # type: ignore[import-not-found]

    if table is not None:
        table.install()
    try:
        return [compiler.compile(pattern, flags) for pattern, flags in PATTERNS]
    finally:
        if table is not None:
            table.uninstall()


def _behaviour(compiled: list[re.Pattern[Any]]) -> list[object]:
    seen: list[object] = []
    for pattern in compiled:
        seen.append((pattern.pattern, pattern.flags, pattern.groups, dict(pattern.groupindex)))
        for sample in SAMPLES:
            text: Any = (
                sample.encode() + b"\x00\x09end" if isinstance(pattern.pattern, bytes) else sample
            )
            match = pattern.search(text)
            seen.append(match.group(0) if match else None)
    return seen


def test_patterns_made_through_the_table_are_the_patterns_re_makes(cache_home: Path) -> None:
    plain = _compiled(None)
    first = RegexCode.load()
    assert first.codes == {}
    recorded = _compiled(first)  # compiled by re, arguments recorded, then written
    table = RegexCode.load()
    assert table.codes.keys() == first.used.keys() == {(p, int(f)) for p, f in PATTERNS}
    replayed = _compiled(table)  # every pattern built from the file's code
    assert table.used.keys() == table.codes.keys()
    # Pattern equality compares the engine code word for word, the flags and the text.
    assert plain == recorded == replayed
    assert _behaviour(plain) == _behaviour(replayed)
    assert "password" in _behaviour(replayed) and "Token_key" in _behaviour(replayed)


@pytest.mark.parametrize(
    "damage", ["readable", "garbage", "not-a-table", "wrong-key", "other-pattern", "bad-code"]
)
def test_a_regex_table_that_is_damaged_or_not_ours_is_not_used(
    cache_home: Path, damage: str
) -> None:
    _compiled(RegexCode.load())
    path = Path(str(RegexCode.load().path))
    good = marshal.loads(path.read_bytes())
    key = (PATTERNS[0][0], PATTERNS[0][1])
    if damage == "readable":
        path.chmod(0o644)
    elif damage == "garbage":
        path.write_bytes(b"\x00garbage" * 10)
    elif damage == "not-a-table":
        path.write_bytes(marshal.dumps([key]))
    elif damage == "wrong-key":
        path.write_bytes(marshal.dumps({**good, "abc": good[key]}))
    elif damage == "other-pattern":  # arguments of another pattern under this key
        path.write_bytes(marshal.dumps({**good, key: good[(PATTERNS[1][0], PATTERNS[1][1])]}))
    else:  # well-formed but not code the engine accepts: that entry is compiled again
        args = good[key]
        path.write_bytes(marshal.dumps({**good, key: (*args[:2], [0] * 5, *args[3:])}))
    table = RegexCode.load()
    if damage != "bad-code":
        assert table.codes == {}
    assert _compiled(table) == _compiled(None)


def test_the_regex_hook_is_gone_after_the_imports() -> None:
    import _sre
    import re._compiler as compiler  # type: ignore[import-not-found]

    original = compiler.compile
    table = RegexCode(None, {})
    table.install()
    assert compiler.compile == table.compile and compiler._sre is not _sre
    table.uninstall()
    assert compiler.compile is original and compiler._sre is _sre
